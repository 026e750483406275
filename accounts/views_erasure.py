"""Self-service account deletion (/accounts/profile/loeschen/).

GET explains what happens; POST with the current password and a typed confirmation erases
the account (accounts/erasure.py), logs out and shows the confirmation page. The last
moderator or operator is refused with the reason, on the page and again in the service.
"""

from __future__ import annotations

from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .erasure import ErasureRefused, erase_account, last_of_a_role
from .forms import AccountDeleteForm

DONE_SESSION_KEY = "account_erased"


@never_cache
@sensitive_post_parameters("password")
@login_required
def account_delete(request):
    refusal = last_of_a_role(request.user)
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and not refusal and form.is_valid():
        try:
            erase_account(request.user, actor=request.user, reason="Selbst gelöscht")
        except ErasureRefused as exc:
            refusal = str(exc)
        else:
            logout(request)  # a fresh, empty session
            request.session[DONE_SESSION_KEY] = True
            return redirect("accounts:account_deleted")
    status = 200 if request.method != "POST" else (403 if refusal else 400)
    return render(
        request,
        "accounts/account_delete.html",
        {"form": form, "refusal": refusal},
        status=status,
    )


@never_cache
def account_deleted(request):
    # Shown once, right after the deletion; anyone else is sent to the start page.
    if not request.session.pop(DONE_SESSION_KEY, False):
        return redirect("/")
    return render(request, "accounts/account_deleted.html")
