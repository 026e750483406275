"""Channel group names and sending events to them after commit.

Groups are private by construction: ``user.<id>`` reaches one person's sockets; the sender
chooses the recipients and consumers only forward.
"""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

EVENT_TYPE = "forum.event"

logger = logging.getLogger(__name__)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def thread_group(thread_id: int) -> str:
    """Readers of one thread page; a consumer joins it only after checking read permission."""
    return f"thread.{thread_id}"


def send_event(group: str, kind: str, payload: dict[str, Any]) -> None:
    """Push to the group's open sockets. A push is only the fast path (the rows are written and
    clients catch up from the database), so a channel layer that is down (Redis restarting) is
    logged and the caller carries on."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group, {"type": EVENT_TYPE, "kind": kind, "payload": payload}
        )
    except Exception as exc:  # any layer failure: Redis refused, timed out, reset
        logger.warning("Live-Push an %s (%s) nicht möglich: %r", group, kind, exc)


def send_event_on_commit(group: str, kind: str, payload: dict[str, Any]) -> None:
    """Push only once the data the event talks about is committed."""
    transaction.on_commit(lambda: send_event(group, kind, payload), robust=True)
