"""Notifications: the writer's rules, the triggers, the centre, preferences and catch-up."""

from __future__ import annotations

import pytest
from django.core import mail

from forum.models import Category, Kind, Level, Notification, NotificationPreference, Thread
from forum.services.following import follow_set
from forum.services.notifications import (
    describe,
    notifications_mark_read,
    notify,
    unread_count,
)
from forum.services.posts import post_create, post_delete, reaction_toggle
from forum.services.threads import answer_accept, summary_set
from tests.factories import CategoryFactory, make_member, make_moderator, make_thread


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def ben(network):
    return make_member(email="ben.koch@bochum.de", handle="ben-koch")


@pytest.fixture
def cara(network):
    return make_member(email="cara.lang@bochum.de", handle="cara-lang")


def inbox(user):
    return list(Notification.objects.filter(recipient=user).order_by("id"))


@pytest.mark.django_db
class TestWriter:
    def test_the_actor_is_never_notified(self, member, public):
        thread = make_thread(member, category=public, title="Ein Thema zum Testen")
        assert notify([member], kind=Kind.MENTION, thread=thread, actor=member) == []
        assert inbox(member) == []

    def test_nobody_hears_of_content_they_may_not_read(self, member, ben, public):
        internal = CategoryFactory(visibility=Category.Visibility.MODERATORS)
        moderator = make_moderator()
        thread = make_thread(moderator, category=internal, title="Nur für die Moderation")
        notify([member, ben], kind=Kind.MENTION, thread=thread, actor=moderator)
        assert inbox(member) == [] and inbox(ben) == []
        hidden = make_thread(member, category=public, title="Später ausgeblendet")
        Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)
        hidden.refresh_from_db()
        notify([ben], kind=Kind.MENTION, thread=hidden, actor=member)
        assert inbox(ben) == []

    def test_pending_people_hear_nothing_of_member_threads(self, network, member, public):
        from tests.factories import make_user

        pending = make_user(email="neu@posteo.de", handle="neu")
        internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        thread = make_thread(member, category=internal, title="Intern unter Mitgliedern")
        notify([pending], kind=Kind.MENTION, thread=thread, actor=member)
        assert inbox(pending) == []

    def test_replies_coalesce_into_one_unread_notification(self, member, ben, cara, public):
        thread = make_thread(
            member, category=public, kind="discussion", title="Viele Antworten erwartet"
        )
        for author in (ben, cara, ben, cara, ben):
            post_create(author, thread=thread, body="Noch eine Antwort dazu.")
        rows = [n for n in inbox(member) if n.kind == Kind.REPLY]
        assert len(rows) == 1 and rows[0].count == 5
        assert describe(rows[0]) == "5 neue Antworten in „Viele Antworten erwartet“"
        notifications_mark_read(member, thread=thread)
        post_create(ben, thread=thread, body="Nach dem Lesen.")
        rows = [n for n in inbox(member) if n.kind == Kind.REPLY]
        assert len(rows) == 2 and rows[-1].count == 1 and rows[-1].read_at is None

    def test_off_means_off_and_email_means_a_mail(self, member, ben, public):
        thread = make_thread(
            member, category=public, kind="discussion", title="Einstellungen wirken"
        )
        NotificationPreference.objects.create(user=member, kind=Kind.REPLY, channel="off")
        post_create(ben, thread=thread, body="Antwort ohne Benachrichtigung.")
        assert inbox(member) == []

    def test_an_email_goes_out_after_commit_for_email_preferences(
        self, member, ben, public, django_capture_on_commit_callbacks
    ):
        thread = make_thread(member, category=public, title="Erwähnung per E-Mail")
        with django_capture_on_commit_callbacks(execute=True):
            post_create(ben, thread=thread, body="Hallo @jonas-becker, was meinen Sie?")
        mentions = [n for n in inbox(member) if n.kind == Kind.MENTION]
        assert len(mentions) == 1
        assert len(mail.outbox) == 1
        assert "erwähnt" in mail.outbox[0].subject
        assert "/t/" in mail.outbox[0].body


