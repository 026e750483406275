"""Collections (Sammlungen) in a real browser.

A moderator (with two-factor login) creates a collection, adds three threads from their
thread pages, reorders the chapters with the keyboard only and publishes it; a visitor reads
the public reader view and finds it in the list. A published members-only collection stays
invisible to visitors (list, feed, URL → 404) and is readable for a signed-in member.

The demo data holds only one thread in a public category ("Verfügungsfonds …"), and the
reader view leaves out chapters a reader may not read. So that the visitor sees all three
chapters, two more public threads are written through the services before the journey.

The search (/search/) finds threads only, not collections: nothing to check there.
"""

from __future__ import annotations

import pytest
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import override
from playwright.sync_api import Locator, Page, expect

from accounts.models import User
from forum.models import Category, Collection, CollectionEntry, Notification, Thread
from forum.services import collections as collection_service
from forum.services.posts import post_create
from forum.services.threads import answer_accept, thread_create

MODERATOR = "miriam.koch@agentur.example.org"
MEMBER = "sabine.hoffmann@krefeld.de"
DEMO_PUBLIC = "Verfügungsfonds: Wie viel Verwaltung verträgt das Ehrenamt?"  # by Aylin Demir
DEMO_MEMBERS = "Zwischenerwerb von Schrottimmobilien: Wie finanzieren Sie den Ankauf?"
FREQUENCY = "Passantenfrequenz in der Innenstadt: Wie zählen Sie?"
POCKET_PARKS = "Pocket-Parks im Quartier: Wer übernimmt die Pflege?"
FREQUENCY_ANSWER = "Wir zählen mit Laserscannern an vier Standorten, seit 2023 täglich."

TITLE = "Beteiligung im öffentlichen Raum"
INTRO = "Drei Themen zu **Beteiligung** und Pflege im öffentlichen Raum."
NOTE = "Ein gutes Beispiel für einfache Anträge."
MEMBERS_TITLE = "Leerstand intern: Zwischenerwerb in der Praxis"
CONTROL_TITLE = "Offene Sammlung zum Vergleich"


# --- Helpers ----------------------------------------------------------------------------------


@pytest.fixture
def public_threads(live) -> dict[str, Thread]:
    """The public demo thread and two more public threads (one with an accepted answer)."""
    users = {u.email: u for u in User.objects.all()}
    frequency = thread_create(
        users[MEMBER],
        category=Category.objects.get(slug="innenstaedte-und-zentren"),
        kind="question",
        title=FREQUENCY,
        body="Wir wollen die Wirkung des Citymanagements belegen. Wie messen Sie die Frequenz?",
    )
    answer = post_create(
        users["thomas.wagner@gelsenkirchen.de"], thread=frequency, body=FREQUENCY_ANSWER
    )
    answer_accept(users[MEMBER], post=answer)
    parks = thread_create(
        users["thomas.wagner@gelsenkirchen.de"],
        category=Category.objects.get(slug="oeffentlicher-raum-und-gruen"),
        kind="discussion",
        title=POCKET_PARKS,
        body="Kleine Grünflächen sind schnell gebaut, aber wer pflegt sie nach der Förderung?",
    )
    return {t.title: t for t in (Thread.objects.get(title=DEMO_PUBLIC), frequency, parks)}


def success(page: Page, text: str) -> None:
    expect(page.locator(".messages")).to_contain_text(text)


def stand_today() -> str:
    with override("de"):
        return "Stand " + date_format(timezone.localdate(), "j. F Y")


def toc(page: Page) -> Locator:
    return page.get_by_role("navigation", name="Inhalt").get_by_role("listitem")


def chapter_headings(page: Page) -> Locator:
    return page.locator("section.reader-chapter h2")


def expect_order(page: Page, titles: list[str]) -> None:
    expect(toc(page)).to_have_text(titles)
    expect(chapter_headings(page)).to_have_text(
        [f"{n}. {title}" for n, title in enumerate(titles, start=1)]
    )


