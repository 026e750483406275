"""The search page (/search/) and the similar-threads suggestions (/search/aehnlich/, /t/neu/)
through HTTP: query counts, filters, invalid input, visibility, highlighting and escaping.

The same tests run on SQLite and on PostgreSQL, whichever database the suite runs on.
"""

from __future__ import annotations

import html
import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.utils.html import strip_tags

from forum.models import Category, ProjectProfile, Thread
from forum.permissions import visible_threads
from forum.search import similar_threads
from forum.services.posts import post_create
from forum.services.threads import ProfileData, answer_accept
from tests.factories import CategoryFactory, make_member, make_thread

SEARCH = "/search/"
SIMILAR = "/search/aehnlich/"
NEW_THREAD = "/t/neu/"
HIDDEN_BADGE = '<span class="badge">ausgeblendet</span>'
_HIT_RE = re.compile(r'<li class="search-hit">(.*?)</li>\s*(?=<li class="search-hit">|</ol>)', re.S)
_HIT_TITLE_RE = re.compile(r'<h2 class="search-hit__title"><a [^>]*>(.*?)</a></h2>', re.S)


# --- Fixtures and helpers -----------------------------------------------------------------------


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def other(network):
    """A member of another organisation (Krefeld)."""
    return make_member(email="ben.krause@krefeld.de", handle="ben-krause")


def page_html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


def hit_blocks(response) -> list[str]:
    return _HIT_RE.findall(page_html(response))


def hit_titles(response) -> list[str]:
    """The titles of the hits on a search page, in their order, as plain text."""
    return [
        html.unescape(strip_tags(_HIT_TITLE_RE.search(block).group(1)))
        for block in hit_blocks(response)
    ]


def found_count(response) -> int | None:
    """The number in "… Themen gefunden", or None when the page shows no summary."""
    match = re.search(
        r'class="kern-body search-summary" role="status">\s*(\d+) Them', page_html(response)
    )
    return int(match.group(1)) if match else None


def at(year: int, month: int, day: int) -> datetime:
    # Noon UTC is the same calendar day in Europe/Berlin: __date filters are not at an edge.
    return datetime(year, month, day, 12, tzinfo=UTC)


def set_dates(thread: Thread, *, created: datetime, activity: datetime | None = None) -> None:
    Thread.objects.filter(pk=thread.pk).update(
        created_at=created, last_activity_at=activity or created
    )


# --- Query counts -------------------------------------------------------------------------------


@pytest.mark.django_db
class TestQueryCount:
    # Visitor: categories, organisations, the ranked page with its total, rows, tags, documents,
    # and the collections matched beside the threads.
    # Member: also the session, the user and the user's and groups' permissions.
    @pytest.mark.parametrize(("signed_in", "queries"), [(False, 7), (True, 11)])
    def test_the_search_page_reads_a_fixed_number_of_queries(
        self, client, member, public, indexed, signed_in, queries, django_assert_num_queries
    ):
        if signed_in:
            client.force_login(member)

        def add(numbers):
            with indexed():
                for n in numbers:
                    make_thread(
                        member,
                        category=public,
                        title=f"Leerstand im Quartier {n}",
                        body=f"Wie gehen Sie mit dem Leerstand in Straße {n} um?",
                        tags=["Leerstand", f"Quartier {n}"],
                    )

        # PostgreSQL sets the planner options for the search in a transaction: one query, and
        # inside the test's transaction a savepoint and its release as well.
        if connection.vendor == "postgresql":
            queries += 3
        add(range(3))
        client.get(SEARCH, {"q": "Leerstand"})  # fills the caches a first visit fills
        with django_assert_num_queries(queries):
            few = client.get(SEARCH, {"q": "Leerstand"})
        assert len(hit_titles(few)) == 3

        add(range(3, 25))
        with django_assert_num_queries(queries):
            many = client.get(SEARCH, {"q": "Leerstand"})
        assert len(hit_titles(many)) == 20
        assert "25 Themen gefunden" in page_html(many)


