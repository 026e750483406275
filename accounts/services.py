"""Writes about accounts, organisations and membership. Each owns its transaction."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.emails import send_email_on_commit
from forum.services.audit import audit_record
from forum.services.tags import tags_get_or_create
from forum.text import clean_line, strip_control_characters

from .models import (
    Invitation,
    Organisation,
    OrganisationDomain,
    TermsAcceptance,
    TermsVersion,
    User,
)
from .permissions import (
    MODERATORS_GROUP,
    check_invite,
    check_review_membership,
)
from .selectors import open_invitation_for_email, organisation_for_email

MODERATOR_PERMISSIONS = ("moderate", "review_membership", "invite_members")


# --- Membership -------------------------------------------------------------------------------


def membership_on_email_confirmed(user: User, *, email: str) -> User:
    """Decide membership once an address is confirmed.

    An open invitation for the address or an active domain of an organisation makes the
    person an approved member at once; anyone else waits for a moderator.
    """
    email = email.lower()
    if email != user.email.lower():
        # A secondary address being confirmed does not change membership.
        return user
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if user.membership == User.Membership.APPROVED and user.organisation_id:
            return _membership_recheck_after_email_change(user, email)
        invitation = open_invitation_for_email(email)
        if invitation is not None:
            invitation.accepted_at = timezone.now()
            invitation.accepted_by = user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
            return _approve(user, invitation.organisation, actor=None, via="invitation")
        organisation = organisation_for_email(email)
        if organisation is not None:
            return _approve(user, organisation, actor=None, via="domain")
        user.membership = User.Membership.PENDING
        user.membership_note = _("Die E-Mail-Adresse gehört zu keiner Organisation des Netzwerks.")
        user.membership_changed_at = timezone.now()
        user.save(update_fields=["membership", "membership_note", "membership_changed_at"])
        return user


def _membership_recheck_after_email_change(user: User, email: str) -> User:
    """An approved member confirmed a new primary address: re-check the organisation.

    Staying within the organisation's domains changes nothing. Anything else (a free-mail
    address or another organisation's domain) puts the membership up for moderator review.
    """
    organisation = organisation_for_email(email)
    if organisation is not None and organisation.pk == user.organisation_id:
        return user
    if user.organisation.domains.filter(active=True).count() == 0 and organisation is None:
        # Organisations without own domains (ministry, agency) were admitted by invitation or
        # by a moderator; their members may use any address.
        return user
    old = {"membership": user.membership, "organisation": user.organisation.slug}
    user.membership = User.Membership.PENDING
    user.suggested_organisation = organisation
    user.membership_note = _(
        "Neue E-Mail-Adresse %(email)s liegt außerhalb der Domains von %(organisation)s."
    ) % {"email": email, "organisation": user.organisation.name}
    user.membership_changed_at = timezone.now()
    user.save(
        update_fields=[
            "membership",
            "suggested_organisation",
            "membership_note",
            "membership_changed_at",
        ]
    )
    audit_record(
        None,
        action="membership.review_requested",
        target=user,
        old=old,
        new={"membership": user.membership, "email_domain": email.rsplit("@", 1)[-1]},
        reason=user.membership_note,
    )
    return user


def _approve(user: User, organisation: Organisation, *, actor: User | None, via: str) -> User:
    old = {
        "membership": user.membership,
        "organisation": user.organisation.slug if user.organisation_id else None,
    }
    user.membership = User.Membership.APPROVED
    user.organisation = organisation
    user.suggested_organisation = None
    user.membership_note = ""
    user.membership_changed_at = timezone.now()
    user.save(
        update_fields=[
            "membership",
            "organisation",
            "suggested_organisation",
            "membership_note",
            "membership_changed_at",
        ]
    )
    audit_record(
        actor,
        action="membership.approved",
        target=user,
        old=old,
        new={"membership": user.membership, "organisation": organisation.slug, "via": via},
    )
    return user


def membership_approve(actor: User, *, user: User, organisation: Organisation) -> User:
    """A moderator approves a pending (or rejected) person as a member of ``organisation``."""
    check_review_membership(actor)
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        if not EmailAddress.objects.filter(
            user=user, email__iexact=user.email, verified=True
        ).exists():
            raise ValidationError(_("Die E-Mail-Adresse dieser Person ist noch nicht bestätigt."))
        if user.membership == User.Membership.APPROVED and user.organisation_id == organisation.pk:
            return user
        user = _approve(user, organisation, actor=actor, via="moderator")
        send_email_on_commit(
            "membership_approved", [user.email], {"user": user, "organisation": organisation}
        )
        # The forum's notification centre shows it too (the e-mail above is the instant one).
        from forum.services.notifications import on_membership_approved

        on_membership_approved(user, actor=actor)
    return user


def membership_reject(actor: User, *, user: User, reason: str) -> User:
    """A moderator rejects a person; the reason is mailed to them."""
    check_review_membership(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Bitte geben Sie eine Begründung an; sie wird der Person gesendet.")
        )
    if user.pk == actor.pk:
        raise ValidationError(_("Sie können Ihre eigene Mitgliedschaft nicht ablehnen."))
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        old = {
            "membership": user.membership,
            "organisation": user.organisation.slug if user.organisation_id else None,
        }
        user.membership = User.Membership.REJECTED
        user.membership_note = reason
        user.suggested_organisation = None
        user.membership_changed_at = timezone.now()
        user.save(
            update_fields=[
                "membership",
                "membership_note",
                "suggested_organisation",
                "membership_changed_at",
            ]
        )
        audit_record(
            actor,
            action="membership.rejected",
            target=user,
            old=old,
            new={"membership": user.membership},
            reason=reason,
        )
        send_email_on_commit("membership_rejected", [user.email], {"user": user, "reason": reason})
    return user


# --- Invitations ------------------------------------------------------------------------------


def invitation_create(
    actor: User, *, email: str, organisation: Organisation, message: str = ""
) -> Invitation:
    """Invite ``email`` into ``organisation``; whoever confirms that address becomes a member."""
    check_invite(actor)
    email = email.strip().lower()
    existing = User.objects.filter(email__iexact=email).first()
    # A suspended member is still a member: an invitation must not move them elsewhere.
    if (
        existing is not None
        and existing.membership == User.Membership.APPROVED
        and existing.organisation_id
    ):
        raise ValidationError(
            _("Diese Adresse gehört bereits einem Mitglied von %(organisation)s.")
            % {"organisation": existing.organisation.name}
        )
    with transaction.atomic():
        # A new invitation replaces older open ones for the same address.
        Invitation.objects.filter(
            email__iexact=email, accepted_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            email=email,
            organisation=organisation,
            message=message.strip(),
            invited_by=actor,
            token=secrets.token_urlsafe(32),
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_VALID_DAYS),
        )
        audit_record(
            actor,
            action="invitation.created",
            target=invitation,
            target_label=f"{email} → {organisation.name}",
            new={"email": email, "organisation": organisation.slug},
        )
        if (
            existing is not None
            and EmailAddress.objects.filter(
                user=existing, email__iexact=email, verified=True
            ).exists()
        ):
            # The person already has a confirmed account: admit them right away.
            invitation.accepted_at = timezone.now()
            invitation.accepted_by = existing
            invitation.save(update_fields=["accepted_at", "accepted_by"])
            _approve(existing, organisation, actor=actor, via="invitation")
            send_email_on_commit(
                "membership_approved",
                [existing.email],
                {"user": existing, "organisation": organisation},
            )
        else:
            send_email_on_commit(
                "invitation",
                [email],
                {
                    "invitation": invitation,
                    "inviter": actor,
                    "url": settings.SITE_URL + invitation.get_absolute_url(),
                },
            )
    return invitation


# --- Terms of use -----------------------------------------------------------------------------


def terms_accept(user: User, *, terms: TermsVersion) -> TermsAcceptance:
    if terms.published_at is None:
        raise ValidationError(_("Diese Fassung ist nicht veröffentlicht."))
    acceptance, _created = TermsAcceptance.objects.get_or_create(user=user, terms=terms)
    return acceptance


def terms_publish(actor: User | None, *, terms: TermsVersion) -> TermsVersion:
    """Publish a version: from now on everyone must accept it before acting again."""
    from forum.markdown import render_markdown

    with transaction.atomic():
        terms.body_html = render_markdown(terms.body)
        if terms.published_at is None:
            terms.published_at = timezone.now()
        terms.save()
        audit_record(actor, action="terms.published", target=terms, new={"version": terms.version})
    return terms


# --- Profiles ---------------------------------------------------------------------------------


def profile_update(
    user: User,
    *,
    display_name: str,
    job_title: str,
    bio: str,
    expertise: list[str],
    work_phone: str = "",
    show_contact: bool = False,
) -> User:
    with transaction.atomic():
        # Control characters would break the Atom feeds and mails that show these fields;
        # a direction override in a name would turn the author line around it.
        user.display_name = clean_line(display_name)
        user.job_title = clean_line(job_title)
        user.bio = strip_control_characters(bio).strip()
        user.work_phone = work_phone.strip()
        user.show_contact = show_contact
        user.full_clean(exclude=["password", "expertise"])
        user.save(update_fields=["display_name", "job_title", "bio", "work_phone", "show_contact"])
        user.expertise.set(tags_get_or_create(expertise), clear=True)
    return user


# --- Moderators -------------------------------------------------------------------------------


def moderators_group() -> Group:
    group, _created = Group.objects.get_or_create(name=MODERATORS_GROUP)
    perms = Permission.objects.filter(
        content_type__app_label="accounts", codename__in=MODERATOR_PERMISSIONS
    )
    group.permissions.add(*perms)
    return group


def moderator_create(
    *,
    email: str,
    handle: str,
    display_name: str,
    password: str,
    organisation: Organisation,
) -> User:
    """Make a moderator: an approved member with a confirmed address in the moderators group."""
    email = email.strip().lower()
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            user = User(email=email, handle=handle, display_name=display_name)
            user.set_password(password)
            user.full_clean(exclude=["expertise"])
            user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=email, defaults={"verified": True, "primary": True}
        )
        user = _approve(user, organisation, actor=None, via="command")
        user.groups.add(moderators_group())
        audit_record(
            None,
            action="moderator.created",
            target=user,
            new={"email_domain": email.rsplit("@", 1)[-1]},
        )
    return user


# --- The network ------------------------------------------------------------------------------


@dataclass
class NetworkLoadResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    domains_added: list[str] = field(default_factory=list)
    domains_deactivated: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.domains_added or self.domains_deactivated)


NETWORK_FIELDS = ("name", "kind", "region", "website")


def network_load_file(path: Path | str) -> NetworkLoadResult:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValidationError(
            _("Die Netzwerkdatei kann nicht gelesen werden: %(error)s") % {"error": exc}
        ) from exc
    return network_load(data)


def network_load(data: dict[str, Any]) -> NetworkLoadResult:
    """Create or update organisations by slug; running it twice changes nothing.

    A domain removed from the data is deactivated: it admits no new members, but nobody who
    joined through it is demoted.
    """
    entries = data.get("organisations")
    if not isinstance(entries, list):
        raise ValidationError(_("Die Netzwerkdatei enthält keine Liste „organisations“."))
    result = NetworkLoadResult()
    kinds = set(Organisation.Kind.values)
    with transaction.atomic():
        for entry in entries:
            slug = str(entry.get("slug", "")).strip()
            if not slug or not entry.get("name"):
                raise ValidationError(_("Jede Organisation braucht „slug“ und „name“."))
            kind = entry.get("kind", Organisation.Kind.OTHER)
            if kind not in kinds:
                raise ValidationError(
                    _("Unbekannte Art „%(kind)s“ bei %(slug)s.") % {"kind": kind, "slug": slug}
                )
            values = {
                "name": entry["name"].strip(),
                "kind": kind,
                "region": (entry.get("region") or "").strip(),
                "website": (entry.get("website") or "").strip(),
            }
            organisation = Organisation.objects.filter(slug=slug).first()
            if organisation is None:
                organisation = Organisation(slug=slug, **values)
                organisation.full_clean()
                organisation.save()
                result.created.append(slug)
            elif any(getattr(organisation, k) != v for k, v in values.items()):
                for key, value in values.items():
                    setattr(organisation, key, value)
                organisation.full_clean()
                organisation.save()
                result.updated.append(slug)
            else:
                result.unchanged.append(slug)
            _sync_domains(organisation, entry.get("domains") or [], result)
    return result


def _sync_domains(
    organisation: Organisation, domains: list[str], result: NetworkLoadResult
) -> None:
    wanted = {d.strip().lower().lstrip("@") for d in domains if d.strip()}
    existing = {d.domain: d for d in organisation.domains.all()}
    for name in sorted(wanted):
        domain = existing.get(name)
        if domain is None:
            other = (
                OrganisationDomain.objects.filter(domain=name)
                .exclude(organisation=organisation)
                .first()
            )
            if other is not None:
                raise ValidationError(
                    _("Die Domain %(domain)s gehört bereits zu %(organisation)s.")
                    % {"domain": name, "organisation": other.organisation.name}
                )
            domain = OrganisationDomain(organisation=organisation, domain=name)
            domain.full_clean()
            domain.save()
            result.domains_added.append(name)
        elif not domain.active:
            domain.active = True
            domain.save(update_fields=["active"])
            result.domains_added.append(name)
    for name, domain in existing.items():
        if name not in wanted and domain.active:
            domain.active = False
            domain.save(update_fields=["active"])
            result.domains_deactivated.append(name)
