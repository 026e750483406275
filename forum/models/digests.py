"""E-mail digests: subscriptions (members and confirmed bare addresses) and one delivery row per
subscription and window, which makes sending idempotent (forum/services/digests.py)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _new_secret() -> str:
    return secrets.token_urlsafe(24)


class Section(models.TextChoices):
    QUESTIONS = "questions", _("Neue und neu gelöste Fragen")
    EXPERIENCES = "experiences", _("Neue Erfahrungsberichte")
    COLLECTIONS = "collections", _("Neue und aktualisierte Sammlungen")
    HELP = "help", _("Fragen, bei denen Sie helfen können")
    FOLLOWED = "followed", _("Antworten in Themen, denen Sie folgen")
    EVENTS = "events", _("Anstehende Termine")


# What a bare address may choose: only public content, nothing personal.
PUBLIC_SECTIONS = (Section.QUESTIONS, Section.EXPERIENCES, Section.COLLECTIONS, Section.EVENTS)


class DigestSubscription(models.Model):
    class Frequency(models.TextChoices):
        DAILY = "daily", _("täglich")
        WEEKLY = "weekly", _("wöchentlich")

    class Topics(models.TextChoices):
        FOLLOWED = "followed", _("nur Schlagwörter und Themenfelder, denen ich folge")
        ALL = "all", _("alles, was ich lesen darf")

    # A member's subscription, or (user empty) a confirmed bare address for public content.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="digest",
    )
    email = models.EmailField(_("E-Mail-Adresse"), blank=True)
    frequency = models.CharField(
        _("Häufigkeit"), max_length=8, choices=Frequency.choices, default=Frequency.WEEKLY
    )
    weekday = models.PositiveSmallIntegerField(
        _("Wochentag"), default=0, help_text=_("0 = Montag … 6 = Sonntag (nur wöchentlich)")
    )
    hour = models.PositiveSmallIntegerField(_("Uhrzeit (Stunde)"), default=7)
    sections = models.JSONField(_("Rubriken"), default=list)
    topics = models.CharField(
        _("Themen"), max_length=8, choices=Topics.choices, default=Topics.FOLLOWED
    )
    paused_until = models.DateField(_("pausiert bis"), null=True, blank=True)
    confirmed_at = models.DateTimeField(_("bestätigt"), null=True, blank=True)
    # Part of every signed link: rotating it invalidates all links sent so far.
    secret = models.CharField(max_length=64, default=_new_secret, editable=False)
    # Where the next window starts, and when it falls due (kept by the sending service).
    window_start = models.DateTimeField(default=timezone.now)
    next_due_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("Digest-Abo")
        verbose_name_plural = _("Digest-Abos")
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=Q(user__isnull=True), name="digest_public_email_once"
            ),
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email=""), name="digest_has_address"
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="digest_weekday_valid"),
            models.CheckConstraint(condition=Q(hour__lte=23), name="digest_hour_valid"),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        return self.user.email if self.user_id else self.email

    @property
    def is_public(self) -> bool:
        return self.user_id is None


class DigestDelivery(models.Model):
    """One digest for one subscription and window. Created before sending (the claim), marked
    when the mail is handed to the mail server: a rerun sends only what is still pending."""

    class Status(models.TextChoices):
        PENDING = "pending", _("wartet")
        SENT = "sent", _("verschickt")
        EMPTY = "empty", _("leer, nicht verschickt")
        SKIPPED = "skipped", _("übersprungen")
        FAILED = "failed", _("fehlgeschlagen")

    subscription = models.ForeignKey(
        DigestSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    items = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("Digest-Versand")
        verbose_name_plural = _("Digest-Versand")
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "window_end"], name="digest_delivery_once"
            )
        ]
        indexes = [models.Index(fields=["status", "window_end"], name="digest_delivery_status")]

    def __str__(self) -> str:
        return f"{self.subscription_id} bis {self.window_end:%Y-%m-%d %H:%M}"
