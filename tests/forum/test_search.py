"""Full-text search: the same tests run on SQLite (FTS5 + Snowball stems) and PostgreSQL
(german configuration), whichever database the suite runs on."""

from __future__ import annotations

import unicodedata

import feedparser  # noqa: F401 - imported to fail early when dev dependencies are missing
import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.management import call_command
from django.db import transaction

from forum.models import Category, ProjectProfile, SearchDocument, Thread
from forum.permissions import visible_threads
from forum.search import search_threads, similar_threads
from forum.search.documents import index_thread
from forum.services.posts import post_create, post_delete, post_edit
from forum.services.threads import thread_update
from tests.factories import CategoryFactory, make_thread


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


def titles(user, raw: str) -> list[str]:
    _, page = search_threads(visible_threads(user), raw, 1)
    return [hit.thread.title for hit in page] if page is not None else []


@pytest.mark.django_db
class TestGermanLanguage:
    def test_inflected_forms_find_each_other(self, member, public, indexed):
        with indexed():
            make_thread(
                member,
                category=public,
                title="Fristen beim Landesprogramm",
                body="Wann sollte man den Förderantrag stellen?",
            )
            make_thread(member, category=public, title="Ganz anderes Thema", body="Nichts davon.")
        assert titles(member, "Förderanträge") == ["Fristen beim Landesprogramm"]
        assert titles(member, "förderantrag") == ["Fristen beim Landesprogramm"]

    def test_compound_parts_are_found(self, member, public, indexed):
        with indexed():
            make_thread(member, category=public, title="Brachflächenreaktivierung in Herne")
            make_thread(
                member,
                category=public,
                title="Erfahrungen",
                body="Unsere Stadtumbaumaßnahme lief gut.",
            )
        assert titles(member, "Brachfläche") == ["Brachflächenreaktivierung in Herne"]
        assert titles(member, "Maßnahme") == ["Erfahrungen"]
        assert titles(member, "Reaktivierung Brachflächen") == [
            "Brachflächenreaktivierung in Herne"
        ]

    def test_abbreviations_and_synonyms(self, member, public, indexed):
        with indexed():
            make_thread(
                member,
                category=public,
                title="Fortschreibung",
                body="Wir schreiben unser integriertes städtebauliches Entwicklungskonzept fort.",
            )
            make_thread(member, category=public, title="ISG gegründet", body="Endlich.")
        assert titles(member, "ISEK") == ["Fortschreibung"]
        assert titles(member, "InSEK") == ["Fortschreibung"]
        # The long form typed without quotes finds the abbreviation the other way round.
        assert titles(member, "Immobilien- und Standortgemeinschaft") == ["ISG gegründet"]
        assert titles(member, "BID") == ["ISG gegründet"]

    def test_a_quoted_phrase_matches_only_the_phrase(self, member, public, indexed):
        with indexed():
            make_thread(
                member,
                category=public,
                title="Erstes Thema",
                body="Der Antrag wurde schnell gestellt.",
            )
            make_thread(
                member,
                category=public,
                title="Zweites Thema",
                body="Gestellt haben wir ihn, den Antrag, schnell.",
            )
        assert sorted(titles(member, "Antrag gestellt")) == ["Erstes Thema", "Zweites Thema"]
        assert titles(member, '"Antrag wurde schnell gestellt"') == ["Erstes Thema"]
        assert titles(member, '"schnell gestellt"') == ["Erstes Thema"]

    def test_exclusions_and_or(self, member, public, indexed):
        with indexed():
            make_thread(
                member, category=public, title="Leerstand Innenstadt", body="Zwischennutzung"
            )
            make_thread(member, category=public, title="Leerstand Stadtteil", body="Abriss")
            make_thread(member, category=public, title="Grünflächen", body="Pflege")
        assert titles(member, "Leerstand -Abriss") == ["Leerstand Innenstadt"]
        assert sorted(titles(member, "Zwischennutzung OR Abriss")) == [
            "Leerstand Innenstadt",
            "Leerstand Stadtteil",
        ]
        assert sorted(titles(member, "Pflege oder Abriss")) == [
            "Grünflächen",
            "Leerstand Stadtteil",
        ]

    @pytest.mark.parametrize(
        "raw",
        [
            '"',
            '"Leerstand',
            "Leerstand -",
            "OR",
            "OR Leerstand",
            "-",
            "- -x",
            '""',
            "*",
            "NOT",
            "AND Leerstand",
            "(Leerstand",
            "Leerstand)",
            "Leer:stand",
            "'",
            "\\",
            "NEAR(a b)",
            "'a' & !b",
            "Leerstand ODER",
            "ä ö ü ß",
            "a" * 400,
            "-Leerstand",
        ],
    )
    def test_a_malformed_query_never_errors(self, member, public, indexed, raw, client):
        with indexed():
            make_thread(member, category=public, title="Leerstand in der Innenstadt")
        titles(member, raw)  # no exception
        assert client.get("/search/", {"q": raw}).status_code == 200

    def test_a_malformed_query_degrades_to_plain_words(self, member, public, indexed):
        with indexed():
            make_thread(member, category=public, title="Leerstand in der Innenstadt")
        assert titles(member, '"Leerstand Innenstadt') == ["Leerstand in der Innenstadt"]
        assert titles(member, "Leerstand OR") == ["Leerstand in der Innenstadt"]
        # A hyphenated word is a phrase of its parts, which the compound's parts match.
        assert titles(member, "Leer-stand (Innenstadt)") == ["Leerstand in der Innenstadt"]


