"""The site shell in a real browser: German, accessible (axe: WCAG 2.1 A/AA), self-contained.

Every test also checks that the pages asked no other host for anything and that the console
stayed free of errors (a CSP violation is reported there).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from accounts.models import User

# Tags, collections and search join the navigation as their issues land.
MAIN_NAV = ["Aktuelles", "Themenfelder", "Schlagwörter", "Suche"]
FOOTER_LINKS = ["Impressum", "Datenschutz", "Erklärung zur Barrierefreiheit", "Leichte Sprache"]
# The demo categories that guests see; the others are for members or moderators only.
PUBLIC_CATEGORIES = [
    "Innenstädte und Zentren",
    "Öffentlicher Raum und Grün",
    "Beteiligung und Kommunikation",
]
MEMBER_CATEGORIES = ["Brachflächen und Konversion", "Klimaanpassung"]
FIELD_ERRORS = {
    "handle": "Der Benutzername muss 3 bis 30 Zeichen lang sein",
    "password1": "Dieses Passwort ist zu kurz",
    "accept_terms": "Bitte stimmen Sie den Nutzungsbedingungen und der Netiquette zu.",
}


def assert_german(page) -> None:
    assert page.locator("html").get_attribute("lang") == "de"


def test_home_page_is_german_accessible_and_self_contained(page, axe, watch, screenshot_dir):
    response = page.goto("/")
    assert response.status == 200
    page.screenshot(path=screenshot_dir / "home.png", full_page=True)

    assert_german(page)
    expect(page).to_have_title("Aktuelles – Stadtumbau-Forum")
    expect(page.get_by_role("heading", level=1)).to_have_text("Aktuelles aus dem Netzwerk")
    nav = page.get_by_role("navigation", name="Hauptnavigation")
    for name in MAIN_NAV:
        expect(nav.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name="Aktuelles")).to_have_attribute("aria-current", "page")

    aside = page.get_by_role("complementary")
    for name in PUBLIC_CATEGORIES:
        expect(aside.get_by_role("link", name=name, exact=True)).to_be_visible()
    for name in MEMBER_CATEGORIES:
        expect(page.get_by_role("main").get_by_role("link", name=name, exact=True)).to_have_count(0)
    # The demo discussion in a public category is listed; member-only threads are not.
    main = page.get_by_role("main")
    expect(
        main.get_by_role("link", name="Verfügungsfonds: Wie viel Verwaltung verträgt das Ehrenamt?")
    ).to_be_visible()
    expect(main.get_by_text("Zwischenerwerb von Schrottimmobilien")).to_have_count(0)

    footer = page.get_by_role("contentinfo")
    for name in FOOTER_LINKS:
        expect(footer.get_by_role("link", name=name, exact=True)).to_be_visible()

    axe(page)
    watch.assert_clean()


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/accounts/login/", "Anmeldung"),
        ("/accounts/signup/", "Registrieren"),
        ("/o/bochum/", "Stadt Bochum"),
        ("/barrierefreiheit/", "Erklärung zur Barrierefreiheit"),
    ],
)
def test_public_page_is_accessible(page, axe, watch, path, heading):
    response = page.goto(path)
    assert response.status == 200
    assert_german(page)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    axe(page)
    watch.assert_clean()


def test_not_found_page_is_accessible(page, live, axe, watch):
    path = "/diese-seite-gibt-es-nicht/"
    # Chromium logs the 404 status of the document itself as a console error.
    watch.expect_console_error(f"status of 404 (Not Found) ({live.url}{path})")
    response = page.goto(path)
    assert response.status == 404
    assert_german(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Seite nicht gefunden")
    expect(page.get_by_role("main").get_by_role("link", name="Zur Startseite")).to_be_visible()
    axe(page)
    watch.assert_clean()


def test_signup_form_with_errors_is_accessible(page, axe, watch):
    page.goto("/accounts/signup/")
    page.get_by_label("Ihr Name").fill("Eva Neumann")
    page.get_by_label("Benutzername").fill("ä!")
    page.get_by_label("Dienstliche E-Mail-Adresse").fill("eva.neumann@bochum.de")
    page.locator('input[name="password1"]').fill("kurz")
    page.locator('input[name="password2"]').fill("kurz")
    # accept_terms stays unchecked.
    with page.expect_navigation() as navigation:
        page.get_by_role("main").get_by_role("button", name="Registrieren").click()
    assert navigation.value.status == 200

    expect(page.get_by_role("alert")).to_contain_text("Felder brauchen Ihre Aufmerksamkeit")
    for name, message in FIELD_ERRORS.items():
        field = page.locator(f'input[name="{name}"]')
        expect(field).to_have_attribute("aria-invalid", "true")
        # The message is announced with the field: aria-describedby refers to it.
        expect(field).to_have_accessible_description(re.compile(re.escape(message)))
    expect(page.locator(".kern-error")).to_have_count(len(FIELD_ERRORS))
    expect(page.get_by_label("Ihr Name")).to_have_value("Eva Neumann")
    assert not User.objects.filter(email="eva.neumann@bochum.de").exists()

    axe(page)
    watch.assert_clean()


def test_moderator_queue_with_two_factor_login_is_accessible(page, axe, watch, sign_in, totp):
    moderator = User.objects.get(email="miriam.koch@agentur.example.org")
    secret = totp.activate(moderator)

    sign_in(page, moderator.email, totp_secret=secret, on_code_step=axe)
    response = page.goto("/mod/members/")
    assert response.status == 200
    assert page.url.endswith("/mod/members/")
    assert_german(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Mitgliedschaften prüfen")
    # The demo's pending person (a free-mail address) waits in the queue.
    expect(page.get_by_role("heading", name="Lena Fischer")).to_be_visible()
    expect(page.get_by_role("button", name="Lena Fischer aufnehmen")).to_be_visible()

    axe(page)
    watch.assert_clean()


def test_the_watch_sees_csp_violations_and_other_hosts(page, live, watch):
    """The two checks above are not vacuous: the strict CSP refuses an inline script (and
    says so on the console), and a request to another host is noticed."""
    page.goto("/")
    page.evaluate(
        """() => {
            const script = document.createElement('script');
            script.textContent = 'document.body.dataset.inline = "ran"';
            document.body.appendChild(script);
        }"""
    )
    assert page.evaluate("document.body.dataset.inline") is None
    page.route("http://fremd.example/**", lambda route: route.fulfill(body="fremd"))
    page.goto("http://fremd.example/")

    assert any("Content Security Policy" in e for e in watch.console_errors), watch
    assert watch.foreign_requests == ["GET http://fremd.example/"]
    with pytest.raises(AssertionError, match="Requests to other hosts"):
        watch.assert_clean()
