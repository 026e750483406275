"""Staff turnover: a member who left the organisation, their successor, and a deputy while away.

A moderator marks a member as departed. They left their organisation, so the account can no
longer sign in (``is_active`` is False: every session ends at its next request, no login, no
notification, no e-mail, no digest), but unlike an erased account they stay named on their
posts, shown as "nicht mehr aktiv". Their mailbox is gone with them: they are told nothing.

A successor (an approved member) takes over what the departed member was responsible for:
their follows of threads, tags and categories (levels "watching" and "normal" become the
successor's unless they chose a level themselves; muting is a personal choice and is not
passed on) and their open questions (questions without an accepted answer that the
successor may read): the successor accepts answers on them as the author could
(``Thread.taken_over_by``), watches them, hears of new answers and of mentions of the departed
member, and gets one notification with the list. Undoing the departure opens the account again
and gives the member their own questions back; the successor keeps the follows.

A deputy covers a member's absence: until ``deputy_until`` (inclusive) an @mention of the
member also reaches the deputy, where the deputy may read the post. A member names their own
deputy; a moderator may do it for them.

Every change checks the actor, is recorded in the audit log inside its transaction and tells
those who have to act after commit.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.sessions.models import Session
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import is_moderator
from forum import permissions as forum_permissions
from forum.models import CategoryFollow, Kind, Level, TagFollow, Thread, ThreadFollow
from forum.services import notifications
from forum.services.audit import audit_record
from forum.services.moderation import _reason, check_moderate

# How far ahead a deputy may be named: an absence, not a standing arrangement.
DEPUTY_MAX_DAYS = 366
# The follow levels a successor takes over (muting is personal).
PASSED_ON_LEVELS = (Level.WATCHING, Level.NORMAL)


def _label(member: User) -> str:
    return f"{member.display_name} (@{member.handle})"


def _for_update(member: User) -> User:
    # Only the user row: FOR UPDATE is refused on the nullable side of an outer join.
    return User.objects.select_for_update(of=("self",)).get(pk=member.pk)


# --- Who may be marked, who may follow ---------------------------------------------------------


def can_mark_departed(actor, member: User) -> bool:
    """Moderators mark members who left; not themselves, not a moderator or an operator (the
    operators end those accounts in the administration), not an erased account."""
    return bool(
        is_moderator(actor)
        and member.pk != actor.pk
        and member.erased_at is None
        and not (member.is_staff or member.is_superuser or is_moderator(member))
    )


def check_mark_departed(actor, member: User) -> None:
    check_moderate(actor)
    if member.pk == actor.pk:
        raise PermissionDenied(_("Sie können sich nicht selbst als ausgeschieden markieren."))
    if member.erased_at is not None:
        raise PermissionDenied(_("Dieses Konto wurde gelöscht."))
    if member.is_staff or member.is_superuser or is_moderator(member):
        raise PermissionDenied(
            _(
                "Konten der Moderation und des Betriebs beendet der Betrieb in der Verwaltung, "
                "nicht hier."
            )
        )


def _check_stand_in(person: User | None, *, member: User, field: str, role: str) -> User:
    """A successor or deputy must be someone who can act now: an approved member, not the
    member themselves, not departed, not suspended."""
    if person is None:
        raise ValidationError({field: _("Bitte wählen Sie die %(role)s.") % {"role": role}})
    if person.pk == member.pk:
        raise ValidationError(
            {field: _("Die Person kann nicht ihre eigene %(role)s sein.") % {"role": role}}
        )
    if person.departed_at is not None:
        raise ValidationError(
            {field: _("%(name)s ist nicht mehr aktiv.") % {"name": person.display_name}}
        )
    if person.is_suspended:
        raise ValidationError(
            {field: _("%(name)s ist zurzeit gesperrt.") % {"name": person.display_name}}
        )
    if not person.is_approved_member:
        raise ValidationError(
            {field: _("%(name)s ist kein bestätigtes Mitglied.") % {"name": person.display_name}}
        )
    return person


# --- Departure -------------------------------------------------------------------------------


def open_questions(member: User) -> list[Thread]:
    """Questions the member is responsible for that nobody has solved: asked by them (and not
    taken over by someone else) or taken over by them, neither merged away nor hidden."""
    return list(
        Thread.objects.filter(
            Q(author=member, taken_over_by__isnull=True) | Q(taken_over_by=member),
            kind=Thread.Kind.QUESTION,
            accepted_post__isnull=True,
            solved_at__isnull=True,
            merged_into__isnull=True,
            is_hidden=False,
            is_held=False,
        )
        .select_related("category")
        .order_by("-last_activity_at", "-pk")
    )


def _pass_on_follows(member: User, successor: User) -> int:
    """Copy the member's follows to the successor, where the successor has no level of their
    own for the same target. Returns how many the successor gained."""
    gained = 0
    for model, field in (
        (ThreadFollow, "thread"),
        (TagFollow, "tag"),
        (CategoryFollow, "category"),
    ):
        theirs = model.objects.filter(user=member, level__in=PASSED_ON_LEVELS)
        taken = set(model.objects.filter(user=successor).values_list(f"{field}_id", flat=True))
        new = [
            model(user=successor, level=level, **{f"{field}_id": target})
            for target, level in theirs.values_list(f"{field}_id", "level")
            if target not in taken
        ]
        model.objects.bulk_create(new, ignore_conflicts=True)
        gained += len(new)
    return gained


def _end_sessions(member: User) -> int:
    """Sign the member out everywhere. With ``is_active`` False Django refuses the account at
    every request anyway; deleting the sessions also removes what they held."""
    ended = 0
    sessions = Session.objects.filter(expire_date__gt=timezone.now()).only("session_data")
    for session in sessions.iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(member.pk):
            session.delete()
            ended += 1
    return ended


def mark_departed(member: User, *, actor: User, successor: User | None = None, reason: str) -> User:
    """Mark ``member`` as having left their organisation, optionally naming a successor who
    takes over their follows and open questions. Returns the member."""
    check_mark_departed(actor, member)
    reason = _reason(reason)
    with transaction.atomic():
        member = _for_update(member)
        check_mark_departed(actor, member)  # on the locked row
        if member.departed_at is not None:
            raise ValidationError(
                _("%(name)s ist bereits als ausgeschieden markiert.")
                % {"name": member.display_name}
            )
        if successor is not None:
            successor = _check_stand_in(
                User.objects.select_related("organisation").get(pk=successor.pk),
                member=member,
                field="successor",
                role=_("Nachfolge"),
            )
        questions: list[Thread] = []
        follows = 0
        if successor is not None:
            follows = _pass_on_follows(member, successor)
            questions = [
                thread
                for thread in open_questions(member)
                if forum_permissions.can_view_thread(successor, thread)
            ]
            Thread.objects.filter(pk__in=[t.pk for t in questions]).update(taken_over_by=successor)
            for thread in questions:
                # They answer for the question now: they watch it.
                ThreadFollow.objects.update_or_create(
                    user=successor, thread=thread, defaults={"level": Level.WATCHING}
                )
        member.departed_at = timezone.now()
        member.successor = successor
        member.is_active = False
        # Nobody is routed to a deputy who left, and the member's own absence plan ends.
        member.deputy, member.deputy_until = None, None
        member.save(
            update_fields=["departed_at", "successor", "is_active", "deputy", "deputy_until"]
        )
        covered = list(User.objects.filter(deputy=member).values_list("pk", flat=True))
        User.objects.filter(pk__in=covered).update(deputy=None, deputy_until=None)
        audit_record(
            actor,
            action="member.departed",
            target=member,
            target_label=_label(member),
            old={"departed": False},
            new={
                "departed": True,
                "successor": _label(successor) if successor else None,
                "questions": [t.pk for t in questions],
                "follows_passed_on": follows,
            },
            reason=reason,
        )
        if successor is not None:
            notifications.notify(
                [successor],
                kind=Kind.TURNOVER,
                actor=actor,
                reason=reason,
                data={
                    "event": "successor",
                    "name": member.display_name,
                    "handle": member.handle,
                    "questions": [[t.pk, t.title] for t in questions],
                    "follows": follows,
                },
            )
        transaction.on_commit(lambda: _end_sessions(member), robust=True)
    return member


def undo_departed(member: User, *, actor: User, reason: str) -> User:
    """The member did not leave after all (or came back): the account opens again and the
    questions they asked return to them. The successor keeps the follows they were given."""
    check_moderate(actor)
    reason = _reason(reason)
    with transaction.atomic():
        member = _for_update(member)
        if member.departed_at is None:
            raise ValidationError(
                _("%(name)s ist nicht als ausgeschieden markiert.") % {"name": member.display_name}
            )
        if member.erased_at is not None:
            raise PermissionDenied(_("Dieses Konto wurde gelöscht."))
        old = {
            "departed": True,
            "since": member.departed_at.isoformat(),
            "successor": _label(member.successor) if member.successor_id else None,
        }
        returned = list(
            Thread.objects.filter(author=member, taken_over_by__isnull=False).values_list(
                "pk", flat=True
            )
        )
        Thread.objects.filter(pk__in=returned).update(taken_over_by=None)
        member.departed_at = None
        member.successor = None
        member.is_active = True
        member.save(update_fields=["departed_at", "successor", "is_active"])
        audit_record(
            actor,
            action="member.departure_undone",
            target=member,
            target_label=_label(member),
            old=old,
            new={"departed": False, "questions_returned": returned},
            reason=reason,
        )
    return member


# --- Deputy during absence ---------------------------------------------------------------------


def check_set_deputy(actor, member: User) -> None:
    """A member names their own deputy; a moderator may do it for anyone who can still act."""
    if not (actor is not None and actor.is_authenticated):
        raise PermissionDenied(_("Bitte melden Sie sich an."))
    if actor.pk == member.pk:
        if not member.is_approved_member:
            from accounts.permissions import check_not_suspended

            check_not_suspended(member)
            raise PermissionDenied(_("Nur bestätigte Mitglieder können eine Vertretung eintragen."))
        return
    check_moderate(actor)


def _check_until(until: date | None) -> date:
    today = timezone.localdate()
    if until is None:
        raise ValidationError({"until": _("Bitte geben Sie an, bis wann die Vertretung gilt.")})
    if until < today:
        raise ValidationError({"until": _("Das Datum darf nicht in der Vergangenheit liegen.")})
    if until > today + timedelta(days=DEPUTY_MAX_DAYS):
        raise ValidationError({"until": _("Eine Vertretung gilt höchstens ein Jahr im Voraus.")})
    return until


def set_deputy(
    member: User, *, actor: User, deputy: User | None, until: date | None, reason: str = ""
) -> User:
    """Name ``deputy`` for ``member`` until ``until`` (inclusive). The deputy is told."""
    check_set_deputy(actor, member)
    if actor.pk != member.pk:
        reason = _reason(reason)
    until = _check_until(until)
    with transaction.atomic():
        member = _for_update(member)
        if member.departed_at is not None:
            raise ValidationError(
                _("%(name)s ist nicht mehr aktiv.") % {"name": member.display_name}
            )
        deputy = _check_stand_in(
            User.objects.get(pk=deputy.pk) if deputy is not None else None,
            member=member,
            field="deputy",
            role=_("Vertretung"),
        )
        old = _deputy_state(member)
        member.deputy, member.deputy_until = deputy, until
        member.save(update_fields=["deputy", "deputy_until"])
        audit_record(
            actor,
            action="member.deputy_set",
            target=member,
            target_label=_label(member),
            old=old,
            new=_deputy_state(member),
            reason=reason,
        )
        if old.get("deputy") != _label(deputy) or old.get("until") != until.isoformat():
            notifications.notify(
                [deputy],
                kind=Kind.TURNOVER,
                actor=actor,
                data={
                    "event": "deputy",
                    "name": member.display_name,
                    "handle": member.handle,
                    "until": until.isoformat(),
                },
            )
    return member


def clear_deputy(member: User, *, actor: User, reason: str = "") -> User:
    """End the deputy arrangement before its date; the deputy is told."""
    check_set_deputy(actor, member)
    if actor.pk != member.pk:
        reason = _reason(reason)
    with transaction.atomic():
        member = _for_update(member)
        if member.deputy_id is None:
            raise ValidationError(_("Es ist keine Vertretung eingetragen."))
        old = _deputy_state(member)
        deputy = User.objects.get(pk=member.deputy_id)
        member.deputy, member.deputy_until = None, None
        member.save(update_fields=["deputy", "deputy_until"])
        audit_record(
            actor,
            action="member.deputy_cleared",
            target=member,
            target_label=_label(member),
            old=old,
            new={"deputy": None, "until": None},
            reason=reason,
        )
        if old["active"]:
            notifications.notify(
                [deputy],
                kind=Kind.TURNOVER,
                actor=actor,
                data={
                    "event": "deputy_cleared",
                    "name": member.display_name,
                    "handle": member.handle,
                },
            )
    return member


def _deputy_state(member: User) -> dict:
    if member.deputy_id is None:
        return {"deputy": None, "until": None, "active": False}
    return {
        "deputy": _label(member.deputy),
        "until": member.deputy_until.isoformat() if member.deputy_until else None,
        "active": deputy_is_active(member),
    }


def deputy_is_active(member: User) -> bool:
    """Whether mentions of ``member`` reach their deputy today."""
    return bool(
        member.deputy_id
        and member.deputy_until is not None
        and member.deputy_until >= timezone.localdate()
    )
