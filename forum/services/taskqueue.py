"""Housekeeping for the task queue (django-tasks-db).

A worker that dies mid-task (killed, out of memory, machine gone) leaves its task RUNNING for
ever: the backend has no heartbeat and no retry. ``tasks_reap`` hands such tasks back to the
queue once they have run for longer than any task should; the next free worker runs them
again, which is safe because every task is idempotent (forum/tasks.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult


@dataclass
class Reaped:
    ids: list[str] = field(default_factory=list)
    by_task: Counter = field(default_factory=Counter)


def tasks_reap(*, older_than: timedelta, now: datetime | None = None) -> Reaped:
    """Set tasks RUNNING since before ``now - older_than`` back to READY. Idempotent, and safe
    beside live workers: a task that finishes in the meantime is no longer RUNNING and is left
    alone (the update re-checks the status in the same statement)."""
    cutoff = (now or timezone.now()) - older_than
    stale = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=cutoff)
    reaped = Reaped()
    with transaction.atomic():
        rows = list(
            stale.select_for_update(skip_locked=True).order_by().values_list("id", "task_path")
        )
        if not rows:
            return reaped
        # started_at is cleared so that the row reads as never started; worker_ids keeps the
        # dead worker, so the next run counts as the second attempt.
        stale.filter(pk__in=[pk for pk, _path in rows]).update(
            status=TaskResultStatus.READY, started_at=None
        )
    reaped.ids = [str(pk) for pk, _path in rows]
    reaped.by_task = Counter(path for _pk, path in rows)
    return reaped
