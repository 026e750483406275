"""Background tasks and instant notification mails: the real database queue (django-tasks-db)
drained by a worker, windows that gather events per person and thread, SMTP failures and
their retries, the reaper for tasks whose worker died, and mails through a real SMTP server."""

from __future__ import annotations

import logging
import re
import smtplib
import socket
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from forum import tasks
from forum.emails import compose, send_email_on_commit
from forum.models import Category, EmailWindow, Kind, Level, Notification
from forum.services import notifications
from forum.services.following import follow_set
from forum.services.moderation import post_hide
from forum.services.notifications import instant_mail_event, instant_mail_window_close
from forum.services.posts import post_create
from tests.factories import CategoryFactory, make_member, make_thread

WINDOW = timedelta(minutes=15)


@pytest.fixture(autouse=True)
def _window(settings):
    settings.FORUM_INSTANT_MAIL_WINDOW_MINUTES = 15


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def ben(network):
    return make_member(email="ben.koch@bochum.de", handle="ben-koch")


@pytest.fixture
def cara(network):
    return make_member(email="cara.lang@bochum.de", handle="cara-lang")


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """``with committed():`` runs what the code inside schedules for after its commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@contextmanager
def clock(moment):
    """Everything that asks Django for the time (the queue included) sees ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def waiting(task) -> list[DBTaskResult]:
    return list(
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, task_path=task.module_path
        ).order_by("run_after")
    )


def links(message) -> list[str]:
    return re.findall(r"https?://\S+", message.body)


def post_url(post) -> str:
    return f"{settings.SITE_URL}/t/{post.thread_id}/?beitrag={post.number}"


# --- Instant mails, gathered per thread -------------------------------------------------------


