"""The forum's own pages under axe-core (WCAG 2.1 A and AA), signed in as a member.

The list pages with filters applied (home and a category page) are audited in
test_forum_journey.py, where an experience report makes the filters find something.
"""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from taggit.models import Tag

from forum.models import Thread

SABINE = "sabine.hoffmann@krefeld.de"
JONAS = "jonas.becker@bochum.de"
DEMO_QUESTION = "Zwischenerwerb von Schrottimmobilien: Wie finanzieren Sie den Ankauf?"
DEMO_REPORT = "Erfahrungsbericht: Zwischennutzung der Brache am Westpark mit Kulturvereinen"


def submit(page: Page, name: str):
    with page.expect_navigation() as navigation:
        page.get_by_role("main").get_by_role("button", name=name, exact=True).click()
    return navigation.value


def test_thread_pages_with_composer_are_accessible(page, live, sign_in, axe, watch):
    question = Thread.objects.get(title=DEMO_QUESTION)
    sign_in(page, SABINE)
    # Quote, accepted answer, result, mentions, "helpful" buttons and the reply composer.
    page.goto(f"{question.get_absolute_url()}?zitat=2")
    expect(page.get_by_role("region", name="Akzeptierte Antwort")).to_be_visible()
    expect(page.get_by_role("textbox", name="Ihre Antwort")).to_have_value(re.compile("^@thomas"))
    axe(page)

    # A reply without text: the page comes back with the error at the field.
    page.get_by_role("textbox", name="Ihre Antwort").fill("")
    watch.expect_console_error(
        f"status of 400 (Bad Request) ({live.url}/t/{question.pk}/antworten/)"
    )
    assert submit(page, "Absenden").status == 400
    box = page.get_by_role("textbox", name="Ihre Antwort")
    expect(box).to_have_attribute("aria-invalid", "true")
    expect(box).to_have_accessible_description(re.compile("Bitte schreiben Sie einen Text."))
    axe(page)

    # The preview of a reply.
    box.fill("**Vorschau** mit @thomas-wagner")
    assert submit(page, "Vorschau").status == 200
    expect(page.locator(".preview strong")).to_have_text("Vorschau")
    axe(page)

    # An experience report with its project profile.
    page.goto(Thread.objects.get(title=DEMO_REPORT).get_absolute_url())
    expect(page.get_by_role("region", name="Projektsteckbrief")).to_be_visible()
    axe(page)
    watch.assert_clean()


def test_new_thread_composer_is_accessible_also_after_a_failed_submit(
    page, live, sign_in, axe, watch
):
    sign_in(page, SABINE)
    page.goto("/t/neu/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Neues Thema")
    axe(page)

    # With the project profile shown, and a submit that misses category and programme.
    page.get_by_role("radio", name="Erfahrungsbericht").check()
    page.get_by_label("Titel", exact=True).fill("Kurz")
    page.get_by_role("textbox", name="Text", exact=True).fill("Mein Text bleibt erhalten.")
    axe(page)
    watch.expect_console_error(f"status of 400 (Bad Request) ({live.url}/t/neu/)")
    assert submit(page, "Absenden").status == 400

    expect(
        page.get_by_role("alert").filter(has_text="Ihr Text ist erhalten geblieben")
    ).to_be_visible()
    category = page.get_by_label("Themenfeld")
    expect(category).to_have_attribute("aria-invalid", "true")
    expect(category).to_have_accessible_description(re.compile("Bitte wählen Sie ein Themenfeld."))
    expect(page.get_by_role("textbox", name="Text", exact=True)).to_have_value(
        "Mein Text bleibt erhalten."
    )
    expect(page.get_by_role("radio", name="Erfahrungsbericht")).to_be_checked()
    profile = page.get_by_role("group", name="Projektsteckbrief (nur für Erfahrungsberichte)")
    expect(profile).to_be_visible()
    expect(profile.get_by_label("Programm / Förderung")).to_have_attribute("aria-invalid", "true")
    axe(page)
    watch.assert_clean()


