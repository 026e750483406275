"""Keeping open sockets honest when access changes (STYLE: signals for infrastructure).

A deactivated person's sockets are closed; a suspended person (who stays signed in) has
their sockets re-check what they may read; when a thread changes (hidden, moved to another
category), the sockets subscribed to it re-check that their reader may still read it.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save

from .events import send_event_on_commit, thread_group, user_group
from .models import Thread

SUSPENSION_FIELDS = frozenset({"suspended_at", "suspended_until", "suspension_reason"})


def _user_saved(sender, instance, raw=False, update_fields=None, **kwargs):
    if raw:
        return
    if not instance.is_active:
        send_event_on_commit(user_group(instance.pk), "session.end", {})
    elif _suspension_may_have_changed(instance, update_fields):
        # Suspended or lifted: the sockets reload the person and leave a thread they may no
        # longer read (a members-only one) instead of signing them out.
        send_event_on_commit(user_group(instance.pk), "session.recheck", {})


def _suspension_may_have_changed(instance, update_fields) -> bool:
    if update_fields is not None:  # the services name what they save
        return bool(SUSPENSION_FIELDS & set(update_fields))
    return instance.suspended_at is not None  # a full save of a suspended person


def _thread_saved(sender, instance, raw=False, created=False, **kwargs):
    if not raw and not created:
        send_event_on_commit(thread_group(instance.pk), "thread.recheck", {"thread": instance.pk})


def connect() -> None:
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="live_user")
    post_save.connect(_thread_saved, sender=Thread, dispatch_uid="live_thread")