@pytest.mark.django_db
class TestInstantMail:
    def test_three_mentions_make_one_mail_now_and_one_at_the_window_end(
        self, task_queue, committed, member, ben, cara, public
    ):
        thread = make_thread(cara, category=public, kind="discussion", title="Zwischennutzung")
        with committed():
            posts = [
                post_create(ben, thread=thread, body=f"@jonas-becker, Frage {n}?")
                for n in (1, 2, 3)
            ]
        task_queue.run()

        # The first event went out at once, alone, linking to its post.
        (first,) = mail.outbox
        assert first.to == [member.email]
        assert first.subject == (
            f"{settings.EMAIL_SUBJECT_PREFIX}Ben Koch hat Sie in „Zwischennutzung“ erwähnt"
        )
        assert post_url(posts[0]) in links(first)
        assert post_url(posts[1]) not in first.body
        # The other two wait for the window's end, which is a task due then.
        window = EmailWindow.objects.get(recipient=member, thread=thread)
        assert window.sent_at is None
        assert window.due_at - window.opened_at == WINDOW
        (close,) = waiting(tasks.notification_window_close)
        assert close.run_after == window.due_at
        assert task_queue.run() == 0

        with clock(window.due_at + timedelta(seconds=1)):
            assert task_queue.run() >= 2  # the window closes, its mail is sent
        assert len(mail.outbox) == 2
        gathered = mail.outbox[1]
        assert gathered.subject == (
            f"{settings.EMAIL_SUBJECT_PREFIX}2 Neuigkeiten im Thema „Zwischennutzung“"
        )
        assert [url for url in links(gathered) if "beitrag=" in url] == [
            post_url(posts[1]),
            post_url(posts[2]),
        ]
        assert gathered.body.count("hat Sie in „Zwischennutzung“ erwähnt") == 2
        window.refresh_from_db()
        assert window.sent_at is not None

        # Running the window's task again sends nothing; the next event opens a new window.
        assert instant_mail_window_close(window.pk) == "done"
        later = window.due_at + timedelta(minutes=1)
        with clock(later):
            with committed():
                fourth = post_create(ben, thread=thread, body="@jonas-becker, noch etwas.")
            task_queue.run()
        assert len(mail.outbox) == 3 and post_url(fourth) in links(mail.outbox[2])
        assert EmailWindow.objects.filter(recipient=member, thread=thread).count() == 2

    def test_a_moderation_decision_is_mailed_at_once_despite_an_open_window(
        self, task_queue, committed, member, ben, cara, public, moderator
    ):
        thread = make_thread(cara, category=public, kind="discussion", title="Zwischennutzung")
        own = post_create(member, thread=thread, body="Mein Beitrag dazu.")
        with committed():
            post_create(ben, thread=thread, body="@jonas-becker, Frage?")
        task_queue.run()
        assert len(mail.outbox) == 1  # the mention opened a window for this thread
        from forum.services.moderation import post_hide

        with committed():
            post_hide(moderator, post=own, reason="Bitte ohne Telefonnummern.")
        task_queue.run()
        assert len(mail.outbox) == 2
        assert "Bitte ohne Telefonnummern." in mail.outbox[1].body
        assert "List-Unsubscribe" not in mail.outbox[1].extra_headers

    def test_events_in_two_threads_make_separate_mails(
        self, task_queue, committed, member, ben, cara, public
    ):
        one = make_thread(cara, category=public, kind="discussion", title="Leerstand im Zentrum")
        two = make_thread(cara, category=public, kind="discussion", title="Quartiersfonds")
        with committed():
            post_create(ben, thread=one, body="Was meinen Sie, @jonas-becker?")
            post_create(ben, thread=two, body="Und hier, @jonas-becker?")
        task_queue.run()
        subjects = sorted(m.subject for m in mail.outbox)
        assert len(subjects) == 2
        assert "„Leerstand im Zentrum“" in subjects[0] and "„Quartiersfonds“" in subjects[1]
        assert EmailWindow.objects.filter(recipient=member, sent_at__isnull=True).count() == 2

    def test_answers_to_a_question_reach_its_author_gathered_with_a_link_each(
        self, task_queue, committed, member, ben, cara, public
    ):
        question = make_thread(member, category=public, title="Wie fördern Sie Fassaden?")
        follow_set(cara, target=question, level=Level.WATCHING)
        with committed():
            answers = [
                post_create(ben, thread=question, body=f"Mit einem Programm, Teil {n}.")
                for n in (1, 2, 3)
            ]
        # The author gets answers, not replies, in one unread row; a watcher gets replies.
        (row,) = Notification.objects.filter(recipient=member)
        assert row.kind == Kind.ANSWER and row.count == 3
        assert set(Notification.objects.filter(recipient=cara).values_list("kind", flat=True)) == {
            Kind.REPLY
        }
        task_queue.run()
        (first,) = mail.outbox
        assert "Ben Koch hat Ihre Frage „Wie fördern Sie Fassaden?“ beantwortet" in first.subject
        with clock(timezone.now() + WINDOW + timedelta(seconds=1)):
            task_queue.run()
        gathered = mail.outbox[1]
        assert [url for url in links(gathered) if "beitrag=" in url] == [
            post_url(answers[1]),
            post_url(answers[2]),
        ]
        assert gathered.body.count("hat Ihre Frage „Wie fördern Sie Fassaden?“ beantwortet") == 2
        assert len(mail.outbox) == 2  # cara's replies stay on the site (default channel)

    def test_a_muted_question_tells_its_author_nothing(self, member, ben, public):
        question = make_thread(member, category=public, title="Stumm gestellt")
        follow_set(member, target=question, level=Level.MUTED)
        post_create(ben, thread=question, body="Eine Antwort, die niemand hört.")
        assert not Notification.objects.filter(recipient=member).exists()

    def test_what_was_read_on_the_site_meanwhile_is_not_mailed(
        self, task_queue, committed, member, ben, cara, public
    ):
        thread = make_thread(cara, category=public, kind="discussion", title="Schon gelesen")
        with committed():
            post_create(ben, thread=thread, body="@jonas-becker eins")
            post_create(ben, thread=thread, body="@jonas-becker zwei")
        task_queue.run()
        Notification.objects.filter(recipient=member).update(read_at=timezone.now())
        with clock(timezone.now() + WINDOW + timedelta(seconds=1)):
            task_queue.run()
        assert len(mail.outbox) == 1
        assert EmailWindow.objects.get(recipient=member).sent_at is not None

    def test_an_event_task_that_runs_twice_mails_once(
        self, task_queue, committed, member, ben, cara, public
    ):
        thread = make_thread(cara, category=public, kind="discussion", title="Zweimal gelaufen")
        with committed():
            post_create(ben, thread=thread, body="@jonas-becker hallo")
        (event,) = waiting(tasks.notification_mail)
        task_queue.run()
        notification = Notification.objects.get(recipient=member)
        with committed():
            assert instant_mail_event(notification.pk) == "gathered"
        with clock(timezone.now() + WINDOW + timedelta(seconds=1)):
            task_queue.run()
            with committed():
                assert instant_mail_event(notification.pk) == "nothing"
            task_queue.run()
        assert len(mail.outbox) == 1
        assert event.args_kwargs["args"] == [notification.pk]  # ids only, no objects

    def test_unsubscribe_headers_on_notifications_only(
        self, task_queue, committed, member, ben, cara, mfa_moderator, public
    ):
        thread = make_thread(cara, category=public, kind="discussion", title="Kopfzeilen")
        mine = make_thread(member, category=public, kind="discussion", title="Mein Thema")
        with committed():
            post_create(ben, thread=thread, body="@jonas-becker bitte ansehen")
            post_hide(mfa_moderator, post=mine.posts.get(number=1), reason="Werbung")
            send_email_on_commit("membership_rejected", [cara.email], {"user": cara, "reason": "x"})
        task_queue.run()
        by_subject = {m.subject: m for m in mail.outbox}
        assert len(by_subject) == 3
        mention = next(m for s, m in by_subject.items() if "erwähnt" in s)
        moderation = next(m for s, m in by_subject.items() if "Moderation" in s)
        rejected = next(m for m in mail.outbox if m.to == [cara.email])
        url = mention.extra_headers["List-Unsubscribe"].strip("<>")
        assert url.startswith(f"{settings.SITE_URL}/mail/abmelden/")
        assert mention.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert url in mention.body  # also as a visible link
        for transactional in (moderation, rejected):
            assert "List-Unsubscribe" not in transactional.extra_headers
            assert "List-Unsubscribe-Post" not in transactional.extra_headers


