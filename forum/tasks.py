"""Background tasks (django-tasks on its database backend; workers: ``manage.py db_worker``).

Every task takes ids or JSON, re-reads what it needs, calls a service and may run twice: a
worker that dies leaves its task RUNNING until ``manage.py tasks_reap`` hands it to another
worker. Tasks are enqueued after commit (``transaction.on_commit(..., robust=True)``).
The database backend has no retries of its own: the e-mail task re-enqueues itself with
``run_after`` when the mail server fails.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.db import OperationalError
from django.utils import timezone
from django_tasks import task

from forum import emails

logger = logging.getLogger(__name__)

# Waits after a failed attempt: 1, 5, 25 and 125 minutes; the fifth failure gives up.
RETRY_DELAYS = [timedelta(minutes=5**n) for n in range(4)]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


T = TypeVar("T")
# PostgreSQL's deadlock_detected and serialization_failure: the database rolled the task's
# transaction back so that another could go on; running it again is the documented remedy.
RETRY_SQLSTATES = frozenset({"40P01", "40001"})
DB_ATTEMPTS = 3


def _retry_when_rolled_back(call: Callable[[], T]) -> T:
    """Run ``call`` (an idempotent service call that owns its transaction) again when the
    database aborted it for a deadlock; django-tasks-db would otherwise mark the task failed
    for good and, for a notification, its mail would never go out."""
    for attempt in range(1, DB_ATTEMPTS + 1):
        try:
            return call()
        except OperationalError as exc:
            sqlstate = getattr(exc.__cause__, "sqlstate", None)
            if sqlstate not in RETRY_SQLSTATES or attempt == DB_ATTEMPTS:
                raise
            logger.warning("Aufgabe von der Datenbank abgebrochen (%s), neuer Versuch", sqlstate)
            time.sleep(0.1 * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _refused_for_good(exc: Exception) -> bool:
    """Every recipient refused with a permanent (5xx) code: trying again cannot help.
    A temporary refusal (4xx, e.g. greylisting) and everything else are retried."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    return False


@task(queue_name="email")
def send_email(message: emails.Message, attempt: int = 1) -> str:
    """Hand a rendered message to the mail server; on a failure, try again later."""
    try:
        emails.deliver(message)
    except (smtplib.SMTPException, OSError) as exc:  # ConnectionError is an OSError
        to = ", ".join(message["to"])
        if _refused_for_good(exc):
            logger.error("E-Mail an %s abgewiesen, kein neuer Versuch: %s", to, exc)
            return "refused"
        if attempt >= MAX_ATTEMPTS:
            logger.error(
                "E-Mail an %s nach %s Versuchen aufgegeben (%s): %s",
                to,
                attempt,
                message["subject"],
                exc,
            )
            return "gave up"
        run_after = timezone.now() + RETRY_DELAYS[attempt - 1]
        send_email.using(run_after=run_after).enqueue(message, attempt + 1)
        logger.warning(
            "E-Mail an %s nicht zugestellt (Versuch %s), neuer Versuch ab %s: %s",
            to,
            attempt,
            run_after.isoformat(timespec="seconds"),
            exc,
        )
        return "retry"
    return "sent"


@task(queue_name="email")
def notification_mail(notification_id: int) -> str:
    """An event for someone who wants e-mail at once: mail now or gather (see the service)."""
    from forum.services.notifications import instant_mail_event

    return _retry_when_rolled_back(lambda: instant_mail_event(notification_id))


@task(queue_name="email")
def notification_window_close(window_id: int) -> str:
    """A thread's mail window has ended: send what it gathered, once."""
    from forum.services.notifications import instant_mail_window_close

    return _retry_when_rolled_back(lambda: instant_mail_window_close(window_id))


@task(queue_name="email")
def send_digest_batch(delivery_ids: list[int]) -> dict[str, int]:
    """Build and send these digest deliveries (``manage.py send_digests`` enqueues batches);
    each delivery is claimed and sent at most once by the service, however often this runs."""
    from dataclasses import asdict

    from forum.services.digests import digests_send

    return asdict(digests_send(delivery_ids))
