from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from .permissions import is_moderator, needs_mfa


def moderator_required(view):
    """Moderators only, and only with two-factor authentication set up."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_moderator(request.user):
            raise PermissionDenied(_("Dieser Bereich ist der Moderation vorbehalten."))
        if needs_mfa(request.user):
            messages.warning(
                request,
                _(
                    "Bitte richten Sie zuerst die Zwei-Faktor-Authentifizierung ein. Sie ist "
                    "für die Moderation vorgeschrieben."
                ),
            )
            return redirect("mfa_activate_totp")
        return view(request, *args, **kwargs)

    return wrapper