# --- A real SMTP server -----------------------------------------------------------------------


@pytest.mark.django_db
def test_mails_through_a_real_smtp_server(
    smtp_server, task_queue, committed, client, member, ben, cara, mfa_moderator, public
):
    thread = make_thread(cara, category=public, kind="discussion", title="Grün & Blau")
    mine = make_thread(member, category=public, kind="discussion", title="Mein Thema")
    with committed():
        mention = post_create(ben, thread=thread, body="Was sagen Sie, @jonas-becker?")
        post_hide(mfa_moderator, post=mine.posts.get(number=1), reason="Werbung")
    task_queue.run()

    assert len(smtp_server.messages) == 2
    by_kind = {("erwähnt" in m["Subject"]): m for m in smtp_server.messages}
    message, decision = by_kind[True], by_kind[False]
    assert message.envelope_to == [member.email]
    assert message["Subject"].strip() == (
        f"{settings.EMAIL_SUBJECT_PREFIX}Ben Koch hat Sie in „Grün & Blau“ erwähnt"
    )
    plain = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "Guten Tag Jonas Becker," in plain and "Guten Tag Jonas Becker," in html
    assert "Grün & Blau" in plain and "Grün &amp; Blau" in html
    assert '<html lang="de"' in html and "<img" not in html
    assert message["Message-ID"]

    unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
    assert unsubscribe.startswith(f"{settings.SITE_URL}/mail/abmelden/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert decision["List-Unsubscribe"] is None and decision["List-Unsubscribe-Post"] is None
    assert "Moderation" in decision["Subject"] and "Werbung" in decision["Subject"]

    hrefs = set(re.findall(r'href="([^"]+)"', html))
    assert f"{settings.SITE_URL}/t/{thread.pk}/?beitrag={mention.number}" in hrefs
    assert hrefs == {u for u in hrefs if u.startswith(settings.SITE_URL)}
    assert set(re.findall(r"https?://\S+", plain)) <= hrefs | {settings.SITE_URL}
    client.force_login(member)
    for href in hrefs:
        parts = urlsplit(href)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        assert client.get(path).status_code in (200, 301, 302), href
    response = client.get(f"/t/{thread.pk}/?beitrag={mention.number}")
    assert response.url.endswith(f"#post-{mention.number}")

    # The one-click POST a mail client sends (no session, no CSRF token) stops mention mails.
    mail_client = Client(enforce_csrf_checks=True)
    response = mail_client.post(urlsplit(unsubscribe).path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert member.notification_preferences.get(kind=Kind.MENTION).channel == "site"


# --- SMTP failures ----------------------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again: connecting is refused


class RefusingBackend(BaseEmailBackend):
    """Every recipient refused, with the code in ``code``."""

    code = 550

    def send_messages(self, messages):
        raise smtplib.SMTPRecipientsRefused(
            {to: (self.code, b"no such mailbox") for m in messages for to in m.to}
        )


class GreylistingBackend(RefusingBackend):
    code = 450


def _message() -> dict:
    return compose("membership_rejected", ["anna@bochum.de"], {"user": None, "reason": "x"})


@pytest.mark.django_db
class TestRetries:
    def test_an_unreachable_server_is_retried_with_back_off_then_given_up(
        self, task_queue, settings, caplog
    ):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", _closed_port()
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        tasks.send_email.enqueue(_message())
        now = timezone.now()
        delays = []
        with caplog.at_level(logging.WARNING, logger="forum.tasks"):
            for attempt in range(1, 6):
                with clock(now):
                    assert task_queue.run() == 1
                done = DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL)
                assert done.latest("finished_at").return_value in ("retry", "gave up")
                following = waiting(tasks.send_email)
                if attempt < 5:
                    (retry,) = following
                    assert retry.args_kwargs["args"][1] == attempt + 1
                    delays.append(retry.run_after - now)
                    now = retry.run_after
                    with clock(now - timedelta(seconds=1)):
                        assert task_queue.run() == 0  # not before its time
                else:
                    assert following == []
        assert delays == [timedelta(minutes=m) for m in (1, 5, 25, 125)]
        assert "nach 5 Versuchen aufgegeben" in caplog.text
        assert mail.outbox == []

    def test_a_permanent_refusal_is_not_retried(self, task_queue, settings, caplog):
        settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
        tasks.send_email.enqueue(_message())
        with caplog.at_level(logging.ERROR, logger="forum.tasks"):
            task_queue.run()
        assert waiting(tasks.send_email) == []
        assert DBTaskResult.objects.get().return_value == "refused"
        assert "kein neuer Versuch" in caplog.text

    def test_a_temporary_refusal_is_retried_and_then_delivered(self, task_queue, settings):
        settings.EMAIL_BACKEND = f"{__name__}.GreylistingBackend"
        tasks.send_email.enqueue(_message())
        task_queue.run()
        (retry,) = waiting(tasks.send_email)
        assert retry.run_after > timezone.now()
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        with clock(retry.run_after + timedelta(seconds=1)):
            task_queue.run()
        assert [m.to for m in mail.outbox] == [["anna@bochum.de"]]
        assert not DBTaskResult.objects.filter(status=TaskResultStatus.FAILED).exists()


# --- The reaper -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reaper_requeues_tasks_of_dead_workers_and_leaves_running_ones(task_queue):
    stale = tasks.send_email.enqueue(_message())
    recent = tasks.send_email.enqueue(_message())
    now = timezone.now()
    for result, started in ((stale, now - timedelta(minutes=45)), (recent, now)):
        row = DBTaskResult.objects.get(pk=result.id)
        row.claim("dead-worker")  # as the worker claims it, before it died
        DBTaskResult.objects.filter(pk=row.pk).update(started_at=started)

    out = _reap("--older-than", "30")
    assert out == (
        "1 hängende Aufgabe wieder eingereiht (länger als 30 Minuten gelaufen): "
        "forum.tasks.send_email ×1"
    )
    stale_row, recent_row = (DBTaskResult.objects.get(pk=r.id) for r in (stale, recent))
    assert stale_row.status == TaskResultStatus.READY and stale_row.started_at is None
    assert recent_row.status == TaskResultStatus.RUNNING
    assert _reap("--older-than", "30") == "Keine hängenden Aufgaben (älter als 30 Minuten)."

    # Another worker picks it up; it counts as the second attempt.
    assert task_queue.run() == 1
    stale_row.refresh_from_db()
    assert stale_row.status == TaskResultStatus.SUCCESSFUL
    assert stale_row.worker_ids == ["dead-worker", task_queue.worker_id]
    assert len(mail.outbox) == 1


def _reap(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("tasks_reap", *args, stdout=out)
    return out.getvalue().strip()


# --- Two workers at once (PostgreSQL) ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="concurrent workers need PostgreSQL's row locks (SQLite serialises writers anyway)",
)
def test_two_workers_never_send_the_same_window_twice(network, public):
    member = make_member(email="jonas.becker@bochum.de", handle="jonas-becker")
    ben = make_member(email="ben.koch@bochum.de", handle="ben-koch")
    cara = make_member(email="cara.lang@bochum.de", handle="cara-lang")
    thread = make_thread(cara, category=public, kind="discussion", title="Gleichzeitig")
    # The tests' tasks run when enqueued: the posts' event tasks run here, one after the other.
    for n in range(3):
        post_create(ben, thread=thread, body=f"@jonas-becker Nummer {n}")
    assert len(mail.outbox) == 1
    window = EmailWindow.objects.get(recipient=member, thread=thread)
    events = list(Notification.objects.filter(recipient=member).values_list("pk", flat=True))
    EmailWindow.objects.filter(pk=window.pk).update(due_at=timezone.now())

    # Whoever gets to write the mail lingers there, so that the others arrive meanwhile.
    compose_mail = notifications._compose_mail

    def slow_compose_mail(*args, **kwargs):
        time.sleep(0.3)
        return compose_mail(*args, **kwargs)

    with mock.patch.object(notifications, "_compose_mail", slow_compose_mail):
        outcomes = _at_once(
            lambda: instant_mail_window_close(window.pk),
            lambda: instant_mail_window_close(window.pk),
            lambda: instant_mail_event(events[0]),
            lambda: instant_mail_event(events[1]),
        )
    assert outcomes.count("sent") == 1, outcomes
    assert len(mail.outbox) == 2
    assert mail.outbox[1].body.count("erwähnt") == 2
    assert EmailWindow.objects.filter(recipient=member, sent_at__isnull=True).count() <= 1


def _at_once(*calls) -> list[str]:
    barrier = threading.Barrier(len(calls))
    outcomes: list[str] = []
    errors: list[BaseException] = []

    def run(call) -> None:
        try:
            barrier.wait()
            outcomes.append(call())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return outcomes