@pytest.mark.django_db
class TestVisibility:
    def test_results_respect_visibility_like_the_thread_pages(
        self, member, moderator, public, indexed
    ):
        internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        staff = CategoryFactory(visibility=Category.Visibility.MODERATORS)
        with indexed():
            make_thread(member, category=public, title="Verfügungsfonds öffentlich")
            make_thread(member, category=internal, title="Verfügungsfonds intern")
            make_thread(moderator, category=staff, title="Verfügungsfonds Moderation")
            hidden = make_thread(member, category=public, title="Verfügungsfonds ausgeblendet")
        Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)
        assert titles(AnonymousUser(), "Verfügungsfonds") == ["Verfügungsfonds öffentlich"]
        assert sorted(titles(member, "Verfügungsfonds")) == [
            "Verfügungsfonds intern",
            "Verfügungsfonds öffentlich",
        ]
        assert len(titles(moderator, "Verfügungsfonds")) == 4

    def test_similar_threads_respect_visibility(self, member, public, indexed):
        internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        with indexed():
            make_thread(member, category=public, title="Quartiersfonds richtig abrechnen")
            make_thread(member, category=internal, title="Quartiersfonds intern abrechnen")
        visitor = [
            h.thread.title
            for h in similar_threads(
                visible_threads(AnonymousUser()), "Wie rechnen wir den Quartiersfonds ab?"
            )
        ]
        assert visitor == ["Quartiersfonds richtig abrechnen"]
        seen = [
            h.thread.title
            for h in similar_threads(visible_threads(member), "Quartiersfonds abrechnen")
        ]
        assert sorted(seen) == [
            "Quartiersfonds intern abrechnen",
            "Quartiersfonds richtig abrechnen",
        ]


