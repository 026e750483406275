from __future__ import annotations

import feedparser
import pytest
from django.test import Client

from forum.models import Category, Post, Thread
from forum.services.posts import post_create, post_delete
from forum.services.threads import thread_update
from tests.factories import CategoryFactory, make_member, make_thread

HOST = "127.0.0.1"  # the host of settings.SITE_URL in tests: the authority of every tag URI


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = f"http://{HOST}:8000"


@pytest.fixture
def public(db):
    return CategoryFactory(
        name="Innenstadt", slug="innenstadt", visibility=Category.Visibility.PUBLIC
    )


@pytest.fixture
def internal(db):
    return CategoryFactory(name="Intern", slug="intern", visibility=Category.Visibility.MEMBERS)


@pytest.fixture
def mods_only(db):
    return CategoryFactory(
        name="Moderation", slug="moderation", visibility=Category.Visibility.MODERATORS
    )


@pytest.fixture
def other(network):
    return make_member(email="thomas.wagner@gelsenkirchen.de", handle="thomas-wagner")


@pytest.fixture
def threads(member, moderator, public, internal, mods_only):
    """One public thread and three a visitor may not read, all from Bochum with one tag."""
    visible = make_thread(
        member,
        category=public,
        title="Leerstand & Zwischennutzung <Ideen>",
        body="Wir prüfen **zwei** Objekte.",
        tags=["Leerstand", "Innenstadt"],
    )
    members_only = make_thread(
        member, category=internal, title="Internes zum Leerstand", tags=["Leerstand"]
    )
    hidden = make_thread(
        member, category=public, title="Ausgeblendetes zum Leerstand", tags=["Leerstand"]
    )
    Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)
    moderation = make_thread(
        moderator, category=mods_only, title="Moderationsnotiz zum Leerstand", tags=["Leerstand"]
    )
    return {
        "visible": visible,
        "members_only": members_only,
        "hidden": hidden,
        "moderation": moderation,
    }


