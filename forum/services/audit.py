"""The one audit writer. Call it inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from forum.models import AuditEntry

# German names of the recorded actions, for the log and the review queue.
ACTION_LABELS = {
    "appeal.answered": _("Einspruch beantwortet"),
    "collection.created": _("Sammlung angelegt"),
    "collection.entry_changed": _("Kapitel geändert"),
    "collection.reordered": _("Kapitel umsortiert"),
    "collection.status": _("Stand der Sammlung geändert"),
    "collection.thread_added": _("Thema in Sammlung aufgenommen"),
    "collection.thread_removed": _("Thema aus Sammlung entfernt"),
    "invitation.created": _("Einladung verschickt"),
    "member.erased": _("Konto gelöscht (anonymisiert)"),
    "member.departed": _("Als ausgeschieden markiert"),
    "member.departure_undone": _("Ausscheiden rückgängig gemacht"),
    "member.deputy_cleared": _("Vertretung beendet"),
    "member.deputy_set": _("Vertretung eingetragen"),
    "member.suspended": _("Mitglied gesperrt"),
    "member.unsuspended": _("Sperre aufgehoben"),
    "membership.approved": _("Mitgliedschaft bestätigt"),
    "membership.rejected": _("Mitgliedschaft abgelehnt"),
    "membership.review_requested": _("Mitgliedschaft zur Prüfung"),
    "moderator.created": _("Moderationsrolle vergeben"),
    "post.approved": _("Beitrag freigegeben"),
    "post.deleted": _("Beitrag gelöscht"),
    "post.edited": _("Beitrag bearbeitet"),
    "post.hidden": _("Beitrag ausgeblendet"),
    "post.rejected": _("Beitrag abgelehnt"),
    "post.restored": _("Beitrag wiederhergestellt"),
    "post.unhidden": _("Beitrag wieder eingeblendet"),
    "report.dismissed": _("Meldung zurückgewiesen"),
    "terms.published": _("Nutzungsbedingungen veröffentlicht"),
    "thread.changed": _("Thema geändert (Titel, Art, Schlagwörter)"),
    "thread.locked": _("Thema geschlossen"),
    "thread.merged": _("Themen zusammengeführt"),
    "thread.moved": _("Thema verschoben"),
    "thread.pinned": _("Thema im Themenfeld angeheftet"),
    "thread.pinned_globally": _("Thema überall angeheftet"),
    "thread.split": _("Beiträge abgetrennt"),
    "thread.unlocked": _("Thema wieder geöffnet"),
    "thread.unpinned": _("Thema losgelöst"),
}


def action_label(action: str) -> str:
    return str(ACTION_LABELS.get(action, action))


def audit_record(
    actor: Any,
    *,
    action: str,
    target: models.Model,
    target_label: str | None = None,
    old: Any = None,
    new: Any = None,
    reason: str = "",
) -> AuditEntry:
    """Record ``action`` by ``actor`` (a user or None for the system) on ``target``."""
    if actor is not None and getattr(actor, "pk", None):
        actor_obj, actor_label = actor, f"{actor} (@{actor.handle})"
        actor_ref = actor.pseudonym
    else:
        actor_obj, actor_label, actor_ref = None, "System", ""
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_label=actor_label[:200],
        actor_ref=actor_ref,
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=(target_label or str(target))[:300],
        old_value=old,
        new_value=new,
        reason=reason,
    )
