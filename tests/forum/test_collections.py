"""Collections (Praxis-Reader): curation, order, publishing, visibility on every surface."""

from __future__ import annotations

from datetime import timedelta

import feedparser
import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from forum.models import AuditEntry, Category, Collection, CollectionEntry, Kind, Notification
from forum.services.collections import (
    collection_add_thread,
    collection_create,
    collection_move_entry,
    collection_set_status,
)
from forum.services.posts import post_create
from forum.services.threads import answer_accept
from tests.factories import CategoryFactory, make_member, make_thread


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def three(member, public, network):
    ben = make_member(email="ben.koch@bochum.de", handle="ben-koch")
    threads = []
    for title in ("Zwischennutzung am Markt", "Verfügungsfonds im Quartier", "Leerstand melden"):
        thread = make_thread(member, category=public, title=title, body=f"Frage zu {title}.")
        answer = post_create(ben, thread=thread, body=f"Unsere Antwort zu {title}.")
        answer_accept(member, post=answer)
        threads.append(thread)
    return threads


def titles(entries):
    return [e.thread.title for e in entries]


@pytest.mark.django_db
class TestCuration:
    def test_only_moderators_curate(self, member, moderator):
        with pytest.raises(PermissionDenied):
            collection_create(member, title="Meine Sammlung")
        collection = collection_create(moderator, title="Gute Praxis Leerstand")
        assert collection.status == Collection.Status.DRAFT
        assert AuditEntry.objects.filter(action="collection.created").exists()

    def test_build_order_and_publish(self, member, moderator, three):
        collection = collection_create(moderator, title="Gute Praxis Innenstadt")
        entries = [collection_add_thread(moderator, collection=collection, thread=t) for t in three]
        # The accepted answer is the key post unless a moderator chooses another.
        three[0].refresh_from_db()
        assert entries[0].key_post_id == three[0].accepted_post_id is not None
        collection_move_entry(moderator, entry=entries[2], direction="up")
        collection_move_entry(moderator, entry=entries[2], direction="up")
        ordered = CollectionEntry.objects.filter(collection=collection).order_by("position")
        assert titles(ordered) == [
            "Leerstand melden",
            "Zwischennutzung am Markt",
            "Verfügungsfonds im Quartier",
        ]
        assert not Notification.objects.filter(kind=Kind.COLLECTION).exists()  # still a draft
        collection_set_status(moderator, collection=collection, status="published")
        collection.refresh_from_db()
        assert collection.stand_date == timezone.localdate()
        # The author of the three threads hears of each once.
        assert Notification.objects.filter(recipient=member, kind=Kind.COLLECTION).count() == 3
        collection_set_status(moderator, collection=collection, status="reviewed")
        collection_set_status(moderator, collection=collection, status="published")
        assert Notification.objects.filter(recipient=member, kind=Kind.COLLECTION).count() == 3