@pytest.mark.django_db
class TestIndexing:
    def test_index_follows_create_edit_and_delete_after_commit(self, member, public, indexed):
        with indexed():
            thread = make_thread(
                member, category=public, title="Ein Thema zum Test", body="Erster Beitrag."
            )
        with indexed():
            post = post_create(member, thread=thread, body="Hier geht es um Fassadenprogramme.")
        assert titles(member, "Fassadenprogramm") == ["Ein Thema zum Test"]
        with indexed():
            post_edit(member, post=post, body="Hier geht es um Hofbegrünung.")
        assert titles(member, "Fassadenprogramm") == []
        assert titles(member, "Hofbegrünung") == ["Ein Thema zum Test"]
        with indexed():
            post_delete(member, post=post)
        assert titles(member, "Hofbegrünung") == []
        with indexed():
            thread_update(
                member,
                thread=thread,
                title="Neuer Titel zur Dachbegrünung",
                tags=["Klima"],
                kind="question",
            )
        assert titles(member, "Dachbegrünung") == ["Neuer Titel zur Dachbegrünung"]
        assert titles(member, "Klima") == ["Neuer Titel zur Dachbegrünung"]
        with indexed():
            thread.delete()
        assert not SearchDocument.objects.exists()
        assert titles(member, "Dachbegrünung") == []

    def test_nothing_is_indexed_before_commit(
        self, member, public, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            make_thread(member, category=public, title="Noch nicht committed")
        assert not SearchDocument.objects.exists()
        assert len(callbacks) >= 1
        for callback in callbacks:
            callback()
        assert titles(member, "committed") == ["Noch nicht committed"]

    def test_rebuild_command_indexes_everything(self, member, public):
        make_thread(member, category=public, title="Ohne Commit angelegt")
        assert not SearchDocument.objects.exists()
        call_command("search_rebuild", verbosity=0)
        assert titles(member, "angelegt") == ["Ohne Commit angelegt"]

    def test_moving_a_thread_to_a_members_category_hides_it_at_once(self, member, public, indexed):
        internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        with indexed():
            thread = make_thread(member, category=public, title="Umzug eines Themas")
        assert titles(AnonymousUser(), "Umzug") == ["Umzug eines Themas"]
        Thread.objects.filter(pk=thread.pk).update(category=internal)
        assert titles(AnonymousUser(), "Umzug") == []

    def test_index_thread_twice_is_idempotent(self, member, public, indexed):
        with indexed():
            thread = make_thread(member, category=public, title="Doppelt indexiert")
        index_thread(thread.pk)
        index_thread(thread.pk)
        assert titles(member, "indexiert") == ["Doppelt indexiert"]


@pytest.mark.django_db
class TestRobustness:
    def test_a_failing_index_job_neither_fails_the_write_nor_stops_other_hooks(
        self, member, public, monkeypatch, django_capture_on_commit_callbacks
    ):
        from forum.search import documents

        def broken(thread_id):
            raise RuntimeError("index down")

        monkeypatch.setattr(documents, "index_thread", broken)
        ran = []
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            make_thread(member, category=public, title="Ein Thema trotz Indexfehler")
            transaction.on_commit(lambda: ran.append(True))
        for callback in callbacks:
            callback()  # what a robust commit does: the job logs and returns
        assert ran == [True]

    def test_a_very_long_word_is_indexed_without_recursing(self, member, public, indexed):
        with indexed():
            make_thread(
                member,
                category=public,
                title="Ein Thema mit sehr langem Wort",
                body="Hallo " + "haus" * 400 + " Welt Fassadenprogramm",
            )
        assert titles(member, "Fassadenprogramm") == ["Ein Thema mit sehr langem Wort"]

    def test_combining_umlauts_and_underscores(self, member, public, indexed):
        with indexed():
            make_thread(member, category=public, title="Bürgerbeteiligung im Quartier")
        decomposed = unicodedata.normalize("NFD", "Bürgerbeteiligung")
        assert titles(member, decomposed) == ["Bürgerbeteiligung im Quartier"]
        assert titles(member, "Quartier _") == ["Bürgerbeteiligung im Quartier"]

    def test_the_index_is_german_whatever_language_the_writer_reads(self, member, public):
        from django.utils import translation

        thread = make_thread(member, category=public, title="Steckbrief ohne Sprache")
        ProjectProfile.objects.create(
            thread=thread,
            organisation=member.organisation,
            programme=ProjectProfile.Programme.OTHER,
            status=ProjectProfile.Status.COMPLETED,
        )
        with translation.override("en"):
            index_thread(thread.pk)
        assert titles(member, "abgeschlossen") == ["Steckbrief ohne Sprache"]

    def test_absurd_page_numbers_and_long_queries(self, client, member, public, indexed):
        with indexed():
            make_thread(member, category=public, title="Leerstand in der Innenstadt")
        huge = client.get("/search/", {"q": "Leerstand", "seite": "9" * 25})
        assert huge.status_code == 200
        assert "</mark> in der Innenstadt" in huge.content.decode()
        long = client.get("/search/", {"q": "Leerstand " + "x" * 500})
        assert long.status_code == 200
        assert "Einige Filter" not in long.content.decode()