# --- Filters ------------------------------------------------------------------------------------


@pytest.fixture
def corpus(member, other, moderator, public, indexed):
    """Seven threads that all mention Leerstand and differ in each filter's dimension."""
    second = CategoryFactory(
        visibility=Category.Visibility.PUBLIC, name="Innenstadt", slug="innenstadt"
    )
    with indexed():
        question = make_thread(
            member,
            category=public,
            title="Leerstand im Erdgeschoss",
            tags=["Zwischennutzung"],
        )
        solved = make_thread(other, category=second, title="Leerstand und Eigentümer")
        answer = post_create(member, thread=solved, body="Sprechen Sie die Eigentümer an.")
        answer_accept(other, post=answer)
        discussion = make_thread(
            member, category=public, kind="discussion", title="Leerstand als Chance"
        )
        announcement = make_thread(
            moderator, category=public, kind="announcement", title="Leerstand Fachtag"
        )
        report_efre = make_thread(
            other,
            category=second,
            kind="experience",
            title="Leerstand Ladenlokale Bericht",
            profile=ProfileData(
                organisation_id=None,
                programme=ProjectProfile.Programme.EFRE,
                status=ProjectProfile.Status.COMPLETED,
            ),
        )
        report_zentren = make_thread(
            member,
            category=public,
            kind="experience",
            title="Leerstand Kaufhaus Bericht",
            profile=ProfileData(
                organisation_id=None,
                programme=ProjectProfile.Programme.LEBENDIGE_ZENTREN,
                status=ProjectProfile.Status.RUNNING,
            ),
        )
        other_question = make_thread(
            other, category=public, title="Leerstand Wohnungen", tags=["Wohnen"]
        )
    set_dates(question, created=at(2024, 1, 10))
    set_dates(solved, created=at(2024, 2, 10))
    set_dates(discussion, created=at(2024, 3, 10))
    set_dates(announcement, created=at(2024, 4, 10))
    set_dates(report_efre, created=at(2024, 5, 10))
    set_dates(report_zentren, created=at(2024, 6, 10))
    set_dates(other_question, created=at(2024, 7, 10))
    return second


ALL = {
    "Leerstand im Erdgeschoss",
    "Leerstand und Eigentümer",
    "Leerstand als Chance",
    "Leerstand Fachtag",
    "Leerstand Ladenlokale Bericht",
    "Leerstand Kaufhaus Bericht",
    "Leerstand Wohnungen",
}
FILTER_CASES = [
    pytest.param(
        {"themenfeld": "innenstadt"},
        {"Leerstand und Eigentümer", "Leerstand Ladenlokale Bericht"},
        id="themenfeld",
    ),
    pytest.param({"schlagwort": "zwischennutzung"}, {"Leerstand im Erdgeschoss"}, id="schlagwort"),
    pytest.param({"schlagwort": "Wohnen"}, {"Leerstand Wohnungen"}, id="schlagwort-name"),
    pytest.param({"art": "discussion"}, {"Leerstand als Chance"}, id="art-discussion"),
    pytest.param({"art": "announcement"}, {"Leerstand Fachtag"}, id="art-announcement"),
    pytest.param(
        {"art": "experience"},
        {"Leerstand Ladenlokale Bericht", "Leerstand Kaufhaus Bericht"},
        id="art-experience",
    ),
    pytest.param(
        {"organisation": "krefeld"},
        {"Leerstand und Eigentümer", "Leerstand Ladenlokale Bericht", "Leerstand Wohnungen"},
        id="organisation",
    ),
    pytest.param({"geloest": "ja"}, {"Leerstand und Eigentümer"}, id="geloest-ja"),
    pytest.param(
        {"geloest": "nein"},
        {"Leerstand im Erdgeschoss", "Leerstand Wohnungen"},
        id="geloest-nein",
    ),
    pytest.param(
        {"von": "2024-03-01", "bis": "2024-05-31"},
        {"Leerstand als Chance", "Leerstand Fachtag", "Leerstand Ladenlokale Bericht"},
        id="von-bis-iso",
    ),
    pytest.param(
        {"von": "10.06.2024"},
        {"Leerstand Kaufhaus Bericht", "Leerstand Wohnungen"},
        id="von-german",
    ),
    pytest.param(
        {"bis": "10.01.2024"},
        {"Leerstand im Erdgeschoss"},
        id="bis-includes-the-day",
    ),
    pytest.param({"programm": "efre"}, {"Leerstand Ladenlokale Bericht"}, id="programm"),
    pytest.param({"stand": "running"}, {"Leerstand Kaufhaus Bericht"}, id="stand"),
    pytest.param(
        {"programm": "efre", "stand": "running"},
        set(),
        id="programm-and-stand",
    ),
    pytest.param(
        {"themenfeld": "innenstadt", "art": "question"},
        {"Leerstand und Eigentümer"},
        id="themenfeld-and-art",
    ),
]


