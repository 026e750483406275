"""Suspending a member for a while or until further notice, and lifting it again.

Like every moderation action: the moderator is checked, a reason is required, the change is
recorded in the audit log inside its transaction, and the member is told what happened and
why (statement of reasons), with the audit entry's id so that they can appeal against it.

A suspended person stays signed in and keeps reading what visitors read, their notification
centre and their profile; every write is refused (``User.is_approved_member`` is False while
the suspension lasts). A suspension with an end date ends by itself: nothing has to run.
"""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import check_suspend, suspension_end_text
from forum.models import Kind
from forum.services import notifications
from forum.services.audit import audit_record
from forum.services.moderation import _reason, check_moderate

SUSPENSION_FIELDS = ("suspended_at", "suspended_until", "suspension_reason")


def _member_for_update(member: User) -> User:
    # Only the user row: FOR UPDATE is refused on the nullable side of an outer join.
    return User.objects.select_for_update(of=("self",)).get(pk=member.pk)


def _state(member: User) -> dict:
    """The suspension as the audit log keeps it (old and new values)."""
    if not member.is_suspended:
        return {"suspended": False, "until": None}
    return {"suspended": True, "until": _iso(member.suspended_until)}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _label(member: User) -> str:
    return f"{member.display_name} (@{member.handle})"


def member_suspend(actor: User, *, member: User, until: datetime | None, reason: str) -> User:
    """Suspend ``member`` until ``until`` (an aware datetime in the future) or, with None,
    until a moderator lifts it. Suspending again replaces the end date and the reason."""
    check_moderate(actor)
    reason = _reason(reason)
    if until is not None:
        if timezone.is_naive(until):
            until = timezone.make_aware(until)
        if until <= timezone.now():
            raise ValidationError({"until": _("Das Ende der Sperre muss in der Zukunft liegen.")})
    with transaction.atomic():
        member = _member_for_update(member)
        # On the locked row: rights may have changed since the caller read it.
        check_suspend(actor, member)
        old = _state(member)
        if not member.is_suspended:
            member.suspended_at = timezone.now()
        member.suspended_until = until
        member.suspension_reason = reason
        member.save(update_fields=list(SUSPENSION_FIELDS))
        entry = audit_record(
            actor,
            action="member.suspended",
            target=member,
            target_label=_label(member),
            old=old,
            new={"suspended": True, "until": _iso(until)},
            reason=reason,
        )
        if until is None:
            action = _("Ihr Konto wurde unbefristet gesperrt")
        else:
            action = _("Ihr Konto wurde bis %(until)s gesperrt") % {
                "until": suspension_end_text(until)
            }
        notifications.notify(
            [member],
            kind=Kind.MODERATION,
            actor=actor,
            reason=reason,
            data={
                "action": str(action),
                "target": "account",
                "suspended": True,
                "until": _iso(until),
                "audit": entry.pk,
            },
        )
    return member


def member_unsuspend(actor: User, *, member: User, reason: str) -> User:
    """Lift a member's suspension before it ends, with a reason."""
    check_moderate(actor)
    reason = _reason(reason)
    with transaction.atomic():
        member = _member_for_update(member)
        if not member.is_suspended:
            # Never suspended, lifted by someone else a moment ago, or already run out.
            raise ValidationError(
                _("%(name)s ist zurzeit nicht gesperrt.") % {"name": member.display_name}
            )
        old = _state(member)
        member.suspended_at = None
        member.suspended_until = None
        member.suspension_reason = ""
        member.save(update_fields=list(SUSPENSION_FIELDS))
        entry = audit_record(
            actor,
            action="member.unsuspended",
            target=member,
            target_label=_label(member),
            old=old,
            new={"suspended": False, "until": None},
            reason=reason,
        )
        notifications.notify(
            [member],
            kind=Kind.MODERATION,
            actor=actor,
            reason=reason,
            data={
                "action": str(_("Ihre Sperre wurde aufgehoben")),
                "target": "account",
                "suspended": False,
                "until": None,
                "audit": entry.pk,
            },
        )
    return member
