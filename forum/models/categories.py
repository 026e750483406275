from __future__ import annotations

from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """A Themenfeld: the top-level grouping of threads, with who may see it."""

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("öffentlich")
        MEMBERS = "members", _("nur Mitglieder")
        MODERATORS = "moderators", _("nur Moderation")

    name = models.CharField(_("Name"), max_length=120)
    slug = models.SlugField(_("Kürzel"), max_length=120, unique=True)
    description = models.TextField(_("Beschreibung"), blank=True)
    visibility = models.CharField(
        _("Sichtbarkeit"),
        max_length=16,
        choices=Visibility.choices,
        default=Visibility.MEMBERS,
    )
    position = models.PositiveIntegerField(_("Reihenfolge"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Themenfeld")
        verbose_name_plural = _("Themenfelder")
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("forum:category", kwargs={"slug": self.slug})
