"""Self-service account deletion (/accounts/profile/loeschen/).

GET explains what happens; POST with the current password and a typed confirmation erases
the account (accounts/erasure.py), logs out and shows the confirmation page. The last
moderator or operator is refused with the reason, on the page and again in the service.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .erasure import ErasureRefused, erase_account, last_of_a_role
from .forms import AccountDeleteForm

DONE_SESSION_KEY = "account_erased"
ATTEMPTS_PER_HOUR = 5


@never_cache
@sensitive_post_parameters("password")
@login_required
def account_delete(request):
    refusal = last_of_a_role(request.user)
    form = AccountDeleteForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST" and not refusal:
        if not _attempt_allowed(request.user):
            # Whoever holds a session must not use this form to guess the password.
            form = AccountDeleteForm(
                initial={"confirmation": request.POST.get("confirmation", "")},
                user=request.user,
            )
            refusal = _(
                "Sie haben das Passwort zu oft falsch eingegeben. Bitte versuchen Sie es in "
                "einer Stunde noch einmal."
            )
            status = 429
        elif form.is_valid():
            try:
                erase_account(request.user, actor=request.user, reason="Selbst gelöscht")
            except ErasureRefused as exc:
                refusal = str(exc)
            else:
                logout(request)  # a fresh, empty session
                request.session[DONE_SESSION_KEY] = True
                return redirect("accounts:account_deleted")
    if request.method == "POST" and status == 200:
        status = 403 if refusal else 400
    return render(
        request,
        "accounts/account_delete.html",
        {"form": form, "refusal": refusal},
        status=status,
    )


def _attempt_allowed(user) -> bool:
    """Count a deletion attempt; False beyond ``ATTEMPTS_PER_HOUR`` in the current hour."""
    key = f"privacy:erase-attempts:{user.pk}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= ATTEMPTS_PER_HOUR


@never_cache
def account_deleted(request):
    # Shown once, right after the deletion; anyone else is sent to the start page.
    if not request.session.pop(DONE_SESSION_KEY, False):
        return redirect("/")
    return render(request, "accounts/account_deleted.html")
