"""Retention for inactive accounts: warn, then erase (``manage.py retention``, daily by cron).

An account is inactive since its last login, or since it was registered if it never logged
in (pending members who were never approved included). After ``FORUM_RETENTION_MONTHS``
minus ``FORUM_RETENTION_WARNING_DAYS`` of inactivity it gets one warning mail and
``retention_warned_at`` is set; logging in clears it (accounts/signals.py). An account warned
at least ``FORUM_RETENTION_WARNING_DAYS`` ago, still inactive and inactive for the whole
retention period is erased with ``erase_account`` (accounts/erasure.py).

Idempotent: the warning is claimed with a conditional update, so a second run (or two runs at
once) sends no second mail; an erased account is no candidate any more. Superusers are never
erased or warned automatically, and neither is the last moderator or operator: they are
reported instead, for a person to decide.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from forum import emails

from .erasure import ErasureRefused, erase_account, last_of_a_role
from .models import User


@dataclass
class RetentionReport:
    warned: list[User] = field(default_factory=list)
    erased: list[User] = field(default_factory=list)
    # Accounts the rule would catch but a person must decide about, with the reason.
    kept: list[tuple[User, str]] = field(default_factory=list)


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the 31st becomes the last
    day of a shorter month)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _warning_days() -> timedelta:
    return timedelta(days=settings.FORUM_RETENTION_WARNING_DAYS)


def erase_cutoff(now: datetime) -> datetime:
    """Inactive since before this moment: the retention period is over."""
    return months_before(now, settings.FORUM_RETENTION_MONTHS)


def warn_cutoff(now: datetime) -> datetime:
    return erase_cutoff(now) + _warning_days()


def _candidates():
    return (
        User.objects.filter(erased_at__isnull=True)
        .annotate(last_seen=Coalesce("last_login", "date_joined"))
        .order_by("pk")
    )


def due_for_warning(now: datetime):
    return _candidates().filter(last_seen__lt=warn_cutoff(now), retention_warned_at__isnull=True)


def due_for_erasure(now: datetime):
    return _candidates().filter(
        last_seen__lt=erase_cutoff(now),
        retention_warned_at__lte=now - _warning_days(),
        # Still inactive: a login after the warning clears it, but be sure.
        last_seen__lte=F("retention_warned_at"),
    )


def erasure_date(user: User, now: datetime) -> datetime:
    """When a warned account will be erased if nobody logs in: the later of the end of the
    retention period and the end of the warning period."""
    last_seen = user.last_login or user.date_joined
    end_of_retention = last_seen + (now - erase_cutoff(now))
    return max(end_of_retention, now + _warning_days())


def retention_run(*, now: datetime | None = None, dry_run: bool = False) -> RetentionReport:
    """Warn and erase as the rule says; with ``dry_run`` only report what would happen."""
    now = now or timezone.now()
    report = RetentionReport()
    for user in due_for_erasure(now):
        reason = _keep_reason(user)
        if reason:
            report.kept.append((user, reason))
            continue
        if dry_run:
            report.erased.append(user)
            continue
        months = settings.FORUM_RETENTION_MONTHS
        try:
            erased = erase_account(
                user,
                actor=None,
                reason=f"Inaktivität: seit mehr als {months} Monaten nicht angemeldet",
            )
        except ErasureRefused as exc:
            report.kept.append((user, str(exc)))
        else:
            report.erased.append(erased)
    for user in due_for_warning(now):
        reason = _keep_reason(user)
        if reason:
            report.kept.append((user, reason))
            continue
        if dry_run or retention_warn(user, now=now):
            report.warned.append(user)
    return report


def _keep_reason(user: User) -> str:
    if user.is_superuser:
        return "Superuser: wird nie automatisch gelöscht"
    return last_of_a_role(user)


def retention_warn(user: User, *, now: datetime) -> bool:
    """Mark ``user`` warned and mail them, once. False if another run was first."""
    with transaction.atomic():
        claimed = User.objects.filter(
            pk=user.pk, erased_at__isnull=True, retention_warned_at__isnull=True
        ).update(retention_warned_at=now)
        if not claimed:
            return False
        emails.send_email_on_commit(
            "retention_warning",
            [user.email],
            {
                "user": user,
                "erase_on": timezone.localtime(erasure_date(user, now)),
                "months": settings.FORUM_RETENTION_MONTHS,
                "login_url": settings.SITE_URL + reverse("account_login"),
                "export_url": settings.SITE_URL + reverse("accounts:privacy_export"),
            },
        )
    return True


def retention_reset(user: User) -> None:
    """A login ends the warning: the retention period starts again from now."""
    if user.retention_warned_at is not None:
        User.objects.filter(pk=user.pk).update(retention_warned_at=None)
        user.retention_warned_at = None
