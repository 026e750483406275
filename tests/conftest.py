from __future__ import annotations

from contextlib import ExitStack, contextmanager

import pytest
from django.core.cache import cache
from django.db import connection


@pytest.fixture(autouse=True)
def _no_posting_limits(settings):
    """Tests write many posts in a second; the limits have their own tests."""
    settings.FORUM_POSTS_PER_MINUTE = 10_000
    settings.FORUM_THREADS_PER_HOUR = 10_000


@pytest.fixture(autouse=True)
def _tasks_run_at_once(settings):
    """Background tasks (e-mails) run when enqueued, after commit; ``task_queue`` below gives
    a test the real database queue instead."""
    settings.TASKS = {
        "default": {
            "BACKEND": "tests.task_backends.RunAtOnceBackend",
            "QUEUES": ["default", "email"],
        }
    }


@pytest.fixture
def task_queue(settings, _tasks_run_at_once):
    """The real queue (django-tasks-db) and a worker to drain it: ``task_queue.run()`` runs
    every task that is due now, as ``manage.py db_worker`` would, and returns how many."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}
    }
    return TaskQueue()


class TaskQueue:
    worker_id = "test-worker"

    def run(self) -> int:
        from django.test import TestCase
        from django_tasks_db.management.commands.db_worker import Worker
        from django_tasks_db.models import DBTaskResult

        worker = Worker(
            queue_names=["*"],
            interval=0,
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=self.worker_id,
            excluded_queue_names=[],
        )
        ran = 0
        # Claimed as the worker claims (status, start, worker id) without its loop, which
        # would close the test's database connection between tasks. What a task schedules
        # after its commit is run too (the test's transaction never commits).
        while (result := DBTaskResult.objects.ready().first()) is not None:
            result.claim(self.worker_id)
            with TestCase.captureOnCommitCallbacks(execute=True):
                worker.run_task(result)
            ran += 1
            assert ran < 1000, "tasks keep enqueueing each other"
        return ran


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Hashing strength is not under test; PBKDF2 would dominate the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _clear_our_cache_keys() -> None:
    # With Redis, clear() would flush the whole database, channel layer included: delete only
    # this site's prefixed keys there.
    if hasattr(cache, "delete_pattern"):
        cache.delete_pattern("*")
    else:
        cache.clear()


@pytest.fixture(autouse=True)
def _clear_cache():
    # allauth keeps rate-limit counters in the cache; every test starts with none.
    _clear_our_cache_keys()
    yield
    _clear_our_cache_keys()


@pytest.fixture
def network(db):
    from django.conf import settings

    from accounts.services import network_load_file

    network_load_file(settings.NETWORK_FILE)


@pytest.fixture
def bochum(network):
    from accounts.models import Organisation

    return Organisation.objects.get(slug="bochum")


@pytest.fixture
def member(network):
    from tests.factories import make_member

    return make_member(email="jonas.becker@bochum.de", handle="jonas-becker")


@pytest.fixture
def moderator(network):
    from tests.factories import make_moderator

    return make_moderator()


@pytest.fixture
def mfa_moderator(moderator):
    from tests.factories import activate_totp

    activate_totp(moderator)
    return moderator


@pytest.fixture
def mod_client(mfa_moderator):
    """A second browser, signed in as a moderator with 2FA, beside the ``client`` fixture."""
    from django.test import Client

    client = Client()
    client.force_login(mfa_moderator)
    return client


@pytest.fixture
def indexed():
    """Run the after-commit indexing of everything the test writes inside the block, as the
    commit of a real request would (and forget the jobs afterwards, as a commit does)."""

    @contextmanager
    def run():
        start = len(connection.run_on_commit)
        yield
        done = start
        while done < len(connection.run_on_commit):
            _, callback, _ = connection.run_on_commit[done]
            callback()
            done += 1
        del connection.run_on_commit[start:]

    return run


@pytest.fixture
def smtp_server(settings):
    """A real SMTP server on loopback (aiosmtpd); mails go there through Django's SMTP backend.
    ``smtp_server.messages`` holds the parsed messages received so far."""
    import email
    import email.policy
    import socket

    from aiosmtpd.controller import Controller

    class Sink:
        def __init__(self) -> None:
            self.messages: list = []

        async def handle_DATA(self, server, session, envelope):
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            message.envelope_to = list(envelope.rcpt_tos)
            self.messages.append(message)
            return "250 OK"

    with socket.socket() as probe:  # Controller(port=0) does not work: find a free port first
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        yield sink
    finally:
        controller.stop()


@contextmanager
def built_once(django_db_blocker, build, *, run_on_commit=True, **overrides):
    """Data for a whole test module, built once inside an outer transaction that is rolled
    back after the module's last test (the per-test transactions nest inside it as
    savepoints). ``overrides`` are settings for the building only; posting limits are off
    and passwords hash fast while building. With ``run_on_commit`` the on-commit callbacks of
    the building (search index, notifications) run at once, as the outer transaction never
    commits."""
    from django.db import transaction
    from django.test import TestCase
    from django.test.utils import override_settings

    settings = {
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "FORUM_POSTS_PER_MINUTE": 10_000,
        "FORUM_THREADS_PER_HOUR": 10_000,
        **overrides,
    }
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            with override_settings(**settings), ExitStack() as stack:
                if run_on_commit:
                    stack.enter_context(TestCase.captureOnCommitCallbacks(execute=True))
                built = build()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield built
    finally:
        with django_db_blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
