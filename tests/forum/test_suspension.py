"""Suspending a member for a while or until further notice, and lifting it: the services,
what a suspended person may still do, the moderator's pages, and open sockets."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.utils import timezone

from accounts.models import Organisation, User
from forum import permissions
from forum.models import AuditEntry, Category, Kind, Notification, Report
from forum.services.moderation import report_create
from forum.services.notifications import describe, link
from forum.services.posts import post_create, reaction_toggle
from forum.services.suspension import member_suspend, member_unsuspend
from tests.factories import (
    CategoryFactory,
    activate_totp,
    make_member,
    make_moderator,
    make_thread,
    make_user,
)

REASON = "Wiederholte persönliche Angriffe trotz Hinweis, siehe Netiquette Nr. 2."


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def internal(db):
    return CategoryFactory(visibility=Category.Visibility.MEMBERS)


@pytest.fixture
def ben(network):
    return make_member(email="ben.koch@bochum.de", handle="ben-koch")


@pytest.fixture
def thread(member, public):
    return make_thread(member, category=public, title="Leerstand in der Innenstadt")


@pytest.fixture
def staff(network):
    """An operator who is not a moderator: may use the admin, may not moderate."""
    user = make_member(email="betrieb@bochum.de", handle="betrieb-bochum")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    activate_totp(user)
    return user


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _statements(user: User) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=Kind.MODERATION).order_by("id"))


@pytest.mark.django_db
class TestServices:
    def test_a_suspension_until_a_date_is_recorded_told_and_refuses_every_write(
        self, moderator, member, ben, thread
    ):
        until = timezone.now() + timedelta(days=7)
        member_suspend(moderator, member=ben, until=until, reason=REASON)
        ben = _fresh(ben)
        assert ben.is_suspended and not ben.is_approved_member
        assert ben.suspended_until == until and ben.suspension_reason == REASON
        entry = AuditEntry.objects.get(action="member.suspended")
        assert entry.reason == REASON and entry.target_label == "Ben Koch (@ben-koch)"
        assert entry.old_value == {"suspended": False, "until": None}
        assert entry.new_value == {"suspended": True, "until": until.isoformat()}
        [statement] = _statements(ben)
        assert statement.data["audit"] == entry.pk and statement.data["target"] == "account"
        assert statement.thread_id is None and link(statement) == "/notifications/"
        text = describe(statement)
        day = timezone.localtime(until).strftime("%d.%m.%Y")
        assert f"bis {day}" in text and "gesperrt" in text and REASON in text

        with pytest.raises(PermissionDenied, match=f"bis {day}.*Netiquette Nr. 2"):
            post_create(ben, thread=thread, body="Ich antworte trotzdem.")
        with pytest.raises(PermissionDenied, match="gesperrt"):
            make_thread(ben, category=thread.category, title="Ein neues Thema von Ben")
        with pytest.raises(PermissionDenied, match="gesperrt"):
            reaction_toggle(ben, post=thread.posts.get())
        with pytest.raises(PermissionDenied, match="gesperrt"):
            report_create(ben, post=thread.posts.get(), reason=Report.Reason.SPAM)
        assert thread.posts.count() == 1 and not Report.objects.exists()

    def test_an_indefinite_suspension_lasts_until_a_moderator_lifts_it(
        self, moderator, ben, thread
    ):
        member_suspend(moderator, member=ben, until=None, reason=REASON)
        ben = _fresh(ben)
        assert ben.is_suspended and ben.suspended_until is None
        assert "unbefristet" in describe(_statements(ben)[0])
        with pytest.raises(PermissionDenied, match="unbefristet gesperrt"):
            post_create(ben, thread=thread, body="Noch gesperrt.")

        member_unsuspend(moderator, member=ben, reason="Nach einem klärenden Gespräch.")
        ben = _fresh(ben)
        assert not ben.is_suspended and ben.is_approved_member
        entry = AuditEntry.objects.get(action="member.unsuspended")
        assert entry.reason == "Nach einem klärenden Gespräch."
        assert entry.old_value == {"suspended": True, "until": None}
        lifted = _statements(ben)[-1]
        assert lifted.data["audit"] == entry.pk
        assert "aufgehoben" in describe(lifted) and "klärenden Gespräch" in describe(lifted)
        post_create(ben, thread=thread, body="Wieder dabei.")
        with pytest.raises(ValidationError, match="nicht gesperrt"):
            member_unsuspend(moderator, member=ben, reason="Noch einmal.")
        assert AuditEntry.objects.filter(action="member.unsuspended").count() == 1

    def test_suspending_again_replaces_end_and_reason(self, moderator, ben):
        member_suspend(moderator, member=ben, until=None, reason="Erst unbefristet.")
        first = _fresh(ben).suspended_at
        until = timezone.now() + timedelta(days=1)
        member_suspend(moderator, member=ben, until=until, reason="Doch nur einen Tag.")
        ben = _fresh(ben)
        assert ben.suspended_at == first  # still the same suspension
        assert ben.suspended_until == until and ben.suspension_reason == "Doch nur einen Tag."
        assert AuditEntry.objects.filter(action="member.suspended").count() == 2

    def test_a_suspension_ends_by_itself_when_its_date_passes(self, moderator, ben, thread):
        member_suspend(
            moderator, member=ben, until=timezone.now() + timedelta(days=1), reason=REASON
        )
        # A day later, as the database has it; nothing runs in between.
        User.objects.filter(pk=ben.pk).update(
            suspended_at=timezone.now() - timedelta(days=2),
            suspended_until=timezone.now() - timedelta(minutes=1),
        )
        ben = _fresh(ben)
        assert not ben.is_suspended and ben.is_approved_member
        post_create(ben, thread=thread, body="Ich bin wieder da.")
        with pytest.raises(ValidationError, match="nicht gesperrt"):
            member_unsuspend(moderator, member=ben, reason="Schon abgelaufen.")

    def test_a_suspended_member_reads_only_what_visitors_read(
        self, moderator, member, ben, internal, thread
    ):
        secret = make_thread(member, category=internal, title="Interner Austausch")
        assert permissions.can_view_thread(ben, secret)
        member_suspend(moderator, member=ben, until=None, reason=REASON)
        ben = _fresh(ben)
        assert not permissions.can_view_thread(ben, secret)
        assert permissions.can_view_thread(ben, thread)
        visible = set(permissions.visible_threads(ben).values_list("pk", flat=True))
        assert visible == {thread.pk}

    def test_the_reason_is_required_and_the_end_must_lie_ahead(self, moderator, ben):
        with pytest.raises(ValidationError, match="Bitte geben Sie eine Begründung an"):
            member_suspend(moderator, member=ben, until=None, reason="   ")
        with pytest.raises(ValidationError, match="in der Zukunft"):
            member_suspend(
                moderator, member=ben, until=timezone.now() - timedelta(hours=1), reason=REASON
            )
        member_suspend(moderator, member=ben, until=None, reason=REASON)
        with pytest.raises(ValidationError, match="Bitte geben Sie eine Begründung an"):
            member_unsuspend(moderator, member=ben, reason="")
        assert _fresh(ben).is_suspended
        assert AuditEntry.objects.filter(action__startswith="member.").count() == 1

    def test_only_moderators_suspend(self, member, ben, staff):
        pending = make_user(email="paul@posteo.de", handle="paul")
        for actor in (member, staff, pending):
            with pytest.raises(PermissionDenied):
                member_suspend(actor, member=ben, until=None, reason=REASON)
        assert not _fresh(ben).is_suspended
        assert not AuditEntry.objects.filter(action__startswith="member.").exists()

    def test_moderators_operators_and_oneself_cannot_be_suspended(self, moderator, staff, network):
        other = make_moderator(email="m2@agentur.example.org", handle="m-zwei")
        root = User.objects.create_superuser(
            email="root@agentur.example.org", handle="root-konto", display_name="Root"
        )
        for target in (moderator, other, staff, root):
            with pytest.raises(PermissionDenied, match="nicht"):
                member_suspend(moderator, member=target, until=None, reason=REASON)
        assert not User.objects.filter(suspended_at__isnull=False).exists()

    def test_membership_approval_does_not_clear_a_suspension(self, moderator, ben):
        from accounts.services import membership_approve

        member_suspend(moderator, member=ben, until=None, reason=REASON)
        membership_approve(
            moderator, user=_fresh(ben), organisation=Organisation.objects.get(slug="hamm")
        )
        ben = _fresh(ben)
        assert ben.organisation.slug == "hamm" and ben.is_suspended


SUSPEND = "/mod/members/{}/sperren/"
LIFT = "/mod/members/{}/sperre-aufheben/"


@pytest.mark.django_db
class TestModeratorPages:
    def test_a_moderator_suspends_until_a_date_through_the_form(self, mod_client, ben):
        page = mod_client.get(SUSPEND.format(ben.handle))
        html = page.content.decode()
        assert page.status_code == 200
        assert "Dauer der Sperre" in html and "unbefristet" in html and "bis zu einem Datum" in html
        day = timezone.localdate() + timedelta(days=10)
        response = mod_client.post(
            SUSPEND.format(ben.handle),
            {"duration": "datum", "until_date": day.isoformat(), "reason": REASON},
        )
        assert response.status_code == 302 and response["Location"] == "/u/ben-koch/"
        until = timezone.localtime(_fresh(ben).suspended_until)
        assert until.date() == day and (until.hour, until.minute) == (23, 59)

    @pytest.mark.parametrize("duration, days", [("1", 1), ("7", 7), ("30", 30)])
    def test_the_fixed_durations(self, mod_client, ben, duration, days):
        mod_client.post(SUSPEND.format(ben.handle), {"duration": duration, "reason": REASON})
        left = _fresh(ben).suspended_until - timezone.now()
        assert timedelta(days=days) - timedelta(minutes=1) < left <= timedelta(days=days)

    def test_bad_input_is_explained_next_to_the_field_and_nothing_is_lost(self, mod_client, ben):
        url = SUSPEND.format(ben.handle)
        missing = mod_client.post(url, {"duration": "datum", "until_date": "2031-03-15"})
        html = missing.content.decode()
        assert missing.status_code == 400
        assert "Bitte geben Sie eine Begründung an" in html and 'value="2031-03-15"' in html
        no_date = mod_client.post(url, {"duration": "datum", "reason": "Mein Grund"})
        html = no_date.content.decode()
        assert no_date.status_code == 400
        assert "Bitte wählen Sie das Datum" in html and "Mein Grund" in html
        past = mod_client.post(
            url, {"duration": "datum", "until_date": "2020-01-01", "reason": "Mein Grund"}
        )
        assert past.status_code == 400 and "Vergangenheit" in past.content.decode()
        assert not _fresh(ben).is_suspended
        assert not AuditEntry.objects.filter(action__startswith="member.").exists()

    def test_a_moderator_lifts_a_suspension_with_a_reason(self, mod_client, moderator, ben):
        member_suspend(moderator, member=ben, until=None, reason=REASON)
        page = mod_client.get(SUSPEND.format(ben.handle)).content.decode()
        assert "Sperre aufheben" in page and REASON in page
        missing = mod_client.post(LIFT.format(ben.handle), {"aufheben-reason": ""})
        assert missing.status_code == 400
        assert "Bitte geben Sie eine Begründung an" in missing.content.decode()
        assert _fresh(ben).is_suspended
        done = mod_client.post(LIFT.format(ben.handle), {"aufheben-reason": "Erledigt."})
        assert done.status_code == 302 and not _fresh(ben).is_suspended
        assert mod_client.get(LIFT.format(ben.handle)).status_code == 405

    def test_moderators_operators_and_oneself_cannot_be_suspended_through_the_form(
        self, mod_client, mfa_moderator, staff
    ):
        other = make_moderator(email="m2@agentur.example.org", handle="m-zwei")
        for person, why in [
            (other, "können nicht gesperrt werden"),
            (staff, "können nicht gesperrt werden"),
            (mfa_moderator, "nicht selbst sperren"),
        ]:
            assert mod_client.get(SUSPEND.format(person.handle)).status_code == 403
            response = mod_client.post(
                SUSPEND.format(person.handle), {"duration": "unbefristet", "reason": REASON}
            )
            assert response.status_code == 403 and why in response.content.decode()
            assert not _fresh(person).is_suspended

    def test_the_profile_shows_the_state_to_moderators_only(
        self, client, mod_client, moderator, member, ben
    ):
        member_suspend(moderator, member=ben, until=None, reason=REASON)
        page = mod_client.get("/u/ben-koch/").content.decode()
        assert REASON in page and "Sperre aufheben" in page and "Sperre ändern" in page
        fresh = make_member(email="cara.lang@bochum.de", handle="cara-lang")
        page = mod_client.get("/u/cara-lang/").content.decode()
        assert "Nicht gesperrt." in page and "Sperren …" in page
        client.force_login(member)
        for handle in ("ben-koch", fresh.handle):
            page = client.get(f"/u/{handle}/").content.decode()
            assert REASON not in page and "Sperre" not in page
        members = mod_client.get("/mod/members/").content.decode()
        assert "Zurzeit gesperrt" in members and REASON in members
        assert "gesperrt" in mod_client.get("/u/?q=ben").content.decode()
        assert "gesperrt" not in client.get("/u/?q=ben").content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["visitor", "member", "pending", "staff"])
def test_nobody_but_a_moderator_reaches_the_suspension_pages(client, role, ben, staff):
    if role == "member":
        client.force_login(make_member(email="cara.lang@bochum.de", handle="cara-lang"))
    elif role == "pending":
        client.force_login(make_user(email="paul@posteo.de", handle="paul"))
    elif role == "staff":
        client.force_login(staff)
    for method, url, data in [
        ("get", SUSPEND, {}),
        ("post", SUSPEND, {"duration": "unbefristet", "reason": REASON}),
        ("post", LIFT, {"aufheben-reason": REASON}),
    ]:
        response = getattr(client, method)(url.format(ben.handle), data)
        expected = 302 if role == "visitor" else 403
        assert response.status_code == expected, (role, method, url)
        if role == "visitor":
            assert response["Location"].startswith("/accounts/login/")
    assert not _fresh(ben).is_suspended
    assert not AuditEntry.objects.filter(action__startswith="member.").exists()


@pytest.mark.django_db
class TestWhatTheSuspendedPersonSees:
    def test_every_page_says_until_when_and_why_and_writes_are_refused_with_it(
        self, client, moderator, ben, thread
    ):
        until = timezone.now() + timedelta(days=30)
        member_suspend(moderator, member=ben, until=until, reason=REASON)
        client.force_login(ben)
        day = timezone.localtime(until).strftime("%d.%m.%Y")
        home = client.get("/").content.decode()
        assert f"Ihr Konto ist bis {day}" in home and REASON in home
        assert "Ihre Mitgliedschaft wird geprüft" not in home
        page = client.get(thread.get_absolute_url()).content.decode()
        assert "Solange Ihr Konto gesperrt ist, können Sie nicht antworten." in page
        refused = client.post(
            f"/t/{thread.pk}/antworten/",
            {"body": "Trotzdem eine Antwort.", "client_token": str(uuid.uuid4())},
        )
        assert refused.status_code == 403
        assert f"Ihr Konto ist bis {day}" in refused.content.decode()
        assert thread.posts.count() == 1
        # Reading the statement (and appealing against it) and the own profile stay open.
        centre = client.get("/notifications/").content.decode()
        assert "gesperrt" in centre and REASON in centre
        assert client.get("/u/ben-koch/").status_code == 200
        saved = client.post("/accounts/profile/", {"display_name": "Ben K."})
        assert saved.status_code == 302 and _fresh(ben).display_name == "Ben K."

    def test_a_members_only_thread_is_not_found_while_suspended(
        self, client, moderator, member, ben, internal
    ):
        secret = make_thread(member, category=internal, title="Interner Austausch")
        client.force_login(ben)
        assert client.get(secret.get_absolute_url()).status_code == 200
        member_suspend(moderator, member=ben, until=None, reason=REASON)
        assert client.get(secret.get_absolute_url()).status_code == 404
        assert client.get("/u/").status_code == 403


@pytest.mark.django_db
def test_the_admin_shows_but_cannot_change_a_suspension(client, moderator, ben):
    member_suspend(moderator, member=ben, until=None, reason=REASON)
    root = User.objects.create_superuser(
        email="root@agentur.example.org", handle="root-konto", display_name="Root"
    )
    activate_totp(root)
    client.force_login(root)
    page = client.get(f"/admin/accounts/user/{ben.pk}/change/").content.decode()
    assert REASON in page
    for field in ("suspended_at", "suspended_until", "suspension_reason"):
        assert f'name="{field}"' not in page


def test_the_date_choice_ends_at_the_end_of_that_day():
    from accounts.forms import SuspensionForm

    form = SuspensionForm(
        {"duration": "datum", "until_date": "12.12.2099", "reason": "Grund genug."}
    )
    assert form.is_valid(), form.errors
    until = timezone.localtime(form.until())
    assert until.date() == date(2099, 12, 12) and (until.hour, until.minute) == (23, 59)


# --- Open sockets -----------------------------------------------------------------------------


@pytest.fixture
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def _sockets_forum():
    from django.conf import settings

    from accounts.services import network_load_file

    network_load_file(settings.NETWORK_FILE)
    anna = make_member(email="anna.schmidt@bochum.de", handle="anna-schmidt")
    ben = make_member(email="ben.koch@bochum.de", handle="ben-koch")
    internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
    return (
        anna,
        ben,
        make_moderator(),
        make_thread(anna, category=internal, title="Interner Austausch"),
    )


async def _open_socket(user):
    from asgiref.sync import sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.conf import settings

    from config.asgi import application

    browser = Client()
    await sync_to_async(browser.force_login)(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={browser.cookies[settings.SESSION_COOKIE_NAME].value}"
    socket = WebsocketCommunicator(
        application,
        "/ws/live/",
        headers=[(b"origin", b"http://127.0.0.1:8000"), (b"cookie", cookie.encode())],
    )
    connected, _ = await socket.connect()
    assert connected
    return socket


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_suspension_takes_an_open_socket_out_of_a_members_only_thread(in_memory_layer):
    from asgiref.sync import sync_to_async

    anna, ben, moderator, secret = await sync_to_async(_sockets_forum)()
    socket = await _open_socket(ben)
    await socket.send_json_to({"type": "subscribe", "thread": secret.pk})
    assert (await socket.receive_json_from(timeout=3))["type"] == "subscribed"

    await sync_to_async(member_suspend)(moderator, member=ben, until=None, reason=REASON)
    # Still signed in: the statement arrives live, the socket stays open.
    assert (await socket.receive_json_from(timeout=3))["type"] == "notification"
    await sync_to_async(post_create)(anna, thread=secret, body="Nur für Mitglieder.")
    assert await socket.receive_nothing(timeout=0.3)
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=3) == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_rechecks_the_person_on_every_subscription(in_memory_layer):
    from asgiref.sync import sync_to_async

    _anna, ben, _moderator, secret = await sync_to_async(_sockets_forum)()
    socket = await _open_socket(ben)
    # Suspended without the live signal (as a lost event would leave it).
    await sync_to_async(User.objects.filter(pk=ben.pk).update)(
        suspended_at=timezone.now(), suspension_reason=REASON
    )
    await socket.send_json_to({"type": "subscribe", "thread": secret.pk})
    assert await socket.receive_json_from(timeout=3) == {
        "type": "error",
        "payload": {"reason": "not-found"},
    }
    await socket.disconnect()
