"""Reports, the review queue, hiding and showing posts with reasons, and the audit log."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from forum.models import AuditEntry, Category, Kind, Notification, Post, Report
from forum.services.moderation import post_hide, post_unhide, report_create, report_dismiss
from forum.services.notifications import describe
from forum.services.posts import post_create
from tests.factories import CategoryFactory, make_member, make_thread, make_user


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def ben(network):
    return make_member(email="ben.koch@bochum.de", handle="ben-koch")


@pytest.fixture
def reply(member, ben, public):
    thread = make_thread(member, category=public, title="Ein Thema mit Streit")
    return post_create(ben, thread=thread, body="Ein unpassender Beitrag.")


def notes(user, kind):
    return list(Notification.objects.filter(recipient=user, kind=kind))


@pytest.mark.django_db
class TestReports:
    def test_a_member_reports_once_per_post(self, member, reply):
        first = report_create(member, post=reply, reason=Report.Reason.OFFENSIVE)
        again = report_create(member, post=reply, reason=Report.Reason.SPAM)
        assert first.pk == again.pk and Report.objects.count() == 1

    def test_own_posts_other_without_text_and_non_members_are_refused(self, network, ben, reply):
        with pytest.raises(ValidationError):
            report_create(ben, post=reply, reason=Report.Reason.SPAM)
        reader = make_member(email="cara.lang@bochum.de", handle="cara-lang")
        with pytest.raises(ValidationError):
            report_create(reader, post=reply, reason=Report.Reason.OTHER, text="  ")
        pending = make_user(email="paul@posteo.de", handle="paul")
        with pytest.raises(PermissionDenied):
            report_create(pending, post=reply, reason=Report.Reason.SPAM)

    def test_a_thread_one_may_not_read_cannot_be_reported(self, network, member):
        staff = CategoryFactory(visibility=Category.Visibility.MODERATORS)
        from tests.factories import make_moderator

        thread = make_thread(make_moderator(), category=staff, title="Nur Moderation hier")
        with pytest.raises(Http404):
            report_create(member, post=thread.posts.get(), reason=Report.Reason.SPAM)

    def test_reporting_is_rate_limited(self, member, ben, public):
        thread = make_thread(member, category=public, title="Viele Beiträge zum Melden")
        posts = [post_create(ben, thread=thread, body=f"Beitrag {n}") for n in range(11)]
        for post in posts[:10]:
            report_create(member, post=post, reason=Report.Reason.SPAM)
        with pytest.raises(ValidationError, match="viele Beiträge gemeldet"):
            report_create(member, post=posts[10], reason=Report.Reason.SPAM)


@pytest.mark.django_db
class TestActions:
    def test_hiding_needs_a_moderator_and_a_reason(self, member, moderator, reply):
        with pytest.raises(PermissionDenied):
            post_hide(member, post=reply, reason="Weil ich es sage.")
        with pytest.raises(ValidationError):
            post_hide(moderator, post=reply, reason="   ")
        reply.refresh_from_db()
        assert not reply.is_hidden
        assert not AuditEntry.objects.filter(action__startswith="post.").exists()

    def test_hiding_tells_author_and_reporters_and_is_recorded(self, member, ben, moderator, reply):
        report_create(member, post=reply, reason=Report.Reason.OFFENSIVE, text="Ton!")
        post_hide(moderator, post=reply, reason="Persönlicher Angriff, siehe Netiquette Nr. 2.")
        reply.refresh_from_db()
        assert reply.is_hidden
        entry = AuditEntry.objects.get(action="post.hidden")
        assert entry.reason == "Persönlicher Angriff, siehe Netiquette Nr. 2."
        assert entry.old_value == {"is_hidden": False} and entry.new_value == {"is_hidden": True}
        assert "Ein Thema mit Streit" in entry.target_label
        statement = describe(notes(ben, Kind.MODERATION)[0])
        assert "ausgeblendet" in statement and "Netiquette Nr. 2" in statement
        outcome = describe(notes(member, Kind.REPORT)[0])
        assert "ausgeblendet" in outcome
        assert Report.objects.get().status == Report.Status.UPHELD

    def test_showing_again_is_recorded_and_told(self, ben, moderator, reply):
        post_hide(moderator, post=reply, reason="Vorläufig ausgeblendet.")
        post_unhide(moderator, post=reply, reason="Nach Rücksprache wieder sichtbar.")
        reply.refresh_from_db()
        assert not reply.is_hidden
        actions = AuditEntry.objects.filter(action__startswith="post.").order_by("id")
        assert list(actions.values_list("action", flat=True)) == [
            "post.hidden",
            "post.unhidden",
        ]
        texts = [describe(n) for n in notes(ben, Kind.MODERATION)]
        assert any("wieder eingeblendet" in t for t in texts)

    def test_dismissing_a_report_keeps_the_post_and_tells_the_reporter(
        self, member, moderator, reply
    ):
        report = report_create(member, post=reply, reason=Report.Reason.SPAM)
        report_dismiss(moderator, report=report, reason="Das ist ein sachlicher Hinweis.")
        reply.refresh_from_db()
        assert not reply.is_hidden
        assert Report.objects.get().status == Report.Status.DISMISSED
        assert "bleibt sichtbar" in describe(notes(member, Kind.REPORT)[0])
        assert AuditEntry.objects.filter(action="report.dismissed").exists()


@pytest.mark.django_db
class TestViews:
    def test_the_report_form_acknowledges(self, client, member, reply):
        client.force_login(member)
        page = client.get(f"/beitrag/{reply.pk}/melden/").content.decode()
        assert "Was stimmt mit diesem Beitrag nicht?" in page
        response = client.post(f"/beitrag/{reply.pk}/melden/", {"reason": "offensive"}, follow=True)
        assert "Danke, Ihre Meldung ist bei der Moderation eingegangen" in response.content.decode()
        bad = client.post(f"/beitrag/{reply.pk}/melden/", {"reason": "other", "text": ""})
        assert bad.status_code == 400
        assert "Bitte beschreiben Sie kurz" in bad.content.decode()

    def test_queue_shows_context_and_the_moderator_settles_it(self, member, mod_client, reply):
        report_create(member, post=reply, reason=Report.Reason.OFFENSIVE, text="Sehr unhöflich")
        page = mod_client.get("/mod/").content.decode()
        assert "Ein unpassender Beitrag." in page and "Sehr unhöflich" in page
        assert "Ein Thema mit Streit" in page and "Bisher 1 Beiträge" in page
        mod_client.post(f"/mod/beitrag/{reply.pk}/ausblenden/", {"reason": "Unsachlich."})
        assert Post.objects.get(pk=reply.pk).is_hidden
        assert "Keine offenen Meldungen" in mod_client.get("/mod/").content.decode()
        log = mod_client.get("/mod/log/").content.decode()
        assert "post.hidden" in log and "Unsachlich." in log

    def test_a_missing_reason_loses_nothing_and_changes_nothing(self, mod_client, reply):
        response = mod_client.post(
            f"/mod/beitrag/{reply.pk}/ausblenden/", {"reason": ""}, follow=True
        )
        assert "Bitte geben Sie eine Begründung an" in response.content.decode()
        assert not Post.objects.get(pk=reply.pk).is_hidden


@pytest.mark.django_db
class TestThreadActions:
    def test_lock_pin_and_move_are_recorded_and_told(self, member, moderator, public, reply):
        from forum.services.moderation import thread_moderate

        thread = reply.thread
        with pytest.raises(PermissionDenied):
            thread_moderate(member, thread=thread, action="lock", reason="Ich will es so.")
        thread_moderate(moderator, thread=thread, action="lock", reason="Frage ist beantwortet.")
        thread_moderate(moderator, thread=thread, action="pin", reason="Gutes Beispiel.")
        internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        thread_moderate(
            moderator, thread=thread, action="move", reason="Passt besser.", category=internal
        )
        thread.refresh_from_db()
        assert thread.is_locked and thread.is_pinned and thread.category_id == internal.pk
        actions = AuditEntry.objects.filter(action__startswith="thread.").order_by("id")
        assert list(actions.values_list("action", flat=True)) == [
            "thread.locked",
            "thread.pinned",
            "thread.moved",
        ]
        assert actions.last().old_value == {"category": public.name}
        texts = [describe(n) for n in notes(member, Kind.MODERATION)]
        assert any("geschlossen" in t and "Frage ist beantwortet." in t for t in texts)
        assert any("verschoben" in t for t in texts)

    def test_a_repeated_action_changes_and_records_nothing(self, moderator, reply):
        from forum.services.moderation import thread_moderate

        thread_moderate(moderator, thread=reply.thread, action="lock", reason="Zu.")
        thread_moderate(moderator, thread=reply.thread, action="lock", reason="Noch einmal zu.")
        assert AuditEntry.objects.filter(action="thread.locked").count() == 1

    def test_the_thread_form_works_for_moderators(self, mod_client, reply):
        response = mod_client.post(
            f"/mod/thema/{reply.thread_id}/", {"aktion": "lock", "reason": "Erledigt."}
        )
        assert response.status_code == 302
        reply.thread.refresh_from_db()
        assert reply.thread.is_locked
        missing = mod_client.post(
            f"/mod/thema/{reply.thread_id}/", {"aktion": "unlock", "reason": ""}, follow=True
        )
        assert "Bitte geben Sie eine Begründung an" in missing.content.decode()


MOD_GETS = ["/mod/", "/mod/log/"]


def mod_posts(post):
    return [
        f"/mod/beitrag/{post.pk}/ausblenden/",
        f"/mod/beitrag/{post.pk}/einblenden/",
        f"/mod/beitrag/{post.pk}/meldung-zurueckweisen/",
        f"/mod/thema/{post.thread_id}/",
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["visitor", "pending", "member", "moderator_without_2fa"])
def test_permission_matrix_refuses_every_moderation_surface(client, role, network, reply):
    """Roles by actions: nobody but a moderator with 2FA gets through; nothing changes."""
    from tests.factories import make_moderator

    if role == "pending":
        client.force_login(make_user(email="paul@posteo.de", handle="paul"))
    elif role == "member":
        client.force_login(make_member(email="cara.lang@bochum.de", handle="cara-lang"))
    elif role == "moderator_without_2fa":
        client.force_login(make_moderator(email="m2@agentur.example.org", handle="m-zwei"))
    for url in MOD_GETS:
        status = client.get(url).status_code
        assert status in (302, 403), (role, url, status)
    for url in mod_posts(reply):
        status = client.post(url, {"reason": "Versuch", "aktion": "lock"}).status_code
        assert status in (302, 403), (role, url, status)
    reply.refresh_from_db()
    assert not reply.is_hidden
    assert not AuditEntry.objects.filter(action__startswith=("post.")).exists()
    assert not AuditEntry.objects.filter(action__startswith="report.").exists()
    assert not AuditEntry.objects.filter(action__startswith="thread.").exists()
    if role == "member":
        assert client.get("/mod/").status_code == 403


@pytest.mark.django_db
def test_the_return_address_never_leaves_the_site(mod_client, client, member, reply):
    outside = mod_client.post(
        f"/mod/beitrag/{reply.pk}/ausblenden/",
        {"reason": "Unsachlich.", "weiter": "https://evil.example/"},
    )
    assert outside["Location"] == "/mod/"
    named = mod_client.post(
        f"/mod/beitrag/{reply.pk}/einblenden/", {"reason": "Doch.", "weiter": "admin:index"}
    )
    assert named["Location"] == "/mod/"
    inside = mod_client.post(
        f"/mod/beitrag/{reply.pk}/ausblenden/",
        {"reason": "Wieder.", "weiter": f"/t/{reply.thread_id}/?beitrag=2"},
    )
    assert inside["Location"] == f"/t/{reply.thread_id}/?beitrag=2"
    client.force_login(member)
    response = client.post("/notifications/gelesen/", {"alle": "1", "weiter": "//evil.example/x"})
    assert response["Location"] == "/notifications/"


@pytest.mark.django_db
def test_moderators_see_that_a_post_is_hidden(mod_client, client, member, moderator, reply):
    post_hide(moderator, post=reply, reason="Unsachlich.")
    page = mod_client.get(reply.thread.get_absolute_url()).content.decode()
    assert "Nur die Moderation sieht diesen Beitrag." in page and "Ein unpassender Beitrag." in page
    client.force_login(member)
    page = client.get(reply.thread.get_absolute_url()).content.decode()
    assert "Ein unpassender Beitrag." not in page
    assert "von der Moderation ausgeblendet" in page


@pytest.mark.django_db
class TestPostingLimits:
    def test_replies_and_threads_are_limited_with_a_clear_message(
        self, settings, client, member, ben, moderator, public
    ):
        settings.FORUM_POSTS_PER_MINUTE = 3
        settings.FORUM_THREADS_PER_HOUR = 1
        thread = make_thread(ben, category=public, title="Ein Thema für viele Antworten")
        for n in range(3):
            post_create(member, thread=thread, body=f"Antwort {n}")
        with pytest.raises(ValidationError, match="in der letzten Minute"):
            post_create(member, thread=thread, body="Eine zu viel")
        post_create(moderator, thread=thread, body="Die Moderation darf.")
        with pytest.raises(ValidationError, match="viele Themen begonnen"):
            make_thread(ben, category=public, title="Noch ein Thema in dieser Stunde")
        # Through the form: the message appears and the text is kept.
        client.force_login(member)
        response = client.post(
            f"/t/{thread.pk}/antworten/",
            {"body": "Mein wichtiger Text", "client_token": str(uuid.uuid4())},
        )
        page = response.content.decode()
        assert response.status_code == 429
        assert "in der letzten Minute" in page and "Mein wichtiger Text" in page