def tab_to(page: Page, target: Locator, limit: int = 150) -> int:
    """Press Tab until ``target`` has the focus; returns the number of presses."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return presses
    focused = page.evaluate("document.activeElement && document.activeElement.outerHTML")
    pytest.fail(f"Tab did not reach the button in {limit} presses; focus on: {focused}")


def move_button(page: Page, title: str, direction: str) -> Locator:
    # The accessible name says which chapter moves: "„<title>“ nach oben verschieben".
    name = f"„{title}“ {direction} verschieben"
    return page.locator("section.reader-chapter").get_by_role("button", name=name, exact=True)


def add_from_thread_page(page: Page, thread: Thread, *, note: str = "") -> None:
    page.goto(f"/t/{thread.pk}/")
    moderation = page.locator("details.thread-moderation")
    moderation.locator("summary").filter(has_text="Moderation …").click()
    form = moderation.locator("form.collect-form")
    expect(form).to_be_visible()
    form.get_by_label("Sammlung", exact=True).select_option(label=f"{TITLE} (Entwurf)")
    if note:
        form.get_by_label("Einordnung der Redaktion (Markdown)").fill(note)
    with page.expect_navigation():
        form.get_by_role("button", name="Zur Sammlung hinzufügen").click()
    success(page, f"Das Thema ist in der Sammlung „{TITLE}“.")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)


# --- Tests ------------------------------------------------------------------------------------


def test_moderator_builds_reorders_by_keyboard_and_publishes_visitor_reads(
    context, live, public_threads, new_context, sign_in, totp, axe
):
    moderator = context.new_page()
    secret = totp.activate(User.objects.get(email=MODERATOR))
    sign_in(moderator, MODERATOR, totp_secret=secret)

    # --- Create the collection (public) through the form.
    moderator.goto("/collections/")
    with moderator.expect_navigation():
        moderator.get_by_role("link", name="Neue Sammlung").click()
    assert moderator.url.endswith("/collections/neu/")
    moderator.get_by_label("Titel", exact=True).fill(TITLE)
    moderator.get_by_label("Einleitung (Markdown)").fill(INTRO)
    moderator.get_by_role("radio", name="öffentlich", exact=True).check()
    with moderator.expect_navigation():
        moderator.get_by_role("button", name="Anlegen").click()
    success(moderator, "Die Sammlung ist angelegt (Entwurf).")
    collection = Collection.objects.get(title=TITLE)
    assert (collection.visibility, collection.status) == ("public", "draft")
    url = collection.get_absolute_url()
    assert moderator.url.endswith(url)
    expect(moderator.get_by_text("Diese Sammlung hat noch keine Kapitel.")).to_be_visible()

    # A draft is a 404 for a visitor.
    visitor = new_context().new_page()
    visitor.context.watch.expect_console_error(f"status of 404 (Not Found) ({live.url}{url})")
    response = visitor.goto(url)
    assert response is not None and response.status == 404

    # --- Three threads, each from its thread page ("Moderation …").
    a, b, c = DEMO_PUBLIC, FREQUENCY, POCKET_PARKS
    add_from_thread_page(moderator, public_threads[a], note=NOTE)
    add_from_thread_page(moderator, public_threads[b])
    add_from_thread_page(moderator, public_threads[c])
    expect_order(moderator, [a, b, c])
    expect(move_button(moderator, a, "nach oben")).to_be_disabled()
    expect(move_button(moderator, c, "nach unten")).to_be_disabled()

    # --- Reorder with the keyboard only. A down (Enter): B, A, C.
    moderator.goto(url)
    tab_to(moderator, move_button(moderator, a, "nach unten"))
    with moderator.expect_navigation():
        moderator.keyboard.press("Enter")
    expect_order(moderator, [b, a, c])
    entries = {e.thread.title: e for e in collection.entries.select_related("thread")}
    assert moderator.url.endswith(f"{url}#kapitel-{entries[a].pk}")

    # Then C up (Space): B, C, A. Tab goes on from the moved chapter (the fragment target).
    presses = tab_to(moderator, move_button(moderator, c, "nach oben"))
    with moderator.expect_navigation():
        moderator.keyboard.press("Space")
    expect_order(moderator, [b, c, a])
    assert presses <= 8, f"{presses} Tab presses from the moved chapter to the next one"
    order = CollectionEntry.objects.filter(collection=collection).order_by("position")
    assert [e.thread.title for e in order] == [b, c, a]

    # The moderator view: status tools, the note, the accepted answer as key post.
    expect(moderator.get_by_role("heading", name="Redaktion", exact=True)).to_be_visible()
    expect(moderator.locator(f"#kapitel-{entries[a].pk} .reader-note")).to_contain_text(NOTE)
    key_post = moderator.locator(f"#kapitel-{entries[b].pk} .reader-key-post")
    expect(key_post.get_by_role("heading")).to_contain_text("Akzeptierte Antwort – Thomas Wagner")
    expect(key_post).to_contain_text(FREQUENCY_ANSWER)
    axe(moderator)

    # --- Publish.
    moderator.get_by_label("Stand", exact=True).select_option(label="veröffentlicht")
    with moderator.expect_navigation():
        moderator.get_by_role("button", name="Stand ändern").click()
    success(moderator, "Der Stand der Sammlung ist geändert.")
    collection.refresh_from_db()
    assert collection.status == "published" and collection.stand_date == timezone.localdate()
    # The authors of the threads heard of it.
    told = Notification.objects.filter(kind="collection").values_list("recipient__email", flat=True)
    assert sorted(told) == sorted(
        ["aylin.demir@stadtdo.de", MEMBER, "thomas.wagner@gelsenkirchen.de"]
    )

    # --- The visitor reads the reader view.
    response = visitor.goto(url)
    assert response is not None and response.status == 200
    expect(visitor.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(visitor.locator(".reader-head")).to_contain_text(stand_today())
    expect(visitor.locator(".reader-intro strong")).to_have_text("Beteiligung")
    expect_order(visitor, [b, c, a])
    expect(visitor.get_by_role("heading", name="Redaktion", exact=True)).to_have_count(0)
    expect(visitor.get_by_role("button", name="nach oben")).to_have_count(0)
    expect(visitor.get_by_role("button", name="Drucken oder als PDF speichern")).to_be_visible()
    # The table of contents leads to the chapters.
    visitor.get_by_role("navigation", name="Inhalt").get_by_role("link", name=a).click()
    assert visitor.url.endswith(f"#kapitel-{entries[a].pk}")
    axe(visitor)

    # ... and finds it in the list of collections.
    visitor.goto("/collections/")
    card = visitor.locator("li.collection-card").filter(has_text=TITLE)
    expect(card).to_have_count(1)
    expect(card).to_contain_text("3 Kapitel")
    expect(card).to_contain_text(stand_today())
    with visitor.expect_navigation():
        card.get_by_role("link", name=TITLE).click()
    assert visitor.url.endswith(url)

    for page in (moderator, visitor):
        page.context.watch.assert_clean()


def test_members_only_collection_is_invisible_to_visitors(live, page, watch, new_context, sign_in):
    moderator = User.objects.get(email=MODERATOR)
    threads = {t.title: t for t in Thread.objects.filter(title__in=[DEMO_PUBLIC, DEMO_MEMBERS])}
    members_only = collection_service.collection_create(
        moderator, title=MEMBERS_TITLE, intro="Nur für Mitglieder.", visibility="members"
    )
    for title in (DEMO_MEMBERS, DEMO_PUBLIC):
        collection_service.collection_add_thread(
            moderator, collection=members_only, thread=threads[title]
        )
    collection_service.collection_set_status(moderator, collection=members_only, status="published")
    # A public one as the control: the list and the feed do show published collections.
    control = collection_service.collection_create(moderator, title=CONTROL_TITLE)
    collection_service.collection_add_thread(
        moderator, collection=control, thread=threads[DEMO_PUBLIC]
    )
    collection_service.collection_set_status(moderator, collection=control, status="published")
    url = members_only.get_absolute_url()

    # --- The visitor: 404 by URL, not in the list, not in the feed.
    watch.expect_console_error(f"status of 404 (Not Found) ({live.url}{url})")
    response = page.goto(url)
    assert response is not None and response.status == 404
    expect(page.get_by_text(MEMBERS_TITLE)).to_have_count(0)

    page.goto("/collections/")
    expect(page.get_by_role("link", name=CONTROL_TITLE)).to_be_visible()
    expect(page.get_by_text(MEMBERS_TITLE)).to_have_count(0)

    feed = page.request.get("/feeds/sammlungen/")
    assert feed.status == 200
    assert "atom" in feed.headers.get("content-type", "")
    text = feed.text()
    assert CONTROL_TITLE in text
    assert MEMBERS_TITLE not in text
    assert url not in text

    # --- A signed-in member sees it in the list and reads it, the closed chapter included.
    member = new_context().new_page()
    sign_in(member, MEMBER)
    member.goto("/collections/")
    card = member.locator("li.collection-card").filter(has_text=MEMBERS_TITLE)
    expect(card).to_contain_text("nur für Mitglieder")
    expect(card).to_contain_text("2 Kapitel")
    with member.expect_navigation():
        card.get_by_role("link", name=MEMBERS_TITLE).click()
    expect(member.get_by_role("heading", level=1)).to_have_text(MEMBERS_TITLE)
    expect(member.locator(".reader-head")).to_contain_text("nur für Mitglieder")
    expect(member.locator(".reader-head")).to_contain_text(stand_today())
    expect_order(member, [DEMO_MEMBERS, DEMO_PUBLIC])

    for p in (page, member):
        p.context.watch.assert_clean()