@pytest.mark.django_db
class TestFilters:
    def test_the_query_alone_finds_all(self, client, corpus):
        assert set(hit_titles(client.get(SEARCH, {"q": "Leerstand"}))) == ALL

    @pytest.mark.parametrize(("params", "expected"), FILTER_CASES)
    def test_each_filter_narrows_the_hits(self, client, corpus, params, expected):
        response = client.get(SEARCH, {"q": "Leerstand", **params})
        assert set(hit_titles(response)) == expected
        assert "Einige Filter konnten nicht angewandt werden" not in page_html(response)
        assert '<details class="search-filters" open>' in page_html(response)

    @pytest.mark.parametrize(("params", "expected"), FILTER_CASES)
    def test_filters_without_a_query_list_the_filtered_threads(
        self, client, corpus, params, expected
    ):
        response = client.get(SEARCH, params)
        assert set(hit_titles(response)) == expected
        assert found_count(response) == len(expected)

    def test_browsing_lists_newest_activity_first(self, client, corpus):
        response = client.get(SEARCH, {"organisation": "krefeld"})
        assert hit_titles(response) == [
            "Leerstand Wohnungen",
            "Leerstand Ladenlokale Bericht",
            "Leerstand und Eigentümer",
        ]

    def test_without_query_and_filters_nothing_is_listed(self, client, corpus):
        assert hit_titles(client.get(SEARCH)) == []
        assert hit_titles(client.get(SEARCH, {"sortierung": "neu"})) == []


@pytest.mark.django_db
class TestSorting:
    def test_newest_orders_by_last_activity_and_relevance_by_rank(
        self, client, member, public, indexed
    ):
        with indexed():
            strong = make_thread(
                member,
                category=public,
                title="Verfügungsfonds",
                body="Verfügungsfonds, Verfügungsfonds und nochmals der Verfügungsfonds.",
                tags=["Verfügungsfonds"],
            )
            weak = make_thread(
                member,
                category=public,
                title="Bürgerbeteiligung im Quartier",
                body="Nebenbei: auch ein Verfügungsfonds kam vor.",
            )
            middle = make_thread(
                member,
                category=public,
                title="Quartiersmanagement",
                body="Wir sprechen über Personal und am Rande über den Verfügungsfonds.",
            )
        now = datetime.now(UTC)
        set_dates(strong, created=now - timedelta(days=30), activity=now - timedelta(days=3))
        set_dates(weak, created=now - timedelta(days=30), activity=now - timedelta(days=1))
        set_dates(middle, created=now - timedelta(days=30), activity=now - timedelta(days=2))

        newest = hit_titles(client.get(SEARCH, {"q": "Verfügungsfonds", "sortierung": "neu"}))
        assert newest == ["Bürgerbeteiligung im Quartier", "Quartiersmanagement", "Verfügungsfonds"]
        relevant = hit_titles(client.get(SEARCH, {"q": "Verfügungsfonds"}))
        assert relevant[0] == "Verfügungsfonds"
        assert set(relevant) == set(newest)

    def test_newest_also_orders_a_filtered_query(self, client, corpus):
        response = client.get(
            SEARCH, {"q": "Leerstand", "organisation": "krefeld", "sortierung": "neu"}
        )
        assert hit_titles(response) == [
            "Leerstand Wohnungen",
            "Leerstand Ladenlokale Bericht",
            "Leerstand und Eigentümer",
        ]


