"""Keeping open sockets honest when access changes (STYLE: signals for infrastructure).

A deactivated person's sockets are closed; when a thread changes (hidden, moved to another
category), the sockets subscribed to it re-check that their reader may still read it.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models.signals import post_save

from .events import send_event_on_commit, thread_group, user_group
from .models import Thread


def _user_saved(sender, instance, raw=False, **kwargs):
    if not raw and not instance.is_active:
        send_event_on_commit(user_group(instance.pk), "session.end", {})


def _thread_saved(sender, instance, raw=False, created=False, **kwargs):
    if not raw and not created:
        send_event_on_commit(thread_group(instance.pk), "thread.recheck", {"thread": instance.pk})


def connect() -> None:
    post_save.connect(_user_saved, sender=settings.AUTH_USER_MODEL, dispatch_uid="live_user")
    post_save.connect(_thread_saved, sender=Thread, dispatch_uid="live_thread")
