"""Curated collections of good practice (Sammlungen, the Praxis-Reader)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from .posts import Post
from .threads import Thread


class Collection(models.Model):
    class Visibility(models.TextChoices):
        PUBLIC = "public", _("öffentlich")
        MEMBERS = "members", _("nur für Mitglieder")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Entwurf")
        REVIEWED = "reviewed", _("geprüft")
        PUBLISHED = "published", _("veröffentlicht")

    title = models.CharField(_("Titel"), max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    intro = models.TextField(_("Einleitung (Markdown)"), blank=True, max_length=20000)
    intro_html = models.TextField(blank=True, editable=False)
    tags = TaggableManager(verbose_name=_("Schlagwörter"), blank=True)
    visibility = models.CharField(
        _("Sichtbarkeit"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    status = models.CharField(
        _("Stand"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    stand_date = models.DateField(_("Stand vom"), null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Sammlung")
        verbose_name_plural = _("Sammlungen")
        ordering = ["-published_at", "-created_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("forum:collection", kwargs={"slug": self.slug})

    @property
    def is_published(self) -> bool:
        return self.status == self.Status.PUBLISHED


class CollectionEntry(models.Model):
    """A thread as a chapter of a collection, with an editorial note and the post to show."""

    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="entries")
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="collection_entries")
    position = models.PositiveIntegerField(default=0)
    note = models.TextField(_("redaktionelle Notiz (Markdown)"), blank=True, max_length=5000)
    note_html = models.TextField(blank=True, editable=False)
    key_post = models.ForeignKey(
        Post,
        verbose_name=_("Kernbeitrag"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    review_by = models.DateField(_("prüfen bis"), null=True, blank=True)
    author_notified = models.BooleanField(default=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Eintrag einer Sammlung")
        verbose_name_plural = _("Einträge von Sammlungen")
        ordering = ["position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["collection", "thread"], name="collection_thread_once")
        ]

    def __str__(self) -> str:
        return f"{self.collection} – {self.thread}"


class CollectionFollow(models.Model):
    """A reader follows a collection: told when it is published or gains a chapter."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    collection = models.ForeignKey(Collection, on_delete=models.CASCADE, related_name="follows")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Folgen einer Sammlung")
        verbose_name_plural = _("Folgen von Sammlungen")
        constraints = [
            models.UniqueConstraint(fields=["user", "collection"], name="collection_follow_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.collection_id}"