# --- Invalid input ------------------------------------------------------------------------------


@pytest.mark.django_db
class TestInvalidInput:
    def test_an_impossible_date_is_reported_and_the_rest_still_applies(self, client, corpus):
        response = client.get(
            SEARCH, {"q": "Leerstand", "von": "31.02.2024", "themenfeld": "innenstadt"}
        )
        content = page_html(response)
        assert "Einige Filter konnten nicht angewandt werden" in content
        assert "erstellt ab: Bitte geben Sie das Datum als TT.MM.JJJJ an." in content
        assert set(hit_titles(response)) == {
            "Leerstand und Eigentümer",
            "Leerstand Ladenlokale Bericht",
        }
        # What was typed stays in the form.
        assert 'name="q" type="search" value="Leerstand"' in content
        assert re.search(r'<option value="innenstadt"[^>]*selected', content)
        assert re.search(r'<input[^>]*name="von"[^>]*value="31.02.2024"', content)
        assert '<details class="search-filters" open>' in content

    def test_an_end_before_the_start_is_reported_and_the_start_still_applies(self, client, corpus):
        response = client.get(
            SEARCH,
            {"q": "Leerstand", "von": "2024-06-01", "bis": "2024-01-01", "art": "experience"},
        )
        content = page_html(response)
        assert "erstellt bis: Das Ende des Zeitraums liegt vor seinem Anfang." in content
        # "von" and "art" are valid and applied; the contradicting "bis" is left out.
        assert hit_titles(response) == ["Leerstand Kaufhaus Bericht"]
        assert re.search(r'<input[^>]*name="von"[^>]*value="2024-06-01"', content)
        assert re.search(r'<input[^>]*name="bis"[^>]*value="2024-01-01"', content)
        assert re.search(r'<option value="experience"[^>]*selected', content)
        assert 'value="Leerstand"' in content

    def test_an_unknown_tag_is_reported(self, client, corpus):
        response = client.get(SEARCH, {"q": "Leerstand", "schlagwort": "Gibtsnicht"})
        content = page_html(response)
        assert "Ein Schlagwort „Gibtsnicht“ gibt es nicht." in content
        assert set(hit_titles(response)) == ALL  # the query still runs
        assert re.search(r'<input[^>]*name="schlagwort"[^>]*value="Gibtsnicht"', content)

    def test_only_stop_words_give_a_hint(self, client, corpus):
        response = client.get(SEARCH, {"q": "die und"})
        content = page_html(response)
        assert "Ihre Suche besteht nur aus sehr häufigen Wörtern." in content
        assert hit_titles(response) == []

    def test_a_second_page_shows_the_next_hits(self, client, member, public, indexed):
        with indexed():
            for n in range(23):
                make_thread(member, category=public, title=f"Stadtumbau Projekt {n:02d}")
        first = client.get(SEARCH, {"q": "Stadtumbau"})
        assert "23 Themen gefunden" in page_html(first)
        assert 'href="?q=Stadtumbau&amp;seite=2"' in page_html(first)
        second = client.get(SEARCH, {"q": "Stadtumbau", "seite": "2"})
        first_titles, second_titles = hit_titles(first), hit_titles(second)
        assert len(first_titles) == 20 and len(second_titles) == 3
        assert not set(first_titles) & set(second_titles)
        assert set(first_titles) | set(second_titles) == {
            f"Stadtumbau Projekt {n:02d}" for n in range(23)
        }
        assert 'href="?q=Stadtumbau&amp;seite=1"' in page_html(second)

    def test_a_page_number_out_of_range_shows_the_last_page(self, client, member, public, indexed):
        with indexed():
            for n in range(21):
                make_thread(member, category=public, title=f"Stadtumbau Projekt {n:02d}")
        assert len(hit_titles(client.get(SEARCH, {"q": "Stadtumbau", "seite": "99"}))) == 1
        assert len(hit_titles(client.get(SEARCH, {"q": "Stadtumbau", "seite": "x"}))) == 20


