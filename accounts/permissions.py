"""Every rule about accounts and membership, in one place.

``can_*`` answer for templates, ``check_*`` raise for enforcement.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

MODERATORS_GROUP = "Moderation"


def is_moderator(user) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.has_perm("accounts.moderate")
    )


def can_act_as_member(user) -> bool:
    """Only approved members of an organisation may write anything in the forum."""
    return bool(user is not None and user.is_authenticated and user.is_approved_member)


def check_act_as_member(user) -> None:
    if not can_act_as_member(user):
        check_not_suspended(user)
        raise PermissionDenied(
            _("Nur bestätigte Mitglieder können das tun. Ihre Mitgliedschaft wird noch geprüft.")
        )


def suspension_end_text(until) -> str:
    """„12.12.2026, 15:30 Uhr“ in the site's time zone; used in messages and notifications."""
    from django.utils import formats, timezone

    local = timezone.localtime(until)
    return _("%(date)s, %(time)s Uhr") % {
        "date": formats.date_format(local, "SHORT_DATE_FORMAT"),
        "time": formats.time_format(local, "H:i"),
    }


def suspension_message(user) -> str:
    """Why a suspended person may not write: until when, and the moderation's reason."""
    if user.suspended_until is None:
        text = _("Ihr Konto ist unbefristet gesperrt.")
    else:
        text = _("Ihr Konto ist bis %(until)s gesperrt.") % {
            "until": suspension_end_text(user.suspended_until)
        }
    if user.suspension_reason:
        text = f"{text} {_('Begründung:')} {user.suspension_reason}"
    return text


def check_not_suspended(user) -> None:
    """Refuse a suspended person with the statement of reasons (the forum's checks call this
    before their own, more general refusal)."""
    if user is not None and user.is_authenticated and user.is_suspended:
        raise PermissionDenied(suspension_message(user))


def can_suspend(actor, member) -> bool:
    """Moderators suspend members; nobody suspends themselves, a moderator or an operator."""
    return bool(
        is_moderator(actor)
        and member.pk != actor.pk
        and not (member.is_staff or member.is_superuser or is_moderator(member))
    )


def check_suspend(actor, member) -> None:
    """The target's side of ``can_suspend`` (the actor is checked as a moderator first)."""
    if member.pk == actor.pk:
        raise PermissionDenied(_("Sie können sich nicht selbst sperren."))
    if member.is_staff or member.is_superuser or is_moderator(member):
        raise PermissionDenied(
            _("Moderatorinnen, Moderatoren und der Betrieb können nicht gesperrt werden.")
        )


def can_review_membership(user) -> bool:
    return bool(is_moderator(user) and user.has_perm("accounts.review_membership"))


def check_review_membership(user) -> None:
    if not can_review_membership(user):
        raise PermissionDenied(_("Sie dürfen Mitgliedschaften nicht prüfen."))


def can_invite(user) -> bool:
    return bool(is_moderator(user) and user.has_perm("accounts.invite_members"))


def check_invite(user) -> None:
    if not can_invite(user):
        raise PermissionDenied(_("Sie dürfen keine Personen einladen."))


def can_see_member_directory(user) -> bool:
    # Names and organisations of staff are shared inside the network, not with the public.
    return can_act_as_member(user) or is_moderator(user)


def needs_mfa(user) -> bool:
    """Moderators and operators must use two-factor authentication before acting."""
    from django.conf import settings

    if not settings.MFA_REQUIRED_FOR_MODERATORS:
        return False
    if not (user.is_authenticated and (user.is_staff or is_moderator(user))):
        return False
    from allauth.mfa.utils import is_mfa_enabled

    return not is_mfa_enabled(user)
