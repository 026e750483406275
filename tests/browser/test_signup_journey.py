"""A newcomer's way in, in a real browser: sign up, confirm by e-mail, be a member.

The server runs in another process, so ``mail.outbox`` stays empty here: the live server
writes its mail to files (see conftest), and the test reads the confirmation link from there.
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from accounts.models import Organisation, User

PASSWORD = "Quartier-Ruhr-2026!"
CONFIRM_LINK = re.compile(r"(http://\S+/accounts/confirm-email/[^/\s]+/)")


def wait_for_mail(live, to: str, timeout: float = 5.0):
    deadline = time.monotonic() + timeout
    received = []
    while time.monotonic() < deadline:
        received += live.new_mails()
        for message in received:
            if message["To"] == to:
                return message
        time.sleep(0.1)
    pytest.fail(f"No mail to {to}; received: {[str(m['To']) for m in received]}")


def test_signup_with_municipal_address_makes_an_approved_member(page, live, axe, watch):
    page.goto("/")
    page.get_by_role("navigation", name="Benutzerkonto").get_by_role(
        "link", name="Registrieren"
    ).click()
    expect(page).to_have_url(f"{live.url}/accounts/signup/")

    page.locator('input[name="display_name"]').fill("Eva Neumann")
    page.locator('input[name="handle"]').fill("eva-neumann")
    page.locator('input[name="email"]').fill("eva.neumann@bochum.de")
    page.locator('input[name="password1"]').fill(PASSWORD)
    page.locator('input[name="password2"]').fill(PASSWORD)
    page.locator('input[name="accept_terms"]').check()
    page.get_by_role("main").get_by_role("button", name="Registrieren").click()

    expect(page).to_have_url(f"{live.url}/accounts/confirm-email/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bestätigen Sie Ihre E-Mail-Adresse")
    axe(page)
    user = User.objects.get(email="eva.neumann@bochum.de")
    assert user.handle == "eva-neumann"
    assert user.membership != User.Membership.APPROVED  # not before the address is confirmed

    mail = wait_for_mail(live, "eva.neumann@bochum.de")
    assert "Bitte bestätigen Sie Ihre E-Mail-Adresse" in str(mail["Subject"])
    match = CONFIRM_LINK.search(mail.get_body(("plain",)).get_content())
    assert match, "no confirmation link in the mail"
    link = match.group(1)
    assert link.startswith(live.url)

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("E-Mail-Adresse bestätigen")
    axe(page)
    page.get_by_role("main").get_by_role("button", name="Bestätigen").click()
    expect(page).to_have_url(f"{live.url}/")
    expect(page.get_by_role("main")).to_contain_text("eva.neumann@bochum.de bestätigt")

    user.refresh_from_db()
    bochum = Organisation.objects.get(slug="bochum")
    assert user.membership == User.Membership.APPROVED
    assert user.organisation == bochum
    assert user.is_approved_member

    page.goto("/u/eva-neumann/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Eva Neumann")
    expect(page.get_by_role("main").get_by_role("link", name="Stadt Bochum")).to_be_visible()
    axe(page)

    response = page.goto("/u/")
    assert response.status == 200
    expect(page.get_by_role("main")).to_contain_text("Eva Neumann · Stadt Bochum")
    axe(page)
    watch.assert_clean()


@pytest.mark.parametrize("path", ["/", "/accounts/signup/"])
def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(page, live, watch, path):
    page.goto(path)
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Zum Inhalt springen")
    expect(skip_link).to_be_focused()
    # Visible while focused (it is moved off-screen otherwise).
    box = skip_link.bounding_box()
    assert box is not None
    assert box["y"] >= 0
    assert box["height"] > 0

    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live.url}{path}#inhalt")
    expect(page.locator("main#inhalt")).to_be_focused()
    watch.assert_clean()
