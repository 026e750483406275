"""Thin views: bind a form, check permission, call one service, answer."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import selectors, services
from .decorators import moderator_required
from .forms import (
    DeputyForm,
    InvitationForm,
    MembershipApproveForm,
    MembershipRejectForm,
    ProfileForm,
    TermsAcceptForm,
)
from .models import User
from .permissions import (
    can_invite,
    can_see_member_directory,
    can_suspend,
    check_review_membership,
)

INVITATION_SESSION_KEY = "accounts:invitation"


def organisation_list(request):
    organisations = selectors.organisations_with_member_counts()
    return render(request, "accounts/organisation_list.html", {"organisations": organisations})


def organisation_detail(request, slug: str):
    organisation = selectors.organisation_detail(slug)
    if organisation is None:
        raise Http404
    members = None
    if can_see_member_directory(request.user):
        members = selectors.organisation_members(organisation)
    from forum.selectors import ThreadFilters, thread_list

    threads = thread_list(
        request.user, ThreadFilters(organisation_id=organisation.pk), request.GET.get("seite")
    )
    reports = thread_list(
        request.user, ThreadFilters(organisation_id=organisation.pk, kind="experience"), 1
    )
    return render(
        request,
        "accounts/organisation_detail.html",
        {"organisation": organisation, "members": members, "page": threads, "reports": reports},
    )


def member_directory(request):
    if not can_see_member_directory(request.user):
        if not request.user.is_authenticated:
            from django.contrib.auth.views import redirect_to_login

            return redirect_to_login(request.get_full_path())
        raise PermissionDenied(
            _("Das Mitgliederverzeichnis steht nur bestätigten Mitgliedern offen.")
        )
    query = request.GET.get("q", "").strip()[:100]
    filters = {
        "organisation_slug": request.GET.get("organisation", "")[:80],
        "region": request.GET.get("region", "")[:100],
        "expertise": request.GET.get("fachgebiet", "")[:50],
    }
    members = selectors.member_directory(query, **filters)
    page = Paginator(members, 50).get_page(request.GET.get("seite"))
    params = request.GET.copy()
    params.pop("seite", None)
    return render(
        request,
        "accounts/member_directory.html",
        {
            "page": page,
            "query": query,
            "filters": filters,
            "querystring": params.urlencode(),
            **selectors.directory_choices(),
        },
    )


def member_suggest(request):
    """Handles for @mention autocomplete in the composer (members only, JSON)."""
    if not can_see_member_directory(request.user):
        return JsonResponse({"members": []}, status=403)
    prefix = request.GET.get("q", "").strip().lstrip("@")[:30]
    members = selectors.mention_suggestions(prefix) if prefix else []
    return JsonResponse(
        {
            "members": [
                {
                    "handle": m.handle,
                    "name": m.display_name,
                    "organisation": m.organisation.name if m.organisation else "",
                }
                for m in members
            ]
        }
    )


def member_profile(request, handle: str):
    # Profiles are shared within the network; to others a profile does not exist.
    if not can_see_member_directory(request.user) and not (
        request.user.is_authenticated and request.user.handle.lower() == handle.lower()
    ):
        raise Http404
    member = selectors.member_profile(handle)
    if member is None:
        raise Http404
    if member.handle != handle:
        return redirect(member, permanent=True)
    from .turnover import can_mark_departed, deputy_is_active

    return render(
        request,
        "accounts/profile.html",
        {
            "member": member,
            "can_suspend": can_suspend(request.user, member),
            "can_mark_departed": can_mark_departed(request.user, member),
            "deputy_active": deputy_is_active(member),
        },
    )


def _profile_initial(user) -> dict:
    return {
        "display_name": user.display_name,
        "job_title": user.job_title,
        "bio": user.bio,
        "work_phone": user.work_phone,
        "show_contact": user.show_contact,
        "expertise": ", ".join(t.name for t in user.expertise.all()),
    }


def render_profile_edit(request, *, form=None, deputy_form=None, status: int = 200):
    """The profile form and the deputy form (accounts/views_turnover.py posts the latter); a
    failed one comes back bound, the other fresh."""
    from . import turnover
    from .views_turnover import DEPUTY_PREFIX

    user = request.user
    if deputy_form is None:
        deputy_form = DeputyForm(
            prefix=DEPUTY_PREFIX,
            initial={
                "deputy": user.deputy.handle if user.deputy_id else "",
                "until": user.deputy_until,
            },
        )
    return render(
        request,
        "accounts/profile_edit.html",
        {
            "form": form or ProfileForm(initial=_profile_initial(user)),
            "deputy_form": deputy_form,
            "deputy_active": turnover.deputy_is_active(user),
            "can_name_deputy": user.is_approved_member,
            "candidates": selectors.stand_in_candidates(user) if user.is_approved_member else [],
        },
        status=status,
    )


@login_required
def profile_edit(request):
    user = request.user
    form = ProfileForm(request.POST or None, initial=_profile_initial(user))
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Ihr Profil wurde gespeichert."))
            return redirect("accounts:profile_edit")
    return render_profile_edit(request, form=form)


@login_required
def terms_accept(request):
    terms = selectors.current_terms()
    if terms is None:
        raise Http404
    accepted = selectors.has_accepted(request.user, terms)
    form = TermsAcceptForm(request.POST or None)
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        nxt = ""
    if request.method == "POST" and form.is_valid():
        services.terms_accept(request.user, terms=terms)
        request.session["terms_accepted"] = terms.version
        messages.success(request, _("Vielen Dank. Ihre Zustimmung wurde gespeichert."))
        return redirect(nxt or "forum:home")
    return render(
        request,
        "accounts/terms.html",
        {"terms": terms, "form": form, "accepted": accepted, "next": nxt},
    )


def terms_public(request):
    """The current terms for everyone, e.g. linked from the signup form."""
    if request.user.is_authenticated:
        return terms_accept(request)
    terms = selectors.current_terms()
    if terms is None:
        raise Http404
    return render(request, "accounts/terms.html", {"terms": terms, "accepted": False})


def invitation_landing(request, token: str):
    invitation = selectors.invitation_by_token(token)
    if invitation is None:
        raise Http404
    if not invitation.is_open:
        return render(
            request, "accounts/invitation_closed.html", {"invitation": invitation}, status=410
        )
    if request.user.is_authenticated:
        return render(
            request,
            "accounts/invitation_closed.html",
            {"invitation": invitation, "signed_in": True},
        )
    request.session[INVITATION_SESSION_KEY] = invitation.token
    return render(request, "accounts/invitation.html", {"invitation": invitation})


# --- Moderation of membership -----------------------------------------------------------------


@moderator_required
def _render_member_queue(request, *, member=None, approve_form=None, reject_form=None):
    """The queue; after a failed action the bound form replaces the fresh one (nothing lost)."""
    pending = list(selectors.pending_members())
    organisations = list(selectors.organisations_for_choice())
    for person in pending:
        failed = member is not None and person.pk == member.pk
        if failed and approve_form is not None:
            person.approve_form = approve_form
        else:
            person.approve_form = MembershipApproveForm(
                prefix=f"m{person.pk}",
                initial={
                    "organisation": person.suggested_organisation_id or person.organisation_id
                },
                organisations=organisations,
            )
        if failed and reject_form is not None:
            person.reject_form = reject_form
        else:
            person.reject_form = MembershipRejectForm(prefix=f"m{person.pk}")
    return render(
        request,
        "accounts/mod_members.html",
        {
            "pending": pending,
            "rejected": selectors.recently_decided_members(),
            "suspended": selectors.suspended_members(),
            "can_invite": can_invite(request.user),
        },
        status=400 if member is not None else 200,
    )


@moderator_required
def mod_members(request):
    check_review_membership(request.user)
    return _render_member_queue(request)


@require_POST
@moderator_required
def mod_member_approve(request, pk: int):
    check_review_membership(request.user)
    member = get_object_or_404(User, pk=pk)
    form = MembershipApproveForm(request.POST, prefix=f"m{pk}")
    if form.is_valid():
        try:
            services.membership_approve(
                request.user, user=member, organisation=form.cleaned_data["organisation"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _("%(name)s ist jetzt Mitglied von %(organisation)s.")
                % {"name": member.display_name, "organisation": form.cleaned_data["organisation"]},
            )
            return redirect("accounts:mod_members")
    return _render_member_queue(request, member=member, approve_form=form)


@require_POST
@moderator_required
def mod_member_reject(request, pk: int):
    check_review_membership(request.user)
    member = get_object_or_404(User, pk=pk)
    form = MembershipRejectForm(request.POST, prefix=f"m{pk}")
    if form.is_valid():
        try:
            services.membership_reject(
                request.user, user=member, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request,
                _(
                    "Die Anfrage von %(name)s wurde abgelehnt; die Begründung ist per E-Mail unterwegs."
                )
                % {"name": member.display_name},
            )
            return redirect("accounts:mod_members")
    return _render_member_queue(request, member=member, reject_form=form)


@moderator_required
def mod_invitations(request):
    if not can_invite(request.user):
        raise PermissionDenied(_("Sie dürfen keine Personen einladen."))
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            if invitation.accepted_at:
                messages.success(
                    request,
                    _(
                        "%(email)s hatte schon ein Konto und ist jetzt Mitglied von %(organisation)s."
                    )
                    % {"email": invitation.email, "organisation": invitation.organisation},
                )
            else:
                messages.success(
                    request,
                    _("Die Einladung an %(email)s wurde versendet.") % {"email": invitation.email},
                )
            return redirect("accounts:mod_invitations")
    return render(
        request,
        "accounts/mod_invitations.html",
        {"form": form, "invitations": selectors.recent_invitations()},
    )