# --- Visibility ---------------------------------------------------------------------------------


@pytest.mark.django_db
class TestVisibility:
    @pytest.fixture
    def threads(self, member, moderator, public, indexed):
        internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        staff = CategoryFactory(visibility=Category.Visibility.MODERATORS)
        with indexed():
            make_thread(member, category=public, title="Verfügungsfonds öffentlich abrechnen")
            make_thread(member, category=internal, title="Verfügungsfonds intern abrechnen")
            make_thread(moderator, category=staff, title="Verfügungsfonds Moderation abrechnen")
            hidden = make_thread(
                member, category=public, title="Verfügungsfonds ausgeblendet abrechnen"
            )
        Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)

    def test_a_visitor_finds_only_public_threads(self, client, threads):
        response = client.get(SEARCH, {"q": "Verfügungsfonds"})
        assert hit_titles(response) == ["Verfügungsfonds öffentlich abrechnen"]

    def test_a_visitor_gets_no_member_threads_suggested(self, client, threads):
        response = client.get(SIMILAR, {"titel": "Wie rechnen wir den Verfügungsfonds ab?"})
        seen = strip_tags(page_html(response))
        assert "Verfügungsfonds öffentlich abrechnen" in seen
        assert "Verfügungsfonds intern abrechnen" not in seen
        assert "Verfügungsfonds Moderation abrechnen" not in seen
        assert "Verfügungsfonds ausgeblendet abrechnen" not in seen

    def test_a_member_finds_member_threads_but_not_hidden_or_moderation_ones(
        self, client, member, threads
    ):
        client.force_login(member)
        response = client.get(SEARCH, {"q": "Verfügungsfonds"})
        assert set(hit_titles(response)) == {
            "Verfügungsfonds öffentlich abrechnen",
            "Verfügungsfonds intern abrechnen",
        }
        assert HIDDEN_BADGE not in page_html(response)

    def test_a_moderator_finds_the_hidden_thread_with_its_badge(self, mod_client, threads):
        response = mod_client.get(SEARCH, {"q": "Verfügungsfonds"})
        assert len(hit_titles(response)) == 4
        badged = [block for block in hit_blocks(response) if HIDDEN_BADGE in block]
        assert len(badged) == 1
        assert "Verfügungsfonds ausgeblendet abrechnen" in strip_tags(badged[0])

    def _preview(self, client, title: str) -> str:
        response = client.post(
            NEW_THREAD,
            {
                "kind": "question",
                "title": title,
                "body": "Wie machen Sie das?",
                "preview": "1",
                "client_token": str(uuid.uuid4()),
            },
        )
        content = page_html(response)
        assert 'class="similar-slot"' in content
        return content

    def test_the_new_thread_preview_suggests_only_what_the_author_may_read(
        self, client, member, mod_client, threads
    ):
        client.force_login(member)
        title = "Wie rechnen wir den Verfügungsfonds ab?"
        seen = strip_tags(self._preview(client, title))
        assert "Verfügungsfonds öffentlich abrechnen" in seen
        assert "Verfügungsfonds intern abrechnen" in seen
        assert "Verfügungsfonds Moderation abrechnen" not in seen
        assert "Verfügungsfonds ausgeblendet abrechnen" not in seen

        seen = strip_tags(self._preview(mod_client, title))
        assert "Verfügungsfonds Moderation abrechnen" in seen


# --- Similar threads ----------------------------------------------------------------------------


