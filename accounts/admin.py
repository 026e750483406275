"""Admin for operators. Membership changes go through actions that call the services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    Invitation,
    Organisation,
    OrganisationDomain,
    TermsAcceptance,
    TermsVersion,
    User,
)


class OrganisationDomainInline(admin.TabularInline):
    model = OrganisationDomain
    extra = 1
    fields = ("domain", "active")


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "region", "domain_list")
    list_filter = ("kind", "region")
    search_fields = ("name", "slug", "domains__domain")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [OrganisationDomainInline]
    # A website typed without a scheme is taken as https (Django 6's default, no warning).
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("domains")

    @admin.display(description=_("Domains"))
    def domain_list(self, obj):
        return ", ".join(d.domain + ("" if d.active else " (inaktiv)") for d in obj.domains.all())


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("display_name",)
    list_display = (
        "display_name",
        "handle",
        "email",
        "organisation",
        "membership",
        "is_staff",
        "date_joined",
    )
    list_filter = ("membership", "is_staff", "is_active", "groups", "organisation__kind")
    search_fields = ("display_name", "handle", "email", "organisation__name")
    list_select_related = ("organisation",)
    # Membership and organisation follow rules (domains, review, audit): they change through
    # the review queue or the admin action, never by editing the field.
    readonly_fields = (
        "organisation",
        "membership",
        "membership_note",
        "membership_changed_at",
        # Suspensions are moderation decisions with a reason, an audit entry and a statement
        # to the member: only /mod/members/<handle>/sperren/ changes them.
        "suspended_at",
        "suspended_until",
        "suspension_reason",
        # Departure and deputies change through /mod/members/<handle>/ausgeschieden/ and the
        # profile (accounts/turnover.py: audit entry, successor's takeover, notices).
        "departed_at",
        "successor",
        "deputy",
        "deputy_until",
        "last_login",
        "date_joined",
    )
    autocomplete_fields = ("suggested_organisation",)
    # Roles are given by superusers only (create_moderator, or the admin as superuser): an
    # operator who may change users must not be able to make anyone, themselves included,
    # a moderator or superuser.
    ROLE_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += self.ROLE_FIELDS
        return fields

    fieldsets = (
        (None, {"fields": ("email", "handle", "display_name", "password")}),
        (_("Profil"), {"fields": ("organisation", "job_title", "bio")}),
        (
            _("Mitgliedschaft"),
            {
                "fields": (
                    "membership",
                    "suggested_organisation",
                    "membership_note",
                    "membership_changed_at",
                )
            },
        ),
        (
            _("Sperre"),
            {"fields": ("suspended_at", "suspended_until", "suspension_reason")},
        ),
        (
            _("Personalwechsel"),
            {"fields": ("departed_at", "successor", "deputy", "deputy_until")},
        ),
        (
            _("Rechte"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Daten"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "handle", "display_name", "password1", "password2"),
            },
        ),
    )
    actions = ["approve_membership", "erase_accounts"]

    def has_delete_permission(self, request, obj=None):
        # Deleting the row would leave the person's name in audit labels and take their
        # posts' authorship; accounts go through erase_account (the action below).
        return False

    @admin.action(description=_("Konten löschen (anonymisieren; Beiträge bleiben)"))
    def erase_accounts(self, request, queryset):
        from .erasure import ErasureRefused, erase_account

        erased = 0
        for user in queryset.filter(erased_at__isnull=True):
            label = str(user)
            try:
                erase_account(user, actor=request.user, reason="Durch den Betrieb gelöscht")
            except ErasureRefused as exc:
                self.message_user(request, f"{label}: {exc}", messages.ERROR)
            else:
                erased += 1
        if erased:
            self.message_user(
                request, _("%(n)d Konto/Konten gelöscht (anonymisiert).") % {"n": erased}
            )

    @admin.action(
        description=_("Mitgliedschaft bestätigen (Organisation laut Profil oder Vorschlag)")
    )
    def approve_membership(self, request, queryset):
        approved = 0
        for user in queryset.select_related("organisation", "suggested_organisation"):
            organisation = user.suggested_organisation or user.organisation
            if organisation is None:
                self.message_user(
                    request,
                    _(
                        "%(user)s: keine Organisation angegeben – bitte im Prüfbereich /mod/members/ entscheiden."
                    )
                    % {"user": user},
                    messages.WARNING,
                )
                continue
            try:
                services.membership_approve(request.user, user=user, organisation=organisation)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"{user}: {exc}", messages.ERROR)
            else:
                approved += 1
        if approved:
            self.message_user(request, _("%(n)d Mitgliedschaft(en) bestätigt.") % {"n": approved})


@admin.register(TermsVersion)
class TermsVersionAdmin(admin.ModelAdmin):
    list_display = ("version", "title", "published_at")
    readonly_fields = ("published_at",)
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        # A published text is what people agreed to: it can't be changed afterwards.
        if obj is not None and obj.published_at:
            return ("version", "title", "body", "summary_of_changes", "published_at")
        return self.readonly_fields

    @admin.action(
        description=_("Veröffentlichen (alle müssen erneut zustimmen)"), permissions=["change"]
    )
    def publish(self, request, queryset):
        for terms in queryset:
            services.terms_publish(request.user, terms=terms)
        from django.core.cache import cache

        from .middleware import TERMS_CACHE_KEY

        cache.delete(TERMS_CACHE_KEY)
        self.message_user(request, _("Veröffentlicht."))


@admin.register(TermsAcceptance)
class TermsAcceptanceAdmin(admin.ModelAdmin):
    list_display = ("user", "terms", "accepted_at")
    list_filter = ("terms",)
    search_fields = ("user__display_name", "user__email")
    list_select_related = ("user", "terms")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = (
        "email",
        "organisation",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_filter = ("organisation",)
    search_fields = ("email", "organisation__name")
    list_select_related = ("organisation", "invited_by")

    def has_add_permission(self, request):
        return False  # invitations are sent from /mod/invitations/ so the mail goes out

    def has_change_permission(self, request, obj=None):
        return False
