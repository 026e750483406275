from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .posts import Post


class Report(models.Model):
    """A member's report of a post, waiting in the review queue until a moderator settles it."""

    class Reason(models.TextChoices):
        SPAM = "spam", _("Werbung oder Spam")
        OFF_TOPIC = "off_topic", _("gehört nicht zum Thema")
        OFFENSIVE = "offensive", _("beleidigend oder respektlos")
        PERSONAL_DATA = (
            "personal_data",
            _("enthält personenbezogene Daten von Bürgerinnen und Bürgern"),
        )
        ILLEGAL = "illegal", _("möglicherweise rechtswidrig")
        OTHER = "other", _("anderer Grund")

    class Status(models.TextChoices):
        OPEN = "open", _("offen")
        UPHELD = "upheld", _("bestätigt")
        DISMISSED = "dismissed", _("zurückgewiesen")

    post = models.ForeignKey(Post, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    reason = models.CharField(_("Grund"), max_length=16, choices=Reason.choices)
    text = models.TextField(_("Erläuterung"), blank=True, max_length=2000)
    status = models.CharField(
        _("Stand"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("gemeldet"), auto_now_add=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(_("Begründung der Entscheidung"), blank=True)

    class Meta:
        verbose_name = _("Meldung")
        verbose_name_plural = _("Meldungen")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="report_queue")]
        constraints = [
            # One open report per person and post: a second click does not pile up.
            models.UniqueConstraint(
                fields=["post", "reporter"],
                condition=Q(status="open"),
                name="report_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} ({self.post_id})"


class Appeal(models.Model):
    """A person's answer to a moderation decision about them (the statement of reasons they
    received); a moderator replies, and may reverse the decision with its own action."""

    class Status(models.TextChoices):
        OPEN = "open", _("offen")
        ANSWERED = "answered", _("beantwortet")

    entry = models.ForeignKey("forum.AuditEntry", on_delete=models.PROTECT, related_name="appeals")
    appellant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    text = models.TextField(_("Ihr Einspruch"), max_length=4000)
    status = models.CharField(
        _("Stand"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("eingelegt"), auto_now_add=True)
    answer = models.TextField(_("Antwort der Moderation"), blank=True, max_length=4000)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Einspruch")
        verbose_name_plural = _("Einsprüche")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="appeal_queue")]
        constraints = [
            models.UniqueConstraint(fields=["entry", "appellant"], name="appeal_once"),
        ]

    def __str__(self) -> str:
        return f"{self.appellant_id} → {self.entry_id}"