@pytest.mark.django_db
class TestVisibility:
    def make(self, moderator, three, *, visibility, publish=True):
        collection = collection_create(
            moderator, title=f"Sammlung {visibility}", visibility=visibility
        )
        for thread in three:
            collection_add_thread(moderator, collection=collection, thread=thread)
        if publish:
            collection_set_status(moderator, collection=collection, status="published")
        return collection

    def test_visitor_reads_a_public_reader_view(self, client, moderator, three):
        collection = self.make(moderator, three, visibility="public")
        page = client.get(collection.get_absolute_url()).content.decode()
        for thread in three:
            assert thread.title in page
        assert "Unsere Antwort zu Leerstand melden." in page  # the key post
        assert "Akzeptierte Antwort" in page and "Drucken oder als PDF speichern" in page

    def test_member_only_collections_are_invisible_to_visitors_everywhere(
        self, client, member, moderator, three
    ):
        hidden = self.make(moderator, three, visibility="members")
        assert client.get(hidden.get_absolute_url()).status_code == 404
        assert hidden.title not in client.get("/collections/").content.decode()
        feed = feedparser.parse(client.get("/feeds/sammlungen/").content)
        assert feed.bozo == 0 and hidden.title not in [e.title for e in feed.entries]
        client.force_login(member)
        assert client.get(hidden.get_absolute_url()).status_code == 200
        assert hidden.title in client.get("/collections/").content.decode()

    def test_drafts_are_for_moderators_only(self, client, member, mod_client, moderator, three):
        draft = self.make(moderator, three, visibility="public", publish=False)
        client.force_login(member)
        assert client.get(draft.get_absolute_url()).status_code == 404
        assert mod_client.get(draft.get_absolute_url()).status_code == 200

    def test_public_collections_are_in_the_feed(self, client, moderator, three):
        public = self.make(moderator, three, visibility="public")
        feed = feedparser.parse(client.get("/feeds/sammlungen/").content)
        assert feed.bozo == 0 and feed.version == "atom10"
        assert [e.title for e in feed.entries] == [public.title]

    def test_overdue_chapters_show_in_the_queue_and_the_reader(self, mod_client, moderator, three):
        collection = self.make(moderator, three, visibility="public")
        CollectionEntry.objects.filter(thread=three[0]).update(
            review_by=timezone.localdate() - timedelta(days=1)
        )
        assert (
            "möglicherweise veraltet"
            in mod_client.get(collection.get_absolute_url()).content.decode()
        )
        queue = mod_client.get("/mod/").content.decode()
        assert "Prüfung fällig" in queue and three[0].title in queue


@pytest.mark.django_db
def test_the_thread_page_form_adds_to_a_collection(mod_client, moderator, three):
    collection = collection_create(moderator, title="Aus dem Thema heraus")
    response = mod_client.post(
        f"/mod/thema/{three[0].pk}/sammlung/", {"sammlung": collection.pk, "notiz": "Gut."}
    )
    assert response.status_code == 302 and response["Location"] == collection.get_absolute_url()
    entry = CollectionEntry.objects.get()
    assert entry.note_html.strip() == "<p>Gut.</p>"
    again = mod_client.post(
        f"/mod/thema/{three[0].pk}/sammlung/", {"sammlung": collection.pk}, follow=True
    )
    assert "schon in der Sammlung" in again.content.decode()


@pytest.mark.django_db
def test_members_cannot_reach_curation(client, member, moderator, three):
    collection = collection_create(moderator, title="Gesperrt für Mitglieder")
    entry = collection_add_thread(moderator, collection=collection, thread=three[0])
    client.force_login(member)
    for url, data in [
        ("/collections/neu/", {"title": "Versuch"}),
        (f"/collections/{collection.slug}/stand/", {"status": "published"}),
        (f"/collections/eintrag/{entry.pk}/verschieben/", {"richtung": "hoch"}),
        (f"/collections/eintrag/{entry.pk}/bearbeiten/", {"notiz": "x"}),
        (f"/collections/eintrag/{entry.pk}/entfernen/", {}),
        (f"/mod/thema/{three[1].pk}/sammlung/", {"sammlung": collection.pk}),
    ]:
        assert client.post(url, data).status_code == 403, url
    collection.refresh_from_db()
    assert collection.status == Collection.Status.DRAFT
    assert CollectionEntry.objects.count() == 1


@pytest.mark.django_db
def test_search_finds_collections_with_their_visibility(client, member, moderator, three):
    public = collection_create(
        moderator, title="Brachflächenreaktivierung in der Praxis", visibility="public"
    )
    closed = collection_create(
        moderator, title="Brachflächen intern ausgewertet", visibility="members"
    )
    draft = collection_create(moderator, title="Brachflächen im Entwurf", visibility="public")
    for collection in (public, closed):
        collection_add_thread(moderator, collection=collection, thread=three[0])
        collection_set_status(moderator, collection=collection, status="published")
    page = client.get("/search/", {"q": "Brachfläche"}).content.decode()
    assert public.title in page and closed.title not in page and draft.title not in page
    client.force_login(member)
    page = client.get("/search/", {"q": "Brachfläche"}).content.decode()
    assert public.title in page and closed.title in page and draft.title not in page
    assert public.title not in client.get("/search/", {"q": "Brachfläche -Praxis"}).content.decode()
