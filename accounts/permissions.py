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
        raise PermissionDenied(
            _("Nur bestätigte Mitglieder können das tun. Ihre Mitgliedschaft wird noch geprüft.")
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
