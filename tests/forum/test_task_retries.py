"""A task whose transaction PostgreSQL aborted for a deadlock runs again (make bench-load
found a mail task ending FAILED for good, its mail never sent); other database errors are not
swallowed."""

from __future__ import annotations

import pytest
from django.db import OperationalError

from forum import tasks


class _PgError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _aborted(sqlstate: str) -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = _PgError(sqlstate)
    return error


def test_a_deadlocked_mail_task_runs_again(monkeypatch):
    calls = []

    def instant_mail_event(notification_id: int) -> str:
        calls.append(notification_id)
        if len(calls) == 1:
            raise _aborted("40P01")
        return "sent"

    monkeypatch.setattr("forum.services.notifications.instant_mail_event", instant_mail_event)
    monkeypatch.setattr(tasks.time, "sleep", lambda _s: None)
    assert tasks.notification_mail.call(7) == "sent"
    assert calls == [7, 7]


def test_it_gives_up_after_three_attempts_and_other_errors_are_raised_at_once(monkeypatch):
    calls = []

    def always(window_id: int) -> str:
        calls.append(window_id)
        raise _aborted("40P01")

    monkeypatch.setattr("forum.services.notifications.instant_mail_window_close", always)
    monkeypatch.setattr(tasks.time, "sleep", lambda _s: None)
    with pytest.raises(OperationalError):
        tasks.notification_window_close.call(3)
    assert calls == [3, 3, 3]

    calls.clear()

    def broken(window_id: int) -> str:
        calls.append(window_id)
        raise _aborted("08006")  # connection failure: not a rollback to retry here

    monkeypatch.setattr("forum.services.notifications.instant_mail_window_close", broken)
    with pytest.raises(OperationalError):
        tasks.notification_window_close.call(4)
    assert calls == [4]
