from __future__ import annotations

import re
import uuid

import pytest

from forum.models import Category, Post, Thread
from forum.services.posts import post_create
from tests.factories import CategoryFactory, make_member, make_thread


@pytest.fixture
def category(db):
    return CategoryFactory(slug="leerstand", visibility=Category.Visibility.MEMBERS)


@pytest.fixture
def public(db):
    return CategoryFactory(slug="oeffentlich", visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def other(network):
    return make_member(email="thomas.wagner@gelsenkirchen.de", handle="thomas-wagner")


@pytest.mark.django_db
class TestComposer:
    def test_a_member_asks_a_question_through_the_form(self, client, member, category):
        client.force_login(member)
        assert client.get("/t/neu/").status_code == 200
        response = client.post(
            "/t/neu/",
            {
                "category": category.pk,
                "kind": "question",
                "title": "Wie finanzieren Sie den Zwischenerwerb?",
                "body": "Wir prüfen **zwei** Objekte.",
                "tags": "Zwischenerwerb, Leerstand, Städtebauförderung",
                "client_token": str(uuid.uuid4()),
            },
        )
        thread = Thread.objects.get()
        assert response.status_code == 302 and response.url == thread.get_absolute_url()
        assert sorted(thread.tags.names()) == ["Leerstand", "Städtebauförderung", "Zwischenerwerb"]
        page = client.get(response.url).content.decode()
        assert "<strong>zwei</strong>" in page and 'href="/tags/staedtebaufoerderung/"' in page

    def test_a_failed_submit_keeps_everything_typed(self, client, member, category):
        client.force_login(member)
        response = client.post(
            "/t/neu/",
            {
                "category": category.pk,
                "kind": "question",
                "title": "kurz",
                "body": "Mein langer Text, der nicht verloren gehen darf.",
                "tags": "a, b, c, d, e, f",
                "client_token": str(uuid.uuid4()),
            },
        )
        html = response.content.decode()
        assert response.status_code == 400
        assert "Mein langer Text, der nicht verloren gehen darf." in html
        assert 'value="a, b, c, d, e, f"' in html
        assert "mindestens 8 Zeichen" in html
        assert Thread.objects.count() == 0

    def test_preview_renders_without_saving(self, client, member, category):
        client.force_login(member)
        response = client.post(
            "/t/neu/",
            {
                "category": category.pk,
                "kind": "question",
                "title": "Titel mit Länge",
                "body": "# Kopf\n\n*kursiv*",
                "preview": "1",
                "client_token": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 200
        assert "<em>kursiv</em>" in response.content.decode()
        assert Thread.objects.count() == 0

    def test_replying_twice_with_the_same_token_creates_one_post(
        self, client, member, other, category
    ):
        thread = make_thread(member, category=category)
        client.force_login(other)
        data = {"body": "Meine Antwort", "client_token": str(uuid.uuid4())}
        first = client.post(f"/t/{thread.pk}/antworten/", data)
        second = client.post(f"/t/{thread.pk}/antworten/", data)
        assert first.status_code == second.status_code == 302
        assert first.url == second.url
        assert Post.objects.filter(thread=thread).count() == 2

    def test_a_huge_reply_is_refused_and_kept(self, client, member, other, category):
        thread = make_thread(member, category=category)
        client.force_login(other)
        body = "Wort " * 7000
        response = client.post(
            f"/t/{thread.pk}/antworten/", {"body": body, "client_token": str(uuid.uuid4())}
        )
        assert response.status_code == 400
        html = response.content.decode()
        assert "zu lang" in html or "höchstens" in html
        assert body.strip()[:200] in html

    def test_hostile_input_is_neutralised(self, client, member, other, category):
        thread = make_thread(member, category=category)
        client.force_login(other)
        client.post(
            f"/t/{thread.pk}/antworten/",
            {
                "body": "<script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>",
                "client_token": str(uuid.uuid4()),
            },
        )
        html = client.get(thread.get_absolute_url()).content.decode()
        assert "alert(1)" not in html and "javascript:" not in html and "onerror" not in html

    def test_quoting_prefills_the_reply(self, client, member, other, category):
        thread = make_thread(member, category=category, body="Zeile eins\nZeile zwei")
        client.force_login(other)
        html = client.get(thread.get_absolute_url() + "?zitat=1").content.decode()
        assert "@jonas-becker schrieb in #1:" in html and "&gt; Zeile zwei" in html


@pytest.mark.django_db
class TestThreadPage:
    def test_the_id_alone_redirects_to_the_canonical_url(self, client, member, public):
        thread = make_thread(member, category=public)
        response = client.get(f"/t/{thread.pk}/")
        assert response.status_code == 301 and response.url == thread.get_absolute_url()
        assert client.get(f"/t/{thread.pk}/falscher-slug/").url == thread.get_absolute_url()

    def test_private_threads_are_404_for_visitors(self, client, member, category):
        thread = make_thread(member, category=category)
        assert client.get(thread.get_absolute_url()).status_code == 404

    def test_the_accepted_answer_appears_under_the_question_with_authors_and_organisations(
        self, client, member, other, category
    ):
        from forum.services.threads import answer_accept, summary_set

        thread = make_thread(member, category=category)
        for i in range(3):
            post_create(other, thread=thread, body=f"Antwort {i}")
        answer = Post.objects.get(thread=thread, number=4)
        answer_accept(member, post=answer)
        summary_set(member, thread=thread, summary="Das Ergebnis.")
        client.force_login(member)
        html = client.get(thread.get_absolute_url()).content.decode()
        assert html.index("Akzeptierte Antwort") < html.index("Antwort 0")
        assert html.index("Das Ergebnis.") < html.index("Antwort 0")
        assert "Stadt Gelsenkirchen" in html and "Stadt Bochum" in html
        assert ">gelöst<" in html

    def test_the_thread_page_query_count_does_not_grow_with_posts(
        self, client, member, other, category, django_assert_max_num_queries
    ):
        thread = make_thread(member, category=category, tags=["A1", "B2", "C3"])
        post_create(other, thread=thread, body="Antwort")
        client.force_login(member)
        client.get(thread.get_absolute_url())
        post_create(other, thread=thread, body="Neu seit dem letzten Besuch")  # a read-mark write
        with django_assert_max_num_queries(30) as few:
            client.get(thread.get_absolute_url())
        for i in range(25):
            post_create(
                other if i % 2 else member, thread=thread, body=f"Antwort @jonas-becker {i}"
            )
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get(thread.get_absolute_url() + "?seite=2")
        assert response.status_code == 200
        assert response.content.decode().count('<article class="post') >= 6


@pytest.mark.django_db
class TestLists:
    def _fill(self, member, other, category, n):
        for i in range(n):
            make_thread(
                member if i % 2 else other,
                category=category,
                title=f"Thema Nummer {i} zum Test",
                tags=[f"Tag{i}", "Gemeinsam"],
            )

    @pytest.mark.parametrize(
        "url",
        [
            "/",
            "/c/leerstand/",
            "/tags/",
            "/tags/gemeinsam/",
            "/?art=question&geloest=nein",
            "/?unbeantwortet=1",
            "/search/?q=Thema+Test",
        ],
    )
    def test_list_query_counts_do_not_grow_with_threads_or_tags(
        self, client, member, other, category, url, django_assert_max_num_queries
    ):
        from django.core.cache import cache

        self._fill(member, other, category, 2)
        client.force_login(member)
        client.get(url)
        cache.clear()  # measure with cold row fragments: the worst case
        with django_assert_max_num_queries(30) as few:
            assert client.get(url).status_code == 200
        self._fill(member, other, category, 12)
        cache.clear()
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(url)

    def test_unread_markers_and_jump_to_the_first_unread_post(
        self, client, member, other, category
    ):
        thread = make_thread(member, category=category)
        client.force_login(member)
        client.get(thread.get_absolute_url())
        post_create(other, thread=thread, body="Neu 1")
        post_create(other, thread=thread, body="Neu 2")
        html = client.get("/").content.decode()
        assert "2 ungelesen" in html
        assert f'{thread.get_absolute_url()}#post-2"' in html

    def test_experience_reports_are_found_by_programme_and_status(self, client, member, category):
        from datetime import date

        from forum.services.threads import ProfileData

        make_thread(
            member,
            category=category,
            kind="experience",
            title="Bericht Soziale Stadt in Bochum",
            profile=ProfileData(
                organisation_id=None,
                programme="sozialer_zusammenhalt",
                status="completed",
                start_month=date(2020, 1, 1),
            ),
        )
        make_thread(
            member,
            category=category,
            kind="experience",
            title="Bericht EFRE laufend",
            profile=ProfileData(organisation_id=None, programme="efre", status="running"),
        )
        client.force_login(member)
        html = client.get(
            "/?art=experience&programm=sozialer_zusammenhalt&stand=completed"
        ).content.decode()
        assert "Bericht Soziale Stadt in Bochum" in html and "Bericht EFRE laufend" not in html

    def test_tag_pages_and_the_tag_index_count_visible_threads_only(
        self, client, member, category, public
    ):
        make_thread(
            member, category=category, title="Privates Thema mit Tag", tags=["Klimaanpassung"]
        )
        make_thread(
            member, category=public, title="Öffentliches Thema mit Tag", tags=["Klimaanpassung"]
        )
        html = client.get("/tags/").content.decode()
        assert re.search(r"Klimaanpassung <span class=\"tag__count\">1<", html)
        page = client.get("/tags/klimaanpassung/").content.decode()
        assert "Öffentliches Thema" in page and "Privates Thema" not in page
