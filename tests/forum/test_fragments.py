"""Cached post fragments never show stale content: every change yields a new cache key."""

from __future__ import annotations

import pytest

from accounts.services import profile_update
from forum.models import Category, Post
from forum.services.posts import post_create, post_delete, post_edit
from tests.factories import CategoryFactory, make_member, make_thread

# The cache is emptied before each test (tests/conftest.py): database ids repeat between
# tests, cached fragments must not. With REDIS_URL set this runs against Redis.


@pytest.fixture
def setup(network):
    author = make_member(email="anna@bochum.de", handle="anna")
    reader = make_member(email="ben@krefeld.de", handle="ben")
    thread = make_thread(author, category=CategoryFactory(visibility=Category.Visibility.PUBLIC))
    reply = post_create(author, thread=thread, body="Erste Fassung der Antwort")
    return author, reader, thread, reply


@pytest.mark.django_db
class TestFragments:
    def test_an_edit_shows_at_once(self, client, setup):
        author, _reader, thread, reply = setup
        assert "Erste Fassung" in client.get(thread.get_absolute_url()).content.decode()
        post_edit(author, post=reply, body="Zweite Fassung der Antwort")
        html = client.get(thread.get_absolute_url()).content.decode()
        assert "Zweite Fassung" in html and "Erste Fassung" not in html and ">bearbeitet<" in html

    def test_a_renamed_author_shows_at_once(self, client, setup):
        author, _reader, thread, _reply = setup
        client.get(thread.get_absolute_url())
        profile_update(author, display_name="Anna Umbenannt", job_title="", bio="", expertise=[])
        assert "Anna Umbenannt" in client.get(thread.get_absolute_url()).content.decode()

    def test_a_deleted_post_becomes_a_placeholder_at_once(self, client, setup):
        author, _reader, thread, reply = setup
        client.get(thread.get_absolute_url())
        post_delete(author, post=reply)
        html = client.get(thread.get_absolute_url()).content.decode()
        assert "Erste Fassung" not in html and "Dieser Beitrag wurde gelöscht." in html

    def test_hidden_posts_are_shown_to_moderators_only_despite_the_cache(
        self, client, mod_client, setup
    ):
        _author, _reader, thread, reply = setup
        Post.objects.filter(pk=reply.pk).update(is_hidden=True)
        assert "Erste Fassung" in mod_client.get(thread.get_absolute_url()).content.decode()
        html = client.get(thread.get_absolute_url()).content.decode()
        assert "Erste Fassung" not in html and "von der Moderation ausgeblendet" in html

    def test_reader_specific_controls_are_not_cached(self, client, setup):
        author, reader, thread, reply = setup
        client.force_login(author)
        assert (
            f'action="/beitrag/{reply.pk}/bearbeiten/"'
            not in client.get(thread.get_absolute_url()).content.decode()
        )
        assert (
            f'href="/beitrag/{reply.pk}/bearbeiten/"'
            in client.get(thread.get_absolute_url()).content.decode()
        )
        client.force_login(reader)
        html = client.get(thread.get_absolute_url()).content.decode()
        assert f'href="/beitrag/{reply.pk}/bearbeiten/"' not in html
        assert f'action="/beitrag/{reply.pk}/hilfreich/"' in html

    def test_the_language_is_part_of_the_key(self, setup, monkeypatch):
        from django.utils import translation

        from forum import fragments

        _author, _reader, _thread, reply = setup
        reply = Post.objects.select_related("author__organisation", "thread").get(pk=reply.pk)
        rendered = []
        original = fragments.render_to_string
        monkeypatch.setattr(
            fragments, "render_to_string", lambda *a, **k: rendered.append(1) or original(*a, **k)
        )
        for language in ("de", "de", "en", "en", "de"):
            with translation.override(language):
                fragments.attach_content_html([reply])
        assert len(rendered) == 2, rendered  # once per language, then from the cache


@pytest.mark.django_db
class TestRowFragments:
    def test_list_rows_follow_every_change(self, client, setup):
        from forum.services.threads import answer_accept, thread_update

        author, reader, thread, reply = setup
        assert "1 Antwort" in client.get("/").content.decode()
        post_create(reader, thread=thread, body="Noch eine")
        assert "2 Antworten" in client.get("/").content.decode()
        thread_update(
            author,
            thread=thread,
            title="Ein neuer Titel für die Liste",
            tags=["Neu"],
            kind="question",
        )
        html = client.get("/").content.decode()
        assert "Ein neuer Titel für die Liste" in html and 'href="/tags/neu/"' in html
        answer_accept(author, post=reply)
        assert ">gelöst<" in client.get("/").content.decode()

    def test_unread_counts_are_per_reader(self, client, setup):
        author, reader, thread, _reply = setup
        client.force_login(reader)
        client.get(thread.get_absolute_url())
        post_create(author, thread=thread, body="Neu für Ben")
        assert "1 ungelesen</a>" in client.get("/").content.decode()
        client.force_login(author)
        assert "thread-row__unread" not in client.get("/").content.decode()