@pytest.mark.django_db
class TestTriggers:
    def test_reply_mention_and_quote_each_person_hears_once(self, member, ben, cara, public):
        thread = make_thread(member, category=public, kind="discussion", title="Wer hört was?")
        post_create(ben, thread=thread, body="Erste Antwort von Ben.")
        # Cara quotes Ben (the quote button writes "@ben-koch schrieb in #2:") and mentions Anna.
        post_create(
            cara,
            thread=thread,
            body="@ben-koch schrieb in #2:\n> Erste Antwort von Ben.\n\nGute Idee, @jonas-becker!",
        )
        kinds_ben = [n.kind for n in inbox(ben)]
        kinds_anna = [n.kind for n in inbox(member)]
        assert kinds_ben == [Kind.QUOTE]
        assert Kind.MENTION in kinds_anna
        # Anna's reply notification for Ben's post exists, Cara's post reached her as a mention.
        assert kinds_anna.count(Kind.REPLY) == 1

    def test_muted_threads_stay_silent(self, member, ben, public):
        thread = make_thread(member, category=public, title="Stumm geschaltet")
        follow_set(member, target=thread, level=Level.MUTED)
        post_create(ben, thread=thread, body="Hallo @jonas-becker")
        assert inbox(member) == []

    def test_new_threads_reach_watchers_of_tag_and_category_once(self, member, ben, public):
        from taggit.models import Tag

        from forum.models import TagFollow

        follow_set(ben, target=public, level=Level.WATCHING)
        tag = Tag.objects.create(name="Leerstand", slug="leerstand")
        TagFollow.objects.create(user=ben, tag=tag, level=Level.WATCHING)
        make_thread(member, category=public, title="Neues zum Leerstand", tags=["Leerstand"])
        assert [n.kind for n in inbox(ben)] == [Kind.NEW_THREAD]

    def test_accepted_helpful_summary_and_moderation(self, member, ben, public):
        thread = make_thread(member, category=public, title="Frage mit Lösung")
        reply = post_create(ben, thread=thread, body="Die Antwort.")
        answer_accept(member, post=reply)
        reaction_toggle(member, post=reply)
        summary_set(member, thread=thread, summary="So haben wir es gelöst.")
        moderator = make_moderator()
        post_delete(moderator, post=reply)
        kinds = [n.kind for n in inbox(ben)]
        assert Kind.ACCEPTED in kinds and Kind.HELPFUL in kinds
        assert Kind.SUMMARY in kinds  # Ben watches the thread he answered in
        moderation = [n for n in inbox(ben) if n.kind == Kind.MODERATION]
        assert len(moderation) == 1 and "gelöscht" in describe(moderation[0])

    def test_membership_approval_is_a_notification(self, network):
        from accounts.models import Organisation
        from accounts.services import membership_approve
        from tests.factories import activate_totp, make_user

        person = make_user(email="neu@posteo.de", handle="neu-person")
        moderator = make_moderator()
        activate_totp(moderator)
        membership_approve(
            moderator, user=person, organisation=Organisation.objects.get(slug="bochum")
        )
        assert [n.kind for n in inbox(person)] == [Kind.MEMBERSHIP]


