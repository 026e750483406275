from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One moderation or curation change. Written by ``forum.services.audit`` only.

    Labels are snapshots so an entry keeps its meaning when the actor or target is deleted.
    """

    created_at = models.DateTimeField(_("Zeit"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("Handelnde Person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("Handelnde Person (Stand)"), max_length=200)
    # The actor's pseudonym (User.pseudonym): survives the erasure of the account, which
    # redacts name and e-mail in the labels and values.
    actor_ref = models.CharField(_("Pseudonym der handelnden Person"), max_length=16, blank=True)
    action = models.CharField(_("Aktion"), max_length=64, db_index=True)
    target_type = models.CharField(_("Zieltyp"), max_length=64)
    target_id = models.CharField(_("Ziel-ID"), max_length=64, blank=True)
    target_label = models.CharField(_("Ziel (Stand)"), max_length=300)
    old_value = models.JSONField(_("alter Wert"), null=True, blank=True)
    new_value = models.JSONField(_("neuer Wert"), null=True, blank=True)
    reason = models.TextField(_("Begründung"), blank=True)

    class Meta:
        verbose_name = _("Protokolleintrag")
        verbose_name_plural = _("Protokoll")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["actor_ref"], name="audit_actor_ref"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label}: {self.action}"
