"""The figures page for the agency in a real browser: accessible (axe) with and without errors."""

from __future__ import annotations

from playwright.sync_api import expect

from accounts.models import User

MODERATOR = "miriam.koch@agentur.example.org"


def test_figures_page_is_accessible_and_explains_bad_input(
    page, live, sign_in, totp, axe, watch, screenshot_dir
):
    secret = totp.activate(User.objects.get(email=MODERATOR))
    sign_in(page, MODERATOR, totp_secret=secret)

    assert page.goto("/mod/figures/").status == 200
    expect(page.get_by_role("heading", level=1)).to_have_text("Kennzahlen")
    nav = page.get_by_role("navigation", name="Moderation")
    expect(nav.get_by_role("link", name="Kennzahlen")).to_have_attribute("aria-current", "page")
    expect(page.get_by_role("table").first).to_be_visible()
    expect(page.get_by_role("link", name="Als CSV-Datei herunterladen")).to_be_visible()
    page.screenshot(path=screenshot_dir / "mod-figures.png", full_page=True)
    axe(page)

    # The end before the start: the message sits next to the field, the table is gone.
    page.goto("/mod/figures/?von=2025-05&bis=2025-02")
    expect(page.get_by_role("alert")).to_contain_text("liegt vor dem ersten")
    expect(page.get_by_label("Bis (Monat)")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("table")).to_have_count(0)
    axe(page)
    watch.assert_clean()
