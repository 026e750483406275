"""Moderators suspend a member and lift the suspension (/mod/members/<handle>/sperren/).

One page shows the member's state, the form to suspend (or change the suspension) and, while
suspended, the form to lift it; a failed form comes back with what was typed and status 400.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from forum.services.suspension import member_suspend, member_unsuspend

from . import selectors
from .decorators import moderator_required
from .forms import SuspensionForm, SuspensionLiftForm, apply_errors
from .permissions import can_invite, can_suspend, check_suspend

LIFT_PREFIX = "aufheben"


def _member(handle: str):
    member = selectors.member_for_moderation(handle)
    if member is None:
        raise Http404
    return member


def _render(request, member, *, form=None, lift_form=None, status=200):
    return render(
        request,
        "accounts/mod_suspension.html",
        {
            "member": member,
            "form": form or SuspensionForm(initial={"duration": "7"}),
            "lift_form": lift_form or SuspensionLiftForm(prefix=LIFT_PREFIX),
            "can_invite": can_invite(request.user),
            "can_suspend": can_suspend(request.user, member),
        },
        status=status,
    )


@moderator_required
def suspend(request, handle: str):
    member = _member(handle)
    if request.method != "POST":
        if not member.is_suspended:
            check_suspend(request.user, member)  # 403 and why: oneself, moderators, operators
        return _render(request, member)
    check_suspend(request.user, member)
    form = SuspensionForm(request.POST)
    if form.is_valid():
        try:
            member = member_suspend(
                request.user,
                member=member,
                until=form.until(),
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, fields={"until": "until_date", "reason": "reason"})
        else:
            messages.success(
                request,
                _("%(name)s ist gesperrt und hat die Begründung erhalten.")
                % {"name": member.display_name},
            )
            return redirect(member)
    return _render(request, member, form=form, status=400)


@require_POST
@moderator_required
def unsuspend(request, handle: str):
    member = _member(handle)
    form = SuspensionLiftForm(request.POST, prefix=LIFT_PREFIX)
    if form.is_valid():
        try:
            member = member_unsuspend(
                request.user, member=member, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_errors(form, exc, fields={"reason": "reason"})
        else:
            messages.success(
                request,
                _("Die Sperre von %(name)s ist aufgehoben; die Begründung ist unterwegs.")
                % {"name": member.display_name},
            )
            return redirect(member)
    return _render(request, member, lift_form=form, status=400)
