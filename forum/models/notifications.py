"""Notifications: persisted first, pushed after commit as a fast path (forum/services/notifications.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .posts import Post
from .threads import Thread


class Kind(models.TextChoices):
    REPLY = "reply", _("Antworten in beobachteten Themen")
    ANSWER = "answer", _("Antworten auf Ihre Fragen")
    NEW_THREAD = "new_thread", _("Neue Themen in beobachteten Schlagwörtern und Themenfeldern")
    MENTION = "mention", _("Erwähnungen (@name)")
    QUOTE = "quote", _("Zitate Ihrer Beiträge")
    ACCEPTED = "accepted", _("Ihre Antwort wurde als Lösung markiert")
    HELPFUL = "helpful", _("„Hilfreich“ für Ihre Beiträge")
    SUMMARY = "summary", _("Ergebnisse in Ihren Themen")
    MEMBERSHIP = "membership", _("Ihre Mitgliedschaft")
    MODERATION = "moderation", _("Entscheidungen der Moderation über Ihre Beiträge und Ihr Konto")
    COLLECTION = "collection", _("Ihr Thema in einer Sammlung")
    COLLECTION_UPDATE = "collection_upd", _("Neues in Sammlungen, denen Sie folgen")
    REPORT = "report", _("Ergebnis Ihrer Meldungen")
    APPEAL = "appeal", _("Antworten auf Ihre Einsprüche")
    TURNOVER = "turnover", _("Nachfolge und Vertretung")


class Channel(models.TextChoices):
    SITE = "site", _("im Forum")
    EMAIL = "email", _("im Forum und sofort per E-Mail")
    DIGEST = "digest", _("im Forum und in der E-Mail-Zusammenfassung")
    OFF = "off", _("aus")


# What a person gets without choosing: nothing that floods the inbox. Direct address (mention,
# moderation of one's content, an accepted answer) is worth an e-mail; the rest stays on the site
# or goes into the digest.
DEFAULT_CHANNELS = {
    Kind.REPLY: Channel.SITE,
    Kind.ANSWER: Channel.EMAIL,
    Kind.NEW_THREAD: Channel.DIGEST,
    Kind.MENTION: Channel.EMAIL,
    Kind.QUOTE: Channel.SITE,
    Kind.ACCEPTED: Channel.EMAIL,
    Kind.HELPFUL: Channel.SITE,
    Kind.SUMMARY: Channel.SITE,
    Kind.MEMBERSHIP: Channel.SITE,
    Kind.MODERATION: Channel.EMAIL,
    Kind.COLLECTION: Channel.SITE,
    Kind.COLLECTION_UPDATE: Channel.DIGEST,
    Kind.REPORT: Channel.SITE,
    Kind.APPEAL: Channel.EMAIL,
    Kind.TURNOVER: Channel.EMAIL,
}
# Kinds that gather into one unread row per thread ("5 neue Antworten in …").
COALESCING = frozenset({Kind.REPLY, Kind.ANSWER, Kind.HELPFUL})


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(_("Art"), max_length=16, choices=Kind.choices)
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    # The latest post the notification is about (the newest reply of a coalesced row).
    post = models.ForeignKey(
        Post, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    count = models.PositiveIntegerField(default=1)
    reason = models.TextField(_("Begründung"), blank=True)
    # Small, kind-specific facts for the text (e.g. the collection's title).
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped when a coalesced row takes another event: the catch-up cursor.
    updated_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("Benachrichtigung")
        verbose_name_plural = _("Benachrichtigungen")
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-updated_at", "-id"], name="notification_inbox"),
            models.Index(
                fields=["recipient", "kind", "thread"],
                condition=Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class NotificationPreference(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=Channel.choices)

    class Meta:
        verbose_name = _("Benachrichtigungseinstellung")
        verbose_name_plural = _("Benachrichtigungseinstellungen")
        constraints = [
            models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.kind} → {self.channel}"


class EmailWindow(models.Model):
    """Instant e-mails to one person about one thread are gathered: the first event opens a
    window, and everything until it closes goes out as one mail when it ends (at most one mail
    per thread and window; forum/tasks.py)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    thread = models.ForeignKey(
        Thread, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    opened_at = models.DateTimeField()
    due_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("E-Mail-Fenster")
        verbose_name_plural = _("E-Mail-Fenster")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "thread"],
                condition=Q(sent_at__isnull=True),
                name="email_window_open_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id}/{self.thread_id} bis {self.due_at:%H:%M}"