def test_failed_question_submit_does_not_complain_about_the_project_profile(
    page, live, sign_in, watch
):
    sign_in(page, SABINE)
    page.goto("/t/neu/")
    page.get_by_label("Titel", exact=True).fill("Eine Frage ohne Themenfeld")
    watch.expect_console_error(f"status of 400 (Bad Request) ({live.url}/t/neu/)")
    assert submit(page, "Absenden").status == 400
    expect(page.get_by_label("Themenfeld")).to_have_attribute("aria-invalid", "true")
    profile = page.locator("fieldset.profile-fieldset")
    expect(profile).to_be_hidden()  # the kind is "Frage"
    watch.assert_clean()
    complaints = profile.locator(".kern-error, [role=alert]").all_text_contents()
    assert not [" ".join(text.split()) for text in complaints]


def test_tag_pages_are_accessible(page, sign_in, axe, watch):
    sign_in(page, SABINE)
    page.goto("/tags/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Schlagwörter")
    tag = Tag.objects.get(name="Zwischenerwerb")
    expect(
        page.get_by_role("link", name=re.compile(r"^Zwischenerwerb \d+ Themen$"))
    ).to_be_visible()
    axe(page)

    page.get_by_role("link", name=re.compile(r"^Zwischenerwerb ")).click()
    expect(page).to_have_url(re.compile(f"/tags/{tag.slug}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Zwischenerwerb")
    expect(page.get_by_role("main").get_by_role("link", name=DEMO_QUESTION)).to_be_visible()
    axe(page)
    watch.assert_clean()


def test_post_edit_history_and_summary_pages_are_accessible(page, sign_in, axe, watch):
    question = Thread.objects.get(title=DEMO_QUESTION)
    sign_in(page, SABINE)
    page.goto(question.get_absolute_url())
    page.locator("#post-1").get_by_role("link", name="Bearbeiten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Beitrag #1 bearbeiten")
    axe(page)
    body = page.get_by_role("textbox", name="Text", exact=True)
    body.fill(body.input_value() + "\n\nNachtrag: Der Rat hat im März entschieden.")
    submit(page, "Speichern")

    page.locator("#post-1").get_by_role("link", name="bearbeitet").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Verlauf von Beitrag #1")
    expect(page.get_by_role("region", name=re.compile("^Aktuelle Fassung"))).to_contain_text(
        "Nachtrag"
    )
    expect(page.get_by_role("region", name=re.compile("^Fassung bis"))).to_have_count(1)
    axe(page)

    page.goto(f"/t/{question.pk}/ergebnis/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Ergebnis festhalten")
    expect(page.get_by_label("Ergebnis")).to_have_value(re.compile("^1. Zwischenerwerb"))
    axe(page)
    submit(page, "Vorschau")
    expect(page.locator(".preview ol li")).to_have_count(3)
    axe(page)
    watch.assert_clean()


def test_thread_page_with_a_foreign_image_in_a_post_is_accessible(page, sign_in, axe, watch):
    from accounts.models import User
    from forum.services.posts import post_create

    question = Thread.objects.get(title=DEMO_QUESTION)
    thomas = User.objects.get(handle="thomas-wagner")
    post_create(thomas, thread=question, body='Plan: <img src="https://example.org/plan.png">')
    sign_in(page, SABINE)
    page.goto(question.get_absolute_url())
    watch.assert_clean()  # the image is not loaded from the other host
    axe(page)


def test_notification_centre_and_preferences_are_accessible(page, sign_in, axe, watch):
    sign_in(page, JONAS)  # the demo gives Jonas unread notifications
    page.goto("/notifications/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Benachrichtigungen")
    expect(page.locator(".notification--unread").first).to_be_visible()
    axe(page)
    page.get_by_role("button", name="Alle als gelesen markieren").click()
    expect(page.locator(".notification--unread")).to_have_count(0)
    expect(page.locator("[data-bell-count]")).to_be_hidden()
    page.goto("/notifications/einstellungen/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Benachrichtigungseinstellungen")
    axe(page)
    page.get_by_role("group", name="Antworten in beobachteten Themen").get_by_label("aus").check()
    page.get_by_role("button", name="Speichern").click()
    expect(
        page.get_by_text("Ihre Benachrichtigungseinstellungen sind gespeichert.")
    ).to_be_visible()
    expect(
        page.get_by_role("group", name="Antworten in beobachteten Themen").get_by_label("aus")
    ).to_be_checked()
    watch.assert_clean()
