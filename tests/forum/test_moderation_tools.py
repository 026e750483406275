"""Held posts, pins, merging and splitting with redirects, moderator edits with reasons,
appeals from the notice, and following collections."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from forum.models import (
    Appeal,
    AuditEntry,
    Category,
    Collection,
    Kind,
    Level,
    Notification,
    Post,
    PostMove,
    Thread,
    ThreadFollow,
)
from forum.services import collections as collection_service
from forum.services import moderation
from forum.services.following import follow_set
from forum.services.posts import post_create, post_edit
from forum.services.threads import answer_accept, thread_update
from tests.factories import CategoryFactory, make_member, make_thread


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC, slug="stadtentwicklung")


@pytest.fixture
def ben(network):
    return make_member(email="ben.koch@bochum.de", handle="ben-koch")


@pytest.fixture
def cara(network):
    return make_member(email="cara.lang@bochum.de", handle="cara-lang")


def notes(user, kind=Kind.MODERATION):
    return list(Notification.objects.filter(recipient=user, kind=kind).order_by("pk"))


@pytest.mark.django_db
class TestHeldPosts:
    @pytest.fixture(autouse=True)
    def _hold_first(self, settings):
        settings.FORUM_HOLD_FIRST_POSTS = 1

    def test_a_new_members_first_reply_waits_and_only_author_and_moderation_see_it(
        self, client, moderator, mod_client, member, ben, public
    ):
        moderation_thread = make_thread(moderator, category=public, title="Frage der Moderation")
        held = post_create(ben, thread=moderation_thread, body="Meine erste Antwort hier.")
        assert held.is_held
        moderation_thread.refresh_from_db()
        assert moderation_thread.post_count == 1 and moderation_thread.last_number == 2
        url = moderation_thread.get_absolute_url()
        client.force_login(member)
        assert "Meine erste Antwort hier." not in client.get(url).content.decode()
        client.force_login(ben)
        page = client.get(url).content.decode()
        assert "Meine erste Antwort hier." in page and "wartet auf Freigabe" in page
        queue = mod_client.get("/mod/").content.decode()
        assert "Beiträge zur Freigabe" in queue and "Meine erste Antwort hier." in queue

    def test_approval_publishes_and_tells_watchers_and_the_author(
        self, mod_client, moderator, member, ben, public
    ):
        thread = make_thread(moderator, category=public, title="Frage der Moderation")
        follow_set(member, target=thread, level=Level.WATCHING)
        held = post_create(ben, thread=thread, body="Meine erste Antwort hier.")
        assert not Notification.objects.filter(recipient=member, kind=Kind.REPLY).exists()
        response = mod_client.post(f"/mod/beitrag/{held.pk}/freigeben/")
        assert response.status_code == 302
        held.refresh_from_db()
        thread.refresh_from_db()
        assert not held.is_held and thread.post_count == 2
        assert Notification.objects.filter(recipient=member, kind=Kind.REPLY).exists()
        assert "freigegeben" in json.dumps(notes(ben)[0].data)
        assert AuditEntry.objects.filter(action="post.approved").exists()
        # Once one post is through, the next one is not held.
        assert not post_create(ben, thread=thread, body="Die zweite Antwort.").is_held

    def test_a_held_new_thread_is_invisible_in_lists_until_approved(
        self, client, moderator, member, ben, public
    ):
        thread = make_thread(ben, category=public, title="Mein erstes eigenes Thema")
        assert thread.is_held
        client.force_login(member)
        assert client.get(thread.get_absolute_url()).status_code == 404
        assert "Mein erstes eigenes Thema" not in client.get("/").content.decode()
        client.force_login(ben)
        assert client.get(thread.get_absolute_url()).status_code == 200
        moderation.post_approve(moderator, post=thread.posts.get())
        thread.refresh_from_db()
        assert not thread.is_held and thread.post_count == 1
        client.force_login(member)
        assert "Mein erstes eigenes Thema" in client.get("/").content.decode()

    def test_rejection_needs_a_reason_and_tells_the_author(self, moderator, ben, public):
        thread = make_thread(ben, category=public, title="Mein erstes eigenes Thema")
        first = thread.posts.get()
        with pytest.raises(ValidationError):
            moderation.post_reject(moderator, post=first, reason=" ")
        moderation.post_reject(moderator, post=first, reason="Werbung für ein Produkt.")
        thread.refresh_from_db()
        first.refresh_from_db()
        assert first.is_deleted and thread.is_hidden
        (notice,) = notes(ben)
        assert notice.reason == "Werbung für ein Produkt." and notice.data["audit"]

    def test_moderators_and_established_members_are_not_held(self, moderator, member, public):
        assert not make_thread(moderator, category=public, title="Thema der Moderation").is_held

    def test_members_cannot_approve(self, member, ben, moderator, public):
        thread = make_thread(moderator, category=public, title="Frage der Moderation")
        held = post_create(ben, thread=thread, body="Meine erste Antwort hier.")
        with pytest.raises(PermissionDenied):
            moderation.post_approve(member, post=held)


@pytest.mark.django_db
class TestPins:
    def test_a_category_pin_stays_in_its_category_and_a_global_pin_tops_the_start_page(
        self, client, moderator, member, public
    ):
        other = CategoryFactory(visibility=Category.Visibility.PUBLIC, slug="verkehr")
        local = make_thread(member, category=public, title="Im Themenfeld angeheftet")
        make_thread(member, category=other, title="Das neueste Thema überhaupt")
        moderation.thread_moderate(moderator, thread=local, action="pin", reason="Wichtig hier.")
        home = client.get("/").content.decode()
        assert home.index("Das neueste Thema überhaupt") < home.index("Im Themenfeld angeheftet")
        category_page = client.get(f"/c/{public.slug}/").content.decode()
        assert "im Themenfeld angeheftet" in category_page
        moderation.thread_moderate(
            moderator, thread=local, action="pin_global", reason="Wichtig für alle."
        )
        home = client.get("/").content.decode()
        assert home.index("Im Themenfeld angeheftet") < home.index("Das neueste Thema überhaupt")
        moderation.thread_moderate(moderator, thread=local, action="unpin", reason="Erledigt.")
        local.refresh_from_db()
        assert not local.is_pinned and not local.is_pinned_globally
        actions = list(
            AuditEntry.objects.filter(target_id=str(local.pk)).values_list("action", flat=True)
        )
        assert {"thread.pinned", "thread.pinned_globally", "thread.unpinned"} <= set(actions)


@pytest.mark.django_db
class TestModeratorEdits:
    def test_editing_someone_elses_post_needs_a_reason_that_the_author_gets(
        self, moderator, member, public
    ):
        thread = make_thread(member, category=public, title="Eine Frage mit Telefonnummer")
        first = thread.posts.get()
        with pytest.raises(ValidationError):
            post_edit(moderator, post=first, body="Ohne Nummer.")
        post_edit(moderator, post=first, body="Ohne Nummer.", reason="Private Nummer entfernt.")
        entry = AuditEntry.objects.get(action="post.edited")
        assert entry.reason == "Private Nummer entfernt."
        assert entry.old_value == {"body": "Erster Beitrag."}
        (notice,) = notes(member)
        assert notice.reason == "Private Nummer entfernt." and notice.data["audit"] == entry.pk
        assert first.revisions.get().edited_by == moderator

    def test_retagging_and_changing_the_kind_are_recorded_with_reason(
        self, mod_client, moderator, member, public
    ):
        thread = make_thread(member, category=public, title="Eine Frage zum Leerstand")
        response = mod_client.post(
            f"/t/{thread.pk}/bearbeiten/",
            {"title": thread.title, "kind": "discussion", "tags": "leerstand, innenstadt"},
        )
        assert response.status_code == 400
        assert "Bitte begründen Sie die Änderung" in response.content.decode()
        assert "leerstand, innenstadt" in response.content.decode()  # nothing typed is lost
        thread_update(
            moderator,
            thread=thread,
            title=thread.title,
            tags=["Leerstand"],
            kind="discussion",
            reason="Eher eine Diskussion.",
        )
        entry = AuditEntry.objects.get(action="thread.changed")
        assert entry.old_value["kind"] == "question" and entry.new_value["kind"] == "discussion"
        assert "Schlagwörter" in notes(member)[0].data["action"]

    def test_authors_edit_without_reason(self, member, public):
        thread = make_thread(member, category=public, title="Eine Frage zum Leerstand")
        post_edit(member, post=thread.posts.get(), body="Neu formuliert.")
        assert not AuditEntry.objects.filter(action="post.edited").exists()


@pytest.mark.django_db
class TestMerge:
    def test_posts_move_to_the_end_and_old_addresses_follow(
        self, client, moderator, member, ben, cara, public
    ):
        target = make_thread(member, category=public, title="Förderanträge richtig stellen")
        post_create(ben, thread=target, body="Antwort im Ziel.")
        source = make_thread(cara, category=public, title="Förderantrag stellen, aber wie?")
        moved = post_create(ben, thread=source, body="Antwort im doppelten Thema.")
        follow_set(member, target=source, level=Level.WATCHING)
        moderation.thread_merge(moderator, thread=source, into=target, reason="Doppelt gefragt.")
        target.refresh_from_db()
        source.refresh_from_db()
        moved.refresh_from_db()
        assert moved.thread_id == target.pk and moved.number == 4
        assert target.post_count == 4 and target.last_number == 4
        assert source.merged_into_id == target.pk and source.is_hidden
        assert ThreadFollow.objects.filter(user=member, thread=target).exists()
        # The old thread address redirects; an old post number finds the post's new place.
        response = client.get(source.get_absolute_url())
        assert response.status_code == 301 and response["Location"].endswith(f"?aus={source.pk}")
        response = client.get(f"/t/{source.pk}/?beitrag=2")
        assert response["Location"].endswith("#post-4")
        page = client.get(response["Location"].split("#")[0] + f"?aus={source.pk}")
        assert 'id="moved-posts"' in page.content.decode()
        assert {n.recipient_id for n in Notification.objects.filter(kind=Kind.MODERATION)} == {
            cara.pk,
            ben.pk,
        }
        assert AuditEntry.objects.get(action="thread.merged").reason == "Doppelt gefragt."

    def test_merge_refuses_itself_and_members(self, moderator, member, public):
        thread = make_thread(member, category=public, title="Ein Thema allein")
        other = make_thread(member, category=public, title="Ein anderes Thema")
        with pytest.raises(ValidationError):
            moderation.thread_merge(moderator, thread=thread, into=thread, reason="Test.")
        with pytest.raises(PermissionDenied):
            moderation.thread_merge(member, thread=thread, into=other, reason="Test.")

    def test_the_merge_form_keeps_what_was_typed(self, mod_client, member, public):
        thread = make_thread(member, category=public, title="Ein Thema allein")
        response = mod_client.post(
            f"/mod/thema/{thread.pk}/zusammenfuehren/", {"ziel": "999999", "reason": "Doppelt."}
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert "Ein Thema mit dieser Nummer gibt es nicht." in body and "Doppelt." in body


@pytest.mark.django_db
class TestSplit:
    def test_chosen_replies_become_a_new_thread_and_old_links_follow(
        self, client, mod_client, moderator, member, ben, cara, public
    ):
        thread = make_thread(member, category=public, title="Leerstand in der Innenstadt")
        post_create(ben, thread=thread, body="Zum Thema.")
        off = post_create(cara, thread=thread, body="Ganz andere Frage: Parkgebühren?")
        answer = post_create(ben, thread=thread, body="Parkgebühren regelt bei uns die Satzung.")
        answer_accept(member, post=answer)
        response = mod_client.post(
            f"/mod/thema/{thread.pk}/teilen/",
            {
                "numbers": [str(off.number), str(answer.number)],
                "title": "Parkgebühren in der Innenstadt",
                "category": str(public.pk),
                "kind": "question",
                "reason": "Eigene Frage.",
            },
        )
        assert response.status_code == 302
        new = Thread.objects.get(title="Parkgebühren in der Innenstadt")
        assert list(new.posts.order_by("number").values_list("number", "author_id")) == [
            (1, cara.pk),
            (2, ben.pk),
        ]
        assert new.author == cara and new.post_count == 2 and new.accepted_post_id == answer.pk
        thread.refresh_from_db()
        assert thread.post_count == 2 and thread.last_number == 4 and thread.accepted_post is None
        assert set(PostMove.objects.values_list("old_number", flat=True)) == {3, 4}
        # Old links: ?beitrag=3 goes to the new thread; the old page maps #post-3 for browsers.
        response = client.get(f"/t/{thread.pk}/?beitrag=3")
        assert response["Location"] == new.get_absolute_url() + "#post-1"
        page = client.get(thread.get_absolute_url()).content.decode()
        assert 'id="moved-posts"' in page and "Ganz andere Frage" not in page
        # A new reply in the old thread takes a fresh number, never a moved one.
        assert post_create(member, thread=thread, body="Weiter im Text.").number == 5

    def test_the_first_post_stays(self, moderator, member, public):
        thread = make_thread(member, category=public, title="Leerstand in der Innenstadt")
        with pytest.raises(ValidationError):
            moderation.thread_split(
                moderator,
                thread=thread,
                numbers=[1],
                title="Ein neuer Titel hier",
                category=public,
                kind="question",
                reason="Test.",
            )

    def test_the_split_form_keeps_choices_on_error(self, mod_client, member, ben, public):
        thread = make_thread(member, category=public, title="Leerstand in der Innenstadt")
        post_create(ben, thread=thread, body="Zum Thema.")
        response = mod_client.post(
            f"/mod/thema/{thread.pk}/teilen/",
            {"numbers": ["2"], "title": "", "category": str(public.pk), "kind": "question"},
        )
        assert response.status_code == 400
        body = response.content.decode()
        assert 'value="2" checked' in body and "Titel" in body


@pytest.mark.django_db
class TestAppeals:
    def test_the_affected_person_appeals_from_the_notice_and_hears_the_answer(
        self, client, mod_client, moderator, member, ben, public
    ):
        thread = make_thread(member, category=public, title="Ein Thema mit Streit")
        post = post_create(ben, thread=thread, body="Ein deutlicher Beitrag.")
        moderation.post_hide(moderator, post=post, reason="Ton verletzt die Netiquette.")
        (notice,) = notes(ben)
        client.force_login(ben)
        centre = client.get("/notifications/").content.decode()
        assert f"/notifications/{notice.pk}/einspruch/" in centre
        response = client.post(f"/notifications/{notice.pk}/einspruch/", {"text": ""})
        assert response.status_code == 400
        response = client.post(
            f"/notifications/{notice.pk}/einspruch/", {"text": "Das war Sachkritik."}
        )
        assert response.status_code == 302
        appeal = Appeal.objects.get()
        assert appeal.entry.action == "post.hidden"
        assert "Das war Sachkritik." in mod_client.get("/mod/").content.decode()
        with pytest.raises(ValidationError):
            moderation.appeal_create(ben, notification=notice, text="Noch einmal.")
        mod_client.post(f"/mod/einspruch/{appeal.pk}/", {"answer": "Wir blenden ihn wieder ein."})
        appeal.refresh_from_db()
        assert appeal.status == Appeal.Status.ANSWERED and appeal.answered_by == moderator
        (answer,) = notes(ben, Kind.APPEAL)
        assert answer.reason == "Wir blenden ihn wieder ein."

    def test_nobody_else_can_appeal_someone_elses_notice(
        self, client, moderator, member, ben, public
    ):
        thread = make_thread(member, category=public, title="Ein Thema mit Streit")
        post = post_create(ben, thread=thread, body="Ein deutlicher Beitrag.")
        moderation.post_hide(moderator, post=post, reason="Ton verletzt die Netiquette.")
        (notice,) = notes(ben)
        client.force_login(member)
        assert client.get(f"/notifications/{notice.pk}/einspruch/").status_code == 404
        with pytest.raises(PermissionDenied):
            moderation.appeal_create(member, notification=notice, text="Ich auch.")
        with pytest.raises(PermissionDenied):
            moderation.appeal_answer(member, appeal=Appeal(pk=1), answer="Nein.")


@pytest.mark.django_db
class TestFollowingCollections:
    def test_followers_hear_of_publication_and_new_chapters(
        self, client, moderator, member, ben, public
    ):
        collection = collection_service.collection_create(
            moderator, title="Leerstand beleben", intro="", visibility="public", tags=[]
        )
        first = make_thread(member, category=public, title="Zwischennutzung im Erdgeschoss")
        collection_service.collection_add_thread(moderator, collection=collection, thread=first)
        client.force_login(ben)
        # Drafts cannot be followed (nor seen) by members.
        assert client.post(f"/collections/{collection.slug}/folgen/").status_code == 404
        collection_service.collection_set_status(
            moderator, collection=collection, status=Collection.Status.PUBLISHED
        )
        assert client.post(f"/collections/{collection.slug}/folgen/").status_code == 302
        second = make_thread(member, category=public, title="Pop-up-Läden in der Innenstadt")
        collection_service.collection_add_thread(moderator, collection=collection, thread=second)
        (news,) = notes(ben, Kind.COLLECTION_UPDATE)
        assert news.data["event"] == "chapter" and news.thread_id == second.pk

    def test_visitors_cannot_follow_and_member_only_collections_stay_hidden(
        self, client, moderator, public
    ):
        collection = collection_service.collection_create(
            moderator, title="Nur intern", intro="", visibility="members", tags=[]
        )
        collection_service.collection_set_status(
            moderator, collection=collection, status=Collection.Status.PUBLISHED
        )
        response = client.post(f"/collections/{collection.slug}/folgen/")
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_moved_post_numbers_are_never_reused_by_merge(moderator, member, ben, public):
    target = make_thread(member, category=public, title="Ziel mit Lücke")
    post_create(ben, thread=target, body="Zwei.")
    three = post_create(ben, thread=target, body="Drei.")
    new = moderation.thread_split(
        moderator,
        thread=target,
        numbers=[three.number],
        title="Abgetrennte Antwort",
        category=public,
        kind="discussion",
        reason="Eigenes Thema.",
    )
    other = make_thread(member, category=public, title="Noch ein Thema dazu")
    moderation.thread_merge(moderator, thread=other, into=target, reason="Doppelt.")
    assert list(target.posts.order_by("number").values_list("number", flat=True)) == [1, 2, 4]
    assert Post.objects.get(pk=three.pk).thread_id == new.pk
