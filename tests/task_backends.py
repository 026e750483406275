"""A task backend for tests: a task runs the moment it is enqueued (after commit, as a free
worker would run it), except one with ``run_after`` in the future, which is kept in
``deferred`` instead of failing the way django-tasks' ImmediateBackend does.

Tests of the queue itself use the real database backend (the ``task_queue`` fixture)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks.base import TaskResult, TaskResultStatus
from django_tasks.utils import get_random_id


class RunAtOnceBackend(ImmediateBackend):
    supports_defer = True

    def __init__(self, alias: str, params: dict):
        super().__init__(alias, params)
        self.deferred: list[TaskResult] = []

    def enqueue(self, task, args, kwargs):
        if task.run_after is None or task.run_after <= timezone.now():
            return super().enqueue(task, args, kwargs)
        self.validate_task(task)
        result = TaskResult(
            task=task,
            id=get_random_id(),
            status=TaskResultStatus.READY,
            enqueued_at=timezone.now(),
            started_at=None,
            last_attempted_at=None,
            finished_at=None,
            args=args,
            kwargs=kwargs,
            backend=self.alias,
            errors=[],
            worker_ids=[],
        )
        self.deferred.append(result)
        return result