@pytest.mark.django_db
class TestSimilar:
    @pytest.fixture
    def thread(self, member, public, indexed):
        with indexed():
            return make_thread(
                member,
                category=public,
                title="Umgang mit Leerstand in Innenstädten",
                body="Welche Zwischennutzungen haben sich bewährt?",
            )

    def test_a_short_title_gives_an_empty_answer(self, client, thread):
        # The prefix would match: only the length rule keeps the answer empty.
        assert similar_threads(visible_threads(AnonymousUser()), "Leersta")
        response = client.get(SIMILAR, {"titel": "Leersta"})
        assert response.status_code == 200
        assert response.content.strip() == b""
        assert client.get(SIMILAR, {"titel": "  Leersta   "}).content.strip() == b""
        assert client.get(SIMILAR).content.strip() == b""

    def test_a_matching_title_lists_the_thread(self, client, thread):
        response = client.get(SIMILAR, {"titel": "Was tun gegen Leerstand?"})
        content = page_html(response)
        assert f'href="{thread.get_absolute_url()}"' in content
        assert "<mark>Leerstand</mark>" in content

    def test_an_unrelated_title_gives_an_empty_answer(self, client, thread):
        response = client.get(SIMILAR, {"titel": "Förderung von Radwegen"})
        assert response.content.strip() == b""

    def test_the_new_thread_page_takes_the_title_and_suggests(self, client, member, thread):
        client.force_login(member)
        response = client.get(NEW_THREAD + "?titel=Leerstand%20in%20der%20Innenstadt")
        content = page_html(response)
        assert re.search(
            r'<input[^>]*name="title"[^>]*value="Leerstand in der Innenstadt"', content
        )
        slot = content.split('class="similar-slot"', 1)[1]
        assert f'href="{thread.get_absolute_url()}"' in slot


# --- Highlighting and escaping ------------------------------------------------------------------


@pytest.mark.django_db
class TestSnippets:
    def test_the_matched_word_is_marked_in_title_and_snippet(self, client, member, public, indexed):
        with indexed():
            make_thread(
                member,
                category=public,
                title="Fassaden in der Altstadt",
                body="Unser Fassadenprogramm läuft seit zwei Jahren gut.",
            )
        response = client.get(SEARCH, {"q": "Fassadenprogramm"})
        (block,) = hit_blocks(response)
        assert '<p class="search-hit__snippet">' in block
        assert "<mark>Fassadenprogramm</mark> läuft" in block

    def test_user_content_is_escaped(self, client, member, public, indexed):
        script = "<script>alert(1)</script>"
        with indexed():
            thread = make_thread(
                member,
                category=public,
                title=f"Hofbegrünung {script}",
                body=f"Zur Hofbegrünung schrieb jemand `{script}` und <b>fett</b> &lt;i&gt;.",
            )
            post_create(member, thread=thread, body=f"Hofbegrünung: `{script}` nochmal")
        response = client.get(SEARCH, {"q": "Hofbegrünung"})
        content = page_html(response)
        assert hit_titles(response) == [f"Hofbegrünung {script}"]
        assert "<script>alert" not in content
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content  # title and snippet
        assert "<i>" not in content

        # The query itself is shown back (title, summary, search box) and must be escaped too.
        echoed = page_html(client.get(SEARCH, {"q": f"{script} Hofbegrünung"}))
        assert "<script>alert" not in echoed
        assert 'value="&lt;script&gt;alert(1)&lt;/script&gt; Hofbegrünung"' in echoed

        browse = page_html(client.get(SEARCH, {"themenfeld": public.slug}))
        assert "Hofbegrünung" in browse
        assert "<script>alert" not in browse
        similar = page_html(client.get(SIMILAR, {"titel": "Hofbegrünung im Hinterhof"}))
        assert "Hofbegrünung" in similar
        assert "<script>alert" not in similar

    def test_words_in_angle_brackets_are_found(self, client, member, public, indexed):
        with indexed():
            make_thread(
                member,
                category=public,
                title="Dateiablage im Förderverfahren",
                body="Wir legen alles unter `<Kennung>/Antrag` ab.",
            )
        assert hit_titles(client.get(SEARCH, {"q": "Kennung"})) == [
            "Dateiablage im Förderverfahren"
        ]
