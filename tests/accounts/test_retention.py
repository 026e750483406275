"""Retention: a warning mail before the end of the period, erasure after it, a login resets."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from accounts.retention import months_before, retention_run
from forum.models import AuditEntry
from tests.factories import PASSWORD, make_member, make_moderator, make_user

DAY = timedelta(days=1)


@pytest.fixture
def now():
    return timezone.now()


def inactive_since(user: User, moment: datetime, *, never_logged_in: bool = False) -> User:
    """Time travel: the account was last used at ``moment``."""
    if never_logged_in:
        User.objects.filter(pk=user.pk).update(last_login=None, date_joined=moment)
    else:
        User.objects.filter(pk=user.pk).update(last_login=moment, date_joined=moment - DAY)
    return User.objects.get(pk=user.pk)


def run(capture, **kwargs):
    with capture(execute=True):
        return retention_run(**kwargs)


def test_months_before_keeps_the_day_or_takes_the_last_of_a_shorter_month():
    tz = timezone.get_current_timezone()
    assert months_before(datetime(2026, 3, 31, 8, tzinfo=tz), 1) == datetime(
        2026, 2, 28, 8, tzinfo=tz
    )
    assert months_before(datetime(2026, 11, 26, tzinfo=tz), 24) == datetime(2024, 11, 26, tzinfo=tz)
    assert months_before(datetime(2026, 1, 15, tzinfo=tz), 13) == datetime(2024, 12, 15, tzinfo=tz)


@pytest.mark.django_db
def test_an_account_inactive_for_almost_the_period_is_warned_once(
    member, now, django_capture_on_commit_callbacks
):
    member = inactive_since(member, months_before(now, 23) - 5 * DAY)
    active = make_member(email="aktiv@bochum.de", handle="aktiv")
    inactive_since(active, now - 300 * DAY)

    report = run(django_capture_on_commit_callbacks, now=now)

    assert [u.pk for u in report.warned] == [member.pk] and report.erased == []
    (message,) = mail.outbox
    assert message.to == [member.email]
    assert "wird am" in message.subject and "gelöscht" in message.subject
    assert "melden Sie sich einfach" in message.body and "/accounts/login/" in message.body
    member.refresh_from_db()
    assert member.retention_warned_at == now
    # A second run (the next day's cron, or a rerun) sends nothing more.
    again = run(django_capture_on_commit_callbacks, now=now + DAY)
    assert again.warned == [] and again.erased == [] and len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_warned_account_still_inactive_after_the_warning_period_is_erased(
    member, now, django_capture_on_commit_callbacks
):
    member = inactive_since(member, months_before(now, 23) - 5 * DAY)
    run(django_capture_on_commit_callbacks, now=now)

    # 29 days later: still within the warning period.
    assert run(django_capture_on_commit_callbacks, now=now + 29 * DAY).erased == []
    later = now + 30 * DAY
    report = run(django_capture_on_commit_callbacks, now=later)
    assert [u.pk for u in report.erased] == [member.pk]
    erased = User.objects.get(pk=member.pk)
    assert erased.erased_at is not None and not erased.is_active
    assert erased.email.endswith("@geloescht.invalid")
    entry = AuditEntry.objects.get(action="member.erased")
    assert entry.actor_id is None and entry.actor_label == "System"
    assert entry.reason.startswith("Inaktivität")
    # Idempotent: nothing left to do.
    assert run(django_capture_on_commit_callbacks, now=later + DAY).erased == []
    assert AuditEntry.objects.filter(action="member.erased").count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_an_account_long_past_the_period_gets_the_full_warning_period(
    member, now, django_capture_on_commit_callbacks
):
    member = inactive_since(member, months_before(now, 30))
    first = run(django_capture_on_commit_callbacks, now=now)
    assert [u.pk for u in first.warned] == [member.pk] and first.erased == []
    assert run(django_capture_on_commit_callbacks, now=now + 29 * DAY).erased == []
    assert run(django_capture_on_commit_callbacks, now=now + 30 * DAY).erased != []


@pytest.mark.django_db
def test_logging_in_ends_the_warning(client, member, now, django_capture_on_commit_callbacks):
    member = inactive_since(member, months_before(now, 23) - 5 * DAY)
    run(django_capture_on_commit_callbacks, now=now)
    assert User.objects.get(pk=member.pk).retention_warned_at is not None

    assert client.login(email=member.email, password=PASSWORD)

    member.refresh_from_db()
    assert member.retention_warned_at is None
    report = run(django_capture_on_commit_callbacks, now=now + 31 * DAY)
    assert report.erased == [] and report.warned == []
    assert User.objects.get(pk=member.pk).erased_at is None


@pytest.mark.django_db
def test_a_pending_member_who_never_logged_in_falls_under_the_same_rule(
    network, now, django_capture_on_commit_callbacks
):
    pending = make_user(email="lena.fischer@posteo.de", handle="lena-fischer")
    assert pending.membership == User.Membership.PENDING
    inactive_since(pending, months_before(now, 24), never_logged_in=True)
    assert [u.pk for u in run(django_capture_on_commit_callbacks, now=now).warned] == [pending.pk]
    erased = run(django_capture_on_commit_callbacks, now=now + 30 * DAY).erased
    assert [u.pk for u in erased] == [pending.pk]


@pytest.mark.django_db
def test_superusers_are_reported_not_warned_or_erased(
    network, now, django_capture_on_commit_callbacks
):
    root = User.objects.create_superuser(email="root@agentur.example.org", handle="root-konto")
    inactive_since(root, months_before(now, 30))

    report = run(django_capture_on_commit_callbacks, now=now)

    assert report.warned == [] and report.erased == [] and mail.outbox == []
    assert [(user.pk, reason) for user, reason in report.kept] == [
        (root.pk, "Superuser: wird nie automatisch gelöscht")
    ]
    assert User.objects.get(pk=root.pk).erased_at is None


@pytest.mark.django_db
def test_the_last_moderator_is_reported_but_one_of_two_is_warned(
    network, now, django_capture_on_commit_callbacks
):
    moderator = inactive_since(make_moderator(), months_before(now, 30))
    report = run(django_capture_on_commit_callbacks, now=now)
    assert report.warned == [] and mail.outbox == []
    assert "Moderationsrechten" in dict(report.kept)[moderator]

    make_moderator(email="zweite@agentur.example.org", handle="zweite")
    report = run(django_capture_on_commit_callbacks, now=now)
    assert [u.pk for u in report.warned] == [moderator.pk]


@pytest.mark.django_db
def test_the_setting_sets_the_period(member, now, settings, django_capture_on_commit_callbacks):
    settings.FORUM_RETENTION_MONTHS = 6
    member = inactive_since(member, months_before(now, 5) - 2 * DAY)
    assert [u.pk for u in run(django_capture_on_commit_callbacks, now=now).warned] == [member.pk]


@pytest.mark.django_db
def test_the_dry_run_changes_nothing_and_the_command_prints_pseudonyms(
    member, now, django_capture_on_commit_callbacks
):
    member = inactive_since(member, months_before(now, 30))
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retention", "--dry-run", stdout=out)
    text = out.getvalue()
    assert f"würde warnen: {member.pseudonym}" in text and "Probelauf" in text
    assert member.email not in text and member.handle not in text
    assert mail.outbox == []
    assert User.objects.get(pk=member.pk).retention_warned_at is None

    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("retention", stdout=out)
    assert "1 gewarnt, 0 gelöscht" in out.getvalue()
    assert len(mail.outbox) == 1