def parse(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/atom+xml; charset=utf-8"
    feed = feedparser.parse(response.content)
    assert feed.bozo == 0, feed.get("bozo_exception")
    assert feed.version == "atom10"
    return feed


def feed_urls(thread: Thread) -> list[str]:
    return [
        "/feeds/themen/",
        "/feeds/c/innenstadt/",
        "/feeds/tags/leerstand/",
        "/feeds/o/bochum/",
        f"/feeds/t/{thread.pk}/",
    ]


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
class TestAtom:
    def test_every_feed_is_valid_atom_with_a_stable_feed_id(self, client, threads, bochum):
        visible = threads["visible"]
        tag = visible.tags.get(slug="leerstand")
        expected_ids = [
            f"tag:{HOST},2026:feed:threads",
            f"tag:{HOST},2026:feed:category:{visible.category_id}",
            f"tag:{HOST},2026:feed:tag:{tag.pk}",
            f"tag:{HOST},2026:feed:organisation:{bochum.pk}",
            f"tag:{HOST},2026:feed:thread:{visible.pk}",
        ]
        for url, feed_id in zip(feed_urls(visible), expected_ids, strict=True):
            feed = parse(client.get(url))
            assert feed.feed.id == feed_id
            assert feed.feed.links[0].href.startswith("http://testserver/")
            assert feed.entries, url

    def test_feed_titles_are_german(self, client, threads):
        visible = threads["visible"]
        titles = [parse(client.get(url)).feed.title for url in feed_urls(visible)]
        assert titles == [
            "Neue Themen – Stadtumbau-Forum",
            "Themenfeld „Innenstadt“ – Stadtumbau-Forum",
            "Schlagwort „Leerstand“ – Stadtumbau-Forum",
            "Organisation „Stadt Bochum“ – Stadtumbau-Forum",
            f"Thema „{visible.title}“ – Stadtumbau-Forum",
        ]

    def test_a_thread_entry_carries_title_link_author_tags_dates_and_stored_html(
        self, client, member, threads
    ):
        visible = threads["visible"]
        response = client.get("/feeds/themen/")
        (entry,) = parse(response).entries
        assert entry.id == f"tag:{HOST},2026:thread:{visible.pk}"
        assert entry.title == "Leerstand & Zwischennutzung <Ideen>"
        assert entry.link == f"http://testserver{visible.get_absolute_url()}"
        assert entry.author == member.display_name
        assert sorted(tag.term for tag in entry.tags) == ["Innenstadt", "Leerstand"]
        first = visible.posts.get(number=1)
        assert entry.content[0].value == first.body_html
        assert "<strong>zwei</strong>" in entry.content[0].value
        assert entry.published_parsed and entry.updated_parsed
        assert member.email.encode() not in response.content

    def test_ids_stay_the_same_when_the_title_changes(self, client, member, threads):
        visible = threads["visible"]
        reply = post_create(member, thread=visible, body="Nachtrag")
        before = parse(client.get("/feeds/themen/")).entries[0]
        posts_before = {e.id for e in parse(client.get(f"/feeds/t/{visible.pk}/")).entries}
        thread_update(
            member,
            thread=visible,
            title="Ganz neuer Titel für das Thema",
            tags=["Leerstand"],
            kind=visible.kind,
        )
        after = parse(client.get("/feeds/themen/")).entries[0]
        thread_feed = parse(client.get(f"/feeds/t/{visible.pk}/"))
        assert after.id == before.id and after.title == "Ganz neuer Titel für das Thema"
        assert after.link != before.link and after.link.endswith(
            "/ganz-neuer-titel-fuer-das-thema/"
        )
        assert {e.id for e in thread_feed.entries} == posts_before
        assert f"tag:{HOST},2026:post:{reply.pk}" in posts_before
        assert thread_feed.feed.id == f"tag:{HOST},2026:feed:thread:{visible.pk}"


@pytest.mark.django_db
class TestOnlyPublicContent:
    @pytest.mark.parametrize("who", ["visitor", "member", "moderator"])
    def test_private_and_hidden_threads_never_appear_whoever_asks(
        self, client, member, moderator, threads, who
    ):
        reader = {"visitor": client, "member": logged_in(member)}.get(who) or logged_in(moderator)
        secret_ids = {
            f"tag:{HOST},2026:thread:{threads[key].pk}"
            for key in ("members_only", "hidden", "moderation")
        }
        for url in feed_urls(threads["visible"]):
            response = reader.get(url)
            feed = parse(response)
            assert not secret_ids & {entry.id for entry in feed.entries}, url
            for secret in ("Internes", "Ausgeblendetes", "Moderationsnotiz"):
                assert secret.encode() not in response.content, (url, secret)
        assert {e.id for e in parse(reader.get("/feeds/tags/leerstand/")).entries} == {
            f"tag:{HOST},2026:thread:{threads['visible'].pk}"
        }

    def test_a_feed_is_the_same_for_visitors_members_and_moderators(
        self, client, member, moderator, threads
    ):
        for url in feed_urls(threads["visible"]):
            seen = {client.get(url).content}
            seen.add(logged_in(member).get(url).content)
            seen.add(logged_in(moderator).get(url).content)
            assert len(seen) == 1, url

    @pytest.mark.parametrize("who", ["visitor", "moderator"])
    def test_private_hidden_and_unknown_feeds_answer_404(self, client, moderator, threads, who):
        reader = client if who == "visitor" else logged_in(moderator)
        for url in [
            "/feeds/c/intern/",
            "/feeds/c/moderation/",
            "/feeds/c/gibt-es-nicht/",
            "/feeds/tags/gibt-es-nicht/",
            "/feeds/o/gibt-es-nicht/",
            f"/feeds/t/{threads['members_only'].pk}/",
            f"/feeds/t/{threads['hidden'].pk}/",
            f"/feeds/t/{threads['moderation'].pk}/",
            "/feeds/t/999999/",
        ]:
            assert reader.get(url).status_code == 404, url

    def test_deleted_and_hidden_posts_are_not_in_the_thread_feed(
        self, client, member, other, public
    ):
        thread = make_thread(member, category=public, title="Ein Thema mit Antworten")
        kept = post_create(other, thread=thread, body="Bleibt stehen.")
        deleted = post_create(other, thread=thread, body="Wird gelöscht.")
        hidden = post_create(other, thread=thread, body="Wird ausgeblendet.")
        post_delete(other, post=deleted)
        Post.objects.filter(pk=hidden.pk).update(is_hidden=True)  # moderation has no service yet
        response = client.get(f"/feeds/t/{thread.pk}/")
        feed = parse(response)
        ids = {entry.id for entry in feed.entries}
        assert ids == {
            f"tag:{HOST},2026:post:{thread.posts.get(number=1).pk}",
            f"tag:{HOST},2026:post:{kept.pk}",
        }
        assert (
            b"gel\xc3\xb6scht" not in response.content and b"ausgeblendet" not in response.content
        )
        entry = next(e for e in feed.entries if e.id.endswith(f":post:{kept.pk}"))
        assert entry.link == f"http://testserver{thread.get_absolute_url()}#post-2"
        assert entry.author == other.display_name
        assert entry.title == "Beitrag #2 von Thomas Wagner"

    def test_a_hidden_first_post_leaves_the_thread_entry_without_content(
        self, client, member, public
    ):
        thread = make_thread(member, category=public, body="Geheimer Eröffnungstext.")
        Post.objects.filter(thread=thread, number=1).update(is_hidden=True)
        response = client.get("/feeds/themen/")
        (entry,) = parse(response).entries
        assert "content" not in entry
        assert b"Geheimer" not in response.content


@pytest.mark.django_db
class TestQueryCounts:
    def _fill(self, member, other, public, n):
        for i in range(n):
            thread = make_thread(
                member if i % 2 else other,
                category=public,
                title=f"Thema Nummer {i} zum Test",
                tags=[f"Tag{i}", "Leerstand"],
            )
            post_create(other, thread=thread, body=f"Antwort {i}")

    @pytest.mark.parametrize(
        ("url", "queries"),
        [
            ("/feeds/themen/", 2),  # threads with first post, tags
            ("/feeds/c/innenstadt/", 3),  # + the category
            ("/feeds/tags/leerstand/", 3),  # + the tag
            ("/feeds/o/bochum/", 3),  # + the organisation
        ],
    )
    def test_thread_feeds_do_not_grow_with_threads(
        self, client, member, other, public, url, queries, django_assert_num_queries
    ):
        self._fill(member, other, public, 2)
        with django_assert_num_queries(queries):
            assert len(parse(client.get(url)).entries) >= 1
        self._fill(member, other, public, 12)
        with django_assert_num_queries(queries):
            assert len(parse(client.get(url)).entries) >= 7

    def test_the_thread_feed_does_not_grow_with_posts(
        self, client, member, other, public, django_assert_num_queries
    ):
        thread = make_thread(member, category=public)
        with django_assert_num_queries(2):  # the thread, its posts
            parse(client.get(f"/feeds/t/{thread.pk}/"))
        for i in range(24):
            post_create(other if i % 2 else member, thread=thread, body=f"Antwort {i}")
        with django_assert_num_queries(2):
            feed = parse(client.get(f"/feeds/t/{thread.pk}/"))
        assert len(feed.entries) == 25
        newest = feed.entries[0]
        assert newest.link.endswith("?seite=2#post-25")


@pytest.mark.django_db
class TestAutodiscovery:
    LINK = '<link rel="alternate" type="application/atom+xml"'

    def test_public_pages_announce_their_feed(self, client, threads, bochum):
        visible = threads["visible"]
        for url, feed_url in [
            ("/", "/feeds/themen/"),
            ("/c/innenstadt/", "/feeds/c/innenstadt/"),
            ("/tags/leerstand/", "/feeds/tags/leerstand/"),
            (bochum.get_absolute_url(), "/feeds/o/bochum/"),
            (visible.get_absolute_url(), f"/feeds/t/{visible.pk}/"),
        ]:
            html = client.get(url).content.decode()
            assert self.LINK in html and f'href="{feed_url}"' in html, url
        for url in ["/c/innenstadt/", "/tags/leerstand/", bochum.get_absolute_url()]:
            assert "Feed abonnieren" in client.get(url).content.decode(), url

    def test_private_and_hidden_pages_announce_no_feed(self, member, moderator, threads):
        as_member, as_moderator = logged_in(member), logged_in(moderator)
        pages = [
            (as_member, "/c/intern/"),
            (as_member, threads["members_only"].get_absolute_url()),
            (as_moderator, "/c/moderation/"),
            (as_moderator, threads["hidden"].get_absolute_url()),
            (as_moderator, threads["moderation"].get_absolute_url()),
        ]
        for reader, url in pages:
            response = reader.get(url)
            html = response.content.decode()
            assert response.status_code == 200, url
            assert "application/atom+xml" not in html and "Feed abonnieren" not in html, url


def test_tag_uris_use_the_configured_host_without_port(settings):
    from forum.feeds import tag_uri

    settings.SITE_URL = "https://forum.example.org:8443"
    assert tag_uri("thread", 7) == "tag:forum.example.org,2026:thread:7"
    assert settings.FORUM_NAME  # the feed author
