from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class SitePage(models.Model):
    """Legal and help pages (Impressum, Datenschutz, …) that staff edit without a deploy."""

    class Slug(models.TextChoices):
        IMPRINT = "impressum", _("Impressum")
        PRIVACY = "datenschutz", _("Datenschutz")
        ACCESSIBILITY = "barrierefreiheit", _("Erklärung zur Barrierefreiheit")
        EASY_LANGUAGE = "leichte-sprache", _("Leichte Sprache")
        NETIQUETTE = "netiquette", _("Netiquette")

    slug = models.SlugField(_("Kürzel"), max_length=40, unique=True, choices=Slug.choices)
    title = models.CharField(_("Titel"), max_length=200)
    body = models.TextField(_("Text (Markdown)"))
    body_html = models.TextField(editable=False, blank=True)
    updated_at = models.DateTimeField(_("zuletzt geändert"), auto_now=True)

    class Meta:
        verbose_name = _("Seite")
        verbose_name_plural = _("Seiten")
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("forum:page", kwargs={"slug": self.slug})


class AccessibilityFeedback(models.Model):
    """A barrier reported through the feedback form of the accessibility statement."""

    page_url = models.CharField(_("betroffene Seite"), max_length=500, blank=True)
    message = models.TextField(_("Beschreibung der Barriere"), max_length=5000)
    contact_email = models.EmailField(_("E-Mail-Adresse für Rückfragen"), blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(_("eingegangen"), auto_now_add=True)
    handled_at = models.DateTimeField(_("erledigt"), null=True, blank=True)

    class Meta:
        verbose_name = _("Rückmeldung zur Barrierefreiheit")
        verbose_name_plural = _("Rückmeldungen zur Barrierefreiheit")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.message[:60]
