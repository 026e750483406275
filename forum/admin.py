from __future__ import annotations

from django.contrib import admin

from .markdown import render_markdown
from .models import AccessibilityFeedback, AuditEntry, Category, SitePage


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "visibility", "position")
    list_editable = ("position",)
    list_filter = ("visibility",)
    search_fields = ("name", "description")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(SitePage)
class SitePageAdmin(admin.ModelAdmin):
    """Staff edit the legal pages here; the HTML is rendered once on save."""

    list_display = ("title", "slug", "updated_at")
    search_fields = ("title", "body")

    def save_model(self, request, obj, form, change):
        obj.body_html = render_markdown(obj.body)
        super().save_model(request, obj, form, change)


@admin.register(AccessibilityFeedback)
class AccessibilityFeedbackAdmin(admin.ModelAdmin):
    list_display = ("created_at", "page_url", "contact_email", "handled_at")
    list_filter = ("handled_at",)
    search_fields = ("message", "page_url")
    readonly_fields = ("page_url", "message", "contact_email", "user", "created_at")


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: nobody edits or deletes audit entries through the product."""

    list_display = ("created_at", "actor_label", "action", "target_label", "reason")
    list_filter = ("action", "target_type")
    search_fields = ("actor_label", "target_label", "reason", "action")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
