"""The one audit writer. Call it inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from django.db import models

from forum.models import AuditEntry


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
    else:
        actor_obj, actor_label = None, "System"
    return AuditEntry.objects.create(
        actor=actor_obj,
        actor_label=actor_label[:200],
        action=action,
        target_type=target._meta.label_lower,
        target_id=str(target.pk),
        target_label=(target_label or str(target))[:300],
        old_value=old,
        new_value=new,
        reason=reason,
    )