@pytest.mark.django_db
class TestViews:
    def test_centre_lists_filters_and_marks_read(self, client, member, ben, public):
        thread = make_thread(member, category=public, title="Im Postfach")
        post_create(ben, thread=thread, body="Eine Antwort für Anna.")
        client.force_login(member)
        html = client.get("/notifications/").content.decode()
        assert "Ben" in html and "Im Postfach" in html
        assert unread_count(member) == 1
        notification = inbox(member)[0]
        client.post("/notifications/gelesen/", {"id": notification.pk})
        assert unread_count(member) == 0
        assert "Keine ungelesenen" in client.get("/notifications/?zeige=ungelesen").content.decode()

    def test_visiting_the_thread_marks_its_notifications_read(self, client, member, ben, public):
        thread = make_thread(member, category=public, title="Lesen heißt gelesen")
        post_create(ben, thread=thread, body="Neue Antwort.")
        client.force_login(member)
        assert unread_count(member) == 1
        client.get(thread.get_absolute_url())
        assert unread_count(member) == 0

    def test_notification_links_lead_to_the_post(self, client, member, ben, public):
        thread = make_thread(member, category=public, title="Mit Sprungmarke")
        post_create(ben, thread=thread, body="Zweiter Beitrag.")
        client.force_login(member)
        response = client.get(f"/t/{thread.pk}/?beitrag=2")
        assert response.status_code == 302 and response["Location"].endswith("#post-2")

    def test_preferences_are_saved(self, client, member):
        client.force_login(member)
        client.post("/notifications/einstellungen/", {"reply": "off", "mention": "site"})
        assert NotificationPreference.objects.get(user=member, kind="reply").channel == "off"
        html = client.get("/notifications/einstellungen/").content.decode()
        assert 'value="off" checked' in html

    def test_catch_up_returns_what_changed_since_the_cursor(self, client, member, ben, public):
        client.force_login(member)
        first = client.get("/notifications/seit/").json()
        assert first["unread"] == 0 and first["items"] == []
        thread = make_thread(
            member, category=public, kind="discussion", title="Aufholen nach Pause"
        )
        post_create(ben, thread=thread, body="Während die Verbindung weg war.")
        post_create(ben, thread=thread, body="Und noch einmal.")
        later = client.get("/notifications/seit/", {"seit": first["cursor"]}).json()
        assert later["unread"] == 1
        assert [item["text"] for item in later["items"]] == [
            "2 neue Antworten in „Aufholen nach Pause“"
        ]
        # The cursor trails the clock, so the next answer repeats the recent item unchanged
        # (same id and time: the client skips it) and brings nothing new.
        again = client.get("/notifications/seit/", {"seit": later["cursor"]}).json()
        key = [(item["id"], item["updated"]) for item in later["items"]]
        assert [(item["id"], item["updated"]) for item in again["items"]] == key

    def test_catch_up_never_passes_over_a_late_commit(self, client, member, ben, public):
        """A notification stamped before a poll but committed after it still comes next time."""
        from datetime import timedelta

        from django.utils import timezone

        client.force_login(member)
        polled_at = timezone.now()
        cursor = client.get("/notifications/seit/", {"seit": polled_at.isoformat()}).json()[
            "cursor"
        ]
        thread = make_thread(member, category=public, title="Spät bestätigter Eintrag")
        late = notify([member], kind=Kind.MENTION, thread=thread, actor=ben)[0]
        Notification.objects.filter(pk=late.pk).update(updated_at=polled_at - timedelta(seconds=1))
        items = client.get("/notifications/seit/", {"seit": cursor}).json()["items"]
        assert [item["id"] for item in items] == [late.pk]

    def test_catch_up_for_visitors_is_empty_not_an_error(self, client):
        data = client.get("/notifications/seit/").json()
        assert data["unread"] == 0 and data["items"] == []

    def test_new_posts_endpoint_respects_visibility(self, client, member, ben, public):
        internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        secret = make_thread(member, category=internal, title="Nur Mitglieder lesen das")
        assert client.get(f"/t/{secret.pk}/neue-beitraege/?format=anzahl").status_code == 404
        thread = make_thread(member, category=public, title="Öffentlich mit Zuwachs")
        post_create(ben, thread=thread, body="Neu hinzugekommen.")
        counted = client.get(f"/t/{thread.pk}/neue-beitraege/?format=anzahl&nach=1").json()
        assert counted == {"count": 1, "last": 2}
        html = client.get(f"/t/{thread.pk}/neue-beitraege/?nach=1").content.decode()
        assert "Neu hinzugekommen." in html and 'id="post-2"' in html
