"""The digest pages under axe-core: a member chooses a digest (with an error first), a visitor
asks for the public digest, and the pages behind the links in a digest e-mail."""

from __future__ import annotations

from urllib.parse import urlparse

from playwright.sync_api import expect

from accounts.models import User
from forum import mailtokens
from forum.models import DigestSubscription

JONAS = "jonas.becker@bochum.de"


def test_member_digest_settings_and_mail_link_pages_are_accessible(page, live, sign_in, axe, watch):
    sign_in(page, JONAS)
    page.goto("/digest/")
    expect(page.get_by_role("heading", level=1)).to_have_text("E-Mail-Digest")
    axe(page)
    # Without a section: the error is at the field, and the choices made stay.
    page.get_by_role("radio", name="wöchentlich").check()
    page.get_by_label("Wochentag (bei wöchentlich)").select_option(label="Freitag")
    watch.expect_console_error("status of 400")
    with page.expect_navigation():
        page.get_by_role("button", name="Speichern").click()
    expect(page.get_by_text("Bitte wählen Sie mindestens eine Rubrik.").first).to_be_visible()
    expect(page.get_by_label("Wochentag (bei wöchentlich)")).to_have_value("4")
    axe(page)
    page.get_by_role("checkbox", name="Neue und neu gelöste Fragen").check()
    page.get_by_role("checkbox", name="Fragen, bei denen Sie helfen können").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Speichern").click()
    expect(page.locator(".messages")).to_contain_text("Ihre Digest-Einstellungen sind gespeichert.")
    subscription = DigestSubscription.objects.get(user=User.objects.get(email=JONAS))
    assert subscription.sections == ["questions", "help"] and subscription.weekday == 4

    # The pages behind a digest's links work without a session.
    page.context.clear_cookies()
    page.goto(urlparse(mailtokens.digest_manage_url(subscription)).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Digest verwalten")
    axe(page)
    page.goto(urlparse(mailtokens.digest_unsubscribe_url(subscription, "help")).path)
    expect(page.get_by_role("heading", level=1)).to_have_text("Abbestellen")
    axe(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Rubrik abbestellen").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Abbestellt")
    subscription.refresh_from_db()
    assert subscription.sections == ["questions"]
    watch.expect_console_error("status of 400")
    page.goto("/digest/abmelden/kaputt/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Link ungültig")
    axe(page)
    watch.assert_clean()


def test_public_digest_request_is_accessible(page, live, axe, watch):
    page.goto("/digest/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Öffentlicher E-Mail-Digest")
    axe(page)
    page.get_by_label("E-Mail-Adresse").fill("leserin@example.org")
    with page.expect_navigation():
        page.get_by_role("button", name="Digest anfordern").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bitte bestätigen Sie Ihre Adresse")
    axe(page)
    watch.assert_clean()
