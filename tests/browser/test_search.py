"""Search in a real browser: similar threads appear while a title is typed, and the search
page (results, filter panel, errors) is accessible and highlights what was found.

The live server reads the committed test database: threads made here and the demo threads
are indexed after their commit, through the signals, as in production.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from forum.models import Category, Thread
from forum.search.documents import search_index_incomplete
from tests.factories import make_thread

SABINE = "sabine.hoffmann@krefeld.de"
DEMO_QUESTION = "Zwischenerwerb von Schrottimmobilien: Wie finanzieren Sie den Ankauf?"
SIMILAR_PATH = "/search/aehnlich/"


def similar_requests(page: Page) -> list[str]:
    """The titles the page asked /search/aehnlich/ about, collected from now on."""
    asked: list[str] = []

    def on_request(request) -> None:
        parts = urlsplit(request.url)
        if parts.path == SIMILAR_PATH:
            asked.append(parse_qs(parts.query).get("titel", [""])[0])

    page.on("request", on_request)
    return asked


@pytest.fixture
def public_threads(live):
    """Three public threads about Fassaden, one a discussion."""
    jonas = User.objects.get(handle="jonas-becker")
    public = Category.objects.get(slug="oeffentlicher-raum-und-gruen")
    threads = [
        make_thread(
            jonas,
            category=public,
            title="Fassadenprogramm: Wie hoch ist Ihr Zuschuss pro Quadratmeter?",
            body="Wir überlegen, das Fassadenprogramm auf Hofflächen auszuweiten.",
        ),
        make_thread(
            jonas,
            category=public,
            kind="discussion",
            title="Begrünte Fassaden in der Altstadt",
            body="Unser Fassadenprogramm fördert seit 2023 auch Kletterpflanzen.",
        ),
        make_thread(
            jonas,
            category=public,
            title="Gestaltungssatzung und Werbeanlagen",
            body="Wie verbinden Sie die Satzung mit dem Fassadenprogramm?",
        ),
    ]
    assert not search_index_incomplete(), "indexing after commit did not run"
    return threads


def test_similar_threads_appear_while_a_title_is_typed(page, live, sign_in, watch):
    question = Thread.objects.get(title=DEMO_QUESTION)
    sign_in(page, SABINE)
    page.goto("/t/neu/")
    slot = page.locator("#similar-threads")
    expect(slot.get_by_role("link")).to_have_count(0)
    asked = similar_requests(page)

    title = page.get_by_label("Titel", exact=True)
    title.press_sequentially("Wie finanziert man den Zwischenerwerb?", delay=40)
    link = slot.get_by_role("link", name=DEMO_QUESTION)
    expect(link).to_be_visible(timeout=5_000)
    expect(link).to_have_attribute("href", question.get_absolute_url())
    expect(slot.locator("mark")).to_contain_text("Zwischenerwerb")
    # The requests wait for a pause in typing: not one per key press.
    assert 1 <= len(asked) <= 3, asked
    assert asked[-1] == "Wie finanziert man den Zwischenerwerb?"

    # Another subject: the box empties once the answer for the new title is in.
    unrelated = "Radverkehr und Fahrradstellplätze am Bahnhof"
    with page.expect_response(
        lambda response: (
            urlsplit(response.url).path == SIMILAR_PATH
            and parse_qs(urlsplit(response.url).query).get("titel") == [unrelated]
        )
    ):
        title.fill(unrelated)
    expect(slot.get_by_role("link")).to_have_count(0)
    expect(slot).to_have_text("")

    # And back: a few words of the old subject bring the suggestion back.
    title.fill("Zwischenerwerb einer Schrottimmobilie")
    again = slot.locator(f'a[href="{question.get_absolute_url()}"]')
    expect(again).to_be_visible(timeout=5_000)
    expect(again.locator("mark")).to_have_text(["Zwischenerwerb", "Schrottimmobilien"])
    watch.assert_clean()


def test_search_page_is_accessible_and_highlights_what_was_found(
    page, live, public_threads, axe, watch
):
    main = page.get_by_role("main")
    page.goto("/search/?q=Fassadenprogramm")
    hits = main.locator(".search-hit")
    expect(hits).to_have_count(3)
    expect(main.get_by_role("status")).to_contain_text("3 Themen gefunden")
    axe(page)

    # The filter panel, opened and applied.
    filters = main.locator("details.search-filters")
    expect(filters).not_to_have_attribute("open", "")
    main.get_by_text("Suche verfeinern").click()
    expect(filters.get_by_label("Art")).to_be_visible()
    axe(page)
    filters.get_by_label("Art").select_option(label="Diskussion")
    with page.expect_navigation():
        filters.get_by_role("button", name="Anwenden").click()
    assert "art=discussion" in page.url
    expect(hits).to_have_count(1)
    expect(hits.first.get_by_role("link")).to_have_text("Begrünte Fassaden in der Altstadt")
    expect(filters.get_by_label("Art")).to_have_value("discussion")
    axe(page)

    # A new search typed into the form keeps the filter and marks the matched words.
    box = main.get_by_role("searchbox", name="Suchbegriffe")
    box.fill("Kletterpflanzen")
    with page.expect_navigation():
        main.get_by_role("button", name="Suchen").click()
    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == ["Kletterpflanzen"] and query["art"] == ["discussion"]
    expect(hits).to_have_count(1)
    expect(hits.first.locator(".search-hit__snippet mark")).to_have_text(
        re.compile("^Kletterpflanzen")
    )
    expect(box).to_have_value("Kletterpflanzen")

    # Without the filter, the same way: marks in the titles and the snippets.
    page.goto("/search/")
    main.get_by_role("searchbox", name="Suchbegriffe").fill("Fassade")
    with page.expect_navigation():
        main.get_by_role("button", name="Suchen").click()
    expect(hits).to_have_count(3)
    expect(hits.locator(".search-hit__title mark").first).to_be_visible()
    expect(hits.locator(".search-hit__snippet mark").first).to_be_visible()
    axe(page)
    watch.assert_clean()


def test_search_page_with_invalid_filters_is_accessible(page, live, public_threads, axe, watch):
    page.goto("/search/?q=Fassadenprogramm&von=31.02.2024&schlagwort=Gibtsnicht")
    main = page.get_by_role("main")
    alert = main.get_by_role("alert")
    expect(alert).to_contain_text("Bitte geben Sie das Datum als TT.MM.JJJJ an.")
    expect(alert).to_contain_text("Ein Schlagwort „Gibtsnicht“ gibt es nicht.")
    expect(main.locator(".search-hit")).to_have_count(3)  # the query still runs
    expect(main.locator("details.search-filters")).to_have_attribute("open", "")
    axe(page)

    # The error links lead to their fields.
    alert.get_by_role("link", name=re.compile("^Schlagwort")).click()
    expect(main.get_by_label("Schlagwort")).to_be_focused()
    watch.assert_clean()
