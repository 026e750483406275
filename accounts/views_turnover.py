"""Staff turnover pages (accounts/turnover.py).

Moderators: /mod/members/<handle>/ausgeschieden/ shows the member's state, the form to mark
them as departed with a successor, or the form to undo it, and the form to name a deputy for
them. Members: /accounts/profile/vertretung/ names or ends their own deputy (the form sits on
the profile edit page). A failed form comes back with what was typed and status 400.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import formats
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, turnover
from .decorators import moderator_required
from .forms import DepartureForm, DepartureUndoForm, DeputyForm, apply_errors
from .permissions import can_invite

UNDO_PREFIX = "rueckgaengig"
DEPUTY_PREFIX = "vertretung"


def _member(handle: str):
    member = selectors.member_for_moderation(handle)
    if member is None:
        raise Http404
    return member


def _render(request, member, *, form=None, undo_form=None, deputy_form=None, status=200):
    successor = member.successor if member.successor_id else None
    return render(
        request,
        "accounts/mod_turnover.html",
        {
            "member": member,
            "successor": successor,
            "form": form or DepartureForm(),
            "undo_form": undo_form or DepartureUndoForm(prefix=UNDO_PREFIX),
            "deputy_form": deputy_form
            or DeputyForm(
                prefix=DEPUTY_PREFIX,
                for_moderator=True,
                initial={
                    "deputy": member.deputy.handle if member.deputy_id else "",
                    "until": member.deputy_until,
                },
            ),
            "deputy_active": turnover.deputy_is_active(member),
            "open_questions": turnover.open_questions(member) if not member.departed_at else [],
            "candidates": selectors.stand_in_candidates(member),
            "can_mark": turnover.can_mark_departed(request.user, member),
            "can_invite": can_invite(request.user),
        },
        status=status,
    )


@moderator_required
def departure(request, handle: str):
    member = _member(handle)
    if request.method != "POST":
        return _render(request, member)
    turnover.check_mark_departed(request.user, member)
    form = DepartureForm(request.POST)
    if form.is_valid():
        try:
            member = turnover.mark_departed(
                member,
                actor=request.user,
                successor=form.cleaned_data["successor"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, fields={"successor": "successor", "reason": "reason"})
        else:
            if member.successor_id:
                text = _(
                    "%(name)s ist als ausgeschieden markiert; %(successor)s übernimmt und ist "
                    "benachrichtigt."
                ) % {"name": member.display_name, "successor": member.successor.display_name}
            else:
                text = _("%(name)s ist als ausgeschieden markiert.") % {"name": member.display_name}
            messages.success(request, text)
            return redirect("accounts:mod_departure", handle=member.handle)
    return _render(request, member, form=form, status=400)


@require_POST
@moderator_required
def departure_undo(request, handle: str):
    member = _member(handle)
    form = DepartureUndoForm(request.POST, prefix=UNDO_PREFIX)
    if form.is_valid():
        try:
            member = turnover.undo_departed(
                member, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            apply_errors(form, exc, fields={"reason": "reason"})
        else:
            messages.success(
                request,
                _("%(name)s ist wieder aktiv und kann sich anmelden.")
                % {"name": member.display_name},
            )
            return redirect("accounts:mod_departure", handle=member.handle)
    return _render(request, member, undo_form=form, status=400)


@require_POST
@moderator_required
def mod_deputy(request, handle: str):
    """A moderator names (or ends) a member's deputy, e.g. during an unplanned absence."""
    member = _member(handle)
    turnover.check_set_deputy(request.user, member)
    form = DeputyForm(request.POST, prefix=DEPUTY_PREFIX, for_moderator=True)
    if "beenden" in request.POST:
        form.fields["deputy"].required = False
        form.fields["until"].required = False
    if form.is_valid():
        try:
            if "beenden" in request.POST:
                turnover.clear_deputy(
                    member, actor=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _("Die Vertretung ist beendet."))
            else:
                member = turnover.set_deputy(
                    member,
                    actor=request.user,
                    deputy=form.cleaned_data["deputy"],
                    until=form.cleaned_data["until"],
                    reason=form.cleaned_data["reason"],
                )
                messages.success(request, _deputy_saved(member))
        except ValidationError as exc:
            apply_errors(
                form, exc, fields={"deputy": "deputy", "until": "until", "reason": "reason"}
            )
        else:
            return redirect("accounts:mod_departure", handle=member.handle)
    return _render(request, member, deputy_form=form, status=400)


def _deputy_saved(member) -> str:
    return _("%(deputy)s vertritt %(name)s bis einschließlich %(until)s.") % {
        "deputy": member.deputy.display_name,
        "name": member.display_name,
        "until": formats.date_format(member.deputy_until, "SHORT_DATE_FORMAT"),
    }


@require_POST
@login_required
def own_deputy(request):
    """The member's own deputy, from the profile edit page."""
    from .views import render_profile_edit

    member = request.user
    turnover.check_set_deputy(member, member)
    form = DeputyForm(request.POST, prefix=DEPUTY_PREFIX)
    if "beenden" in request.POST:
        try:
            turnover.clear_deputy(member, actor=member)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Ihre Vertretung ist beendet; sie ist benachrichtigt."))
        return redirect("accounts:profile_edit")
    if form.is_valid():
        try:
            member = turnover.set_deputy(
                member,
                actor=member,
                deputy=form.cleaned_data["deputy"],
                until=form.cleaned_data["until"],
            )
        except ValidationError as exc:
            apply_errors(form, exc, fields={"deputy": "deputy", "until": "until"})
        else:
            messages.success(
                request,
                _("%(deputy)s vertritt Sie bis einschließlich %(until)s und ist benachrichtigt.")
                % {
                    "deputy": member.deputy.display_name,
                    "until": formats.date_format(member.deputy_until, "SHORT_DATE_FORMAT"),
                },
            )
            return redirect("accounts:profile_edit")
    return render_profile_edit(request, deputy_form=form, status=400)
