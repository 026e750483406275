"""Reads about accounts and organisations, with fixed query counts."""

from __future__ import annotations

from django.db.models import BooleanField, Case, Count, F, Q, QuerySet, Value, When
from django.utils import timezone

from .models import Invitation, Organisation, OrganisationDomain, TermsVersion, User


def organisation_for_email(email: str) -> Organisation | None:
    """The organisation whose active domain matches the address; the most specific wins.

    ``anna@stadtplanung.bochum.de`` matches ``bochum.de``; ``x@notbochum.de`` does not.
    """
    if "@" not in email:
        return None
    host = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    labels = host.split(".")
    candidates = [".".join(labels[i:]) for i in range(len(labels) - 1)]
    if not candidates:
        return None
    domains = (
        OrganisationDomain.objects.filter(domain__in=candidates, active=True)
        .select_related("organisation")
        .order_by()
    )
    best = max(domains, key=lambda d: len(d.domain), default=None)
    return best.organisation if best else None


def open_invitation_for_email(email: str) -> Invitation | None:
    return (
        Invitation.objects.filter(
            email__iexact=email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("organisation")
        .order_by("-created_at")
        .first()
    )


def invitation_by_token(token: str) -> Invitation | None:
    return Invitation.objects.select_related("organisation").filter(token=token).first()


def pending_members() -> QuerySet[User]:
    """People waiting for a moderator: confirmed address, not yet approved, not rejected."""
    return (
        User.objects.filter(is_active=True, membership=User.Membership.PENDING)
        .filter(emailaddress__verified=True, emailaddress__primary=True)
        .select_related("organisation", "suggested_organisation")
        .order_by("date_joined")
        .distinct()
    )


def recently_decided_members(limit: int = 20) -> QuerySet[User]:
    return (
        User.objects.filter(membership=User.Membership.REJECTED)
        .select_related("organisation")
        .order_by("-membership_changed_at")[:limit]
    )


def organisations_with_member_counts() -> QuerySet[Organisation]:
    return Organisation.objects.annotate(
        member_count=Count(
            "members",
            filter=Q(members__membership=User.Membership.APPROVED, members__is_active=True),
        )
    ).order_by("kind", "name")


def organisations_for_choice() -> QuerySet[Organisation]:
    return Organisation.objects.order_by("name")


def organisation_detail(slug: str) -> Organisation | None:
    return (
        Organisation.objects.prefetch_related("domains")
        .annotate(
            member_count=Count(
                "members",
                filter=Q(members__membership=User.Membership.APPROVED, members__is_active=True),
            )
        )
        .filter(slug=slug)
        .first()
    )


def organisation_members(organisation: Organisation) -> QuerySet[User]:
    return (
        User.objects.filter(
            organisation=organisation, membership=User.Membership.APPROVED, is_active=True
        )
        .select_related("organisation")
        .prefetch_related("expertise")
        .order_by("display_name")
    )


def member_directory(
    query: str = "", *, organisation_slug: str = "", region: str = "", expertise: str = ""
) -> QuerySet[User]:
    """Approved members, filterable: "Wer hat Erfahrung mit …?" (expertise tag)."""
    members = (
        User.objects.filter(membership=User.Membership.APPROVED, is_active=True)
        .select_related("organisation")
        .prefetch_related("expertise")
        .order_by("display_name")
    )
    if organisation_slug:
        members = members.filter(organisation__slug=organisation_slug)
    if region:
        members = members.filter(organisation__region=region)
    if expertise:
        members = members.filter(expertise__name__iexact=expertise)
    if query:
        members = members.filter(
            Q(display_name__icontains=query)
            | Q(handle__icontains=query)
            | Q(organisation__name__icontains=query)
            | Q(job_title__icontains=query)
            | Q(expertise__name__icontains=query)
        )
    return members.distinct()


def directory_choices() -> dict:
    """The filter choices of the directory: organisations, regions and expertise tags in use."""
    from taggit.models import Tag

    organisations = list(Organisation.objects.order_by("name").values_list("slug", "name"))
    regions = sorted(set(Organisation.objects.exclude(region="").values_list("region", flat=True)))
    expertise = list(
        Tag.objects.filter(
            taggit_taggeditem_items__content_type__app_label="accounts",
            taggit_taggeditem_items__content_type__model="user",
        )
        .values_list("name", flat=True)
        .distinct()
        .order_by("name")
    )
    return {"organisations": organisations, "regions": regions, "expertise_tags": expertise}


def member_profile(handle: str) -> User | None:
    """An active member, or one who left (still named, "nicht mehr aktiv"); with the
    successor and the deputy the page names."""
    departed = Q(departed_at__isnull=False, erased_at__isnull=True)
    return (
        User.objects.filter(Q(is_active=True) | departed, handle__iexact=handle)
        .select_related("organisation", "successor", "deputy")
        .prefetch_related("expertise")
        .first()
    )


def stand_in_candidates(member: User, limit: int = 1000) -> list[User]:
    """Who can succeed or stand in for ``member``: approved members who can act now, the
    member's organisation first, then by name (one query)."""
    now = timezone.now()
    same = Value(False)
    if member.organisation_id:
        same = Case(
            When(organisation_id=member.organisation_id, then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    return list(
        User.objects.filter(
            membership=User.Membership.APPROVED,
            is_active=True,
            organisation__isnull=False,
            departed_at__isnull=True,
        )
        .exclude(pk=member.pk)
        .exclude(
            Q(suspended_at__isnull=False)
            & (Q(suspended_until__isnull=True) | Q(suspended_until__gt=now))
        )
        .annotate(colleague=same)
        .select_related("organisation")
        .order_by("-colleague", "display_name", "handle")[:limit]
    )


def member_for_moderation(handle: str) -> User | None:
    """The person a moderator acts on (deactivated accounts included: they can be seen)."""
    return User.objects.filter(handle__iexact=handle).select_related("organisation").first()


def suspended_members(limit: int = 100) -> list[User]:
    """People suspended right now, the soonest to return first, those without end last."""
    now = timezone.now()
    return list(
        User.objects.filter(suspended_at__isnull=False, is_active=True)
        .filter(Q(suspended_until__isnull=True) | Q(suspended_until__gt=now))
        .select_related("organisation")
        .order_by(F("suspended_until").asc(nulls_last=True), "display_name")[:limit]
    )


def current_terms() -> TermsVersion | None:
    return (
        TermsVersion.objects.filter(published_at__isnull=False, published_at__lte=timezone.now())
        .order_by("-published_at")
        .first()
    )


def has_accepted(user: User, terms: TermsVersion) -> bool:
    return terms.acceptances.filter(user=user).exists()


def recent_invitations(limit: int = 50) -> QuerySet[Invitation]:
    return Invitation.objects.select_related("organisation", "invited_by", "accepted_by").order_by(
        "-created_at"
    )[:limit]


def mention_suggestions(prefix: str, limit: int = 8) -> list[User]:
    return list(
        User.objects.filter(membership=User.Membership.APPROVED, is_active=True)
        .filter(Q(handle__istartswith=prefix) | Q(display_name__icontains=prefix))
        .select_related("organisation")
        .order_by("handle")[:limit]
    )
