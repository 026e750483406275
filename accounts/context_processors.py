from __future__ import annotations

from .permissions import can_act_as_member, is_moderator


def membership(request) -> dict:
    user = getattr(request, "user", None)
    return {
        "is_moderator": is_moderator(user),
        "can_act_as_member": can_act_as_member(user),
        # Suspended people see why and until when on every page (includes/suspension_banner).
        "is_suspended": bool(user is not None and user.is_authenticated and user.is_suspended),
    }
