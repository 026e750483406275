"""E-mail digests: subscribing, the schedule, content per reader, idempotent sending through a
real SMTP server, one-click unsubscribe, double opt-in and signed links."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.core import mail, signing
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum import mailtokens
from forum.models import (
    Category,
    DigestDelivery,
    DigestSubscription,
    Kind,
    Level,
    NotificationPreference,
    Section,
)
from forum.services import digests
from forum.services.following import follow_set
from forum.services.posts import post_create
from forum.services.suspension import member_suspend
from forum.services.threads import answer_accept
from tests.factories import CategoryFactory, make_member, make_thread

BERLIN = digests.BERLIN


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC, slug="oeffentlich")


@pytest.fixture
def internal(db):
    return CategoryFactory(visibility=Category.Visibility.MEMBERS, slug="intern")


@pytest.fixture
def ben(network):
    return make_member(email="ben.koch@bochum.de", handle="ben-koch")


def subscribe_member(user, **extra):
    values = {
        "frequency": "daily",
        "hour": 7,
        "sections": list(Section.values),
        "topics": DigestSubscription.Topics.ALL,
        **extra,
    }
    return digests.subscription_save(user, **values)


def confirmed_public(email="leserin@example.org"):
    subscription = digests.public_subscribe(email)
    return digests.public_confirm(subscription)


def last_seven():
    """The daily 7 o'clock slot the tests' subscriptions (hour=7) fell due at last."""
    return digests.last_slot(DigestSubscription(frequency="daily", hour=7), timezone.now())


def make_due(*subscriptions, since=timedelta(days=1)):
    """Open each window ``since`` before the last 7 o'clock slot and make it due now."""
    DigestSubscription.objects.filter(pk__in=[s.pk for s in subscriptions]).update(
        frequency="daily",
        hour=7,
        window_start=last_seven() - since,
        next_due_at=timezone.now() - timedelta(minutes=1),
    )


def backdate(thread, *, hours=2):
    """Move a thread (and its posts) into the window that ends at the last 7 o'clock slot."""
    moment = last_seven() - timedelta(hours=hours)
    type(thread).objects.filter(pk=thread.pk).update(created_at=moment, last_activity_at=moment)
    thread.posts.update(created_at=moment)


def run_send(**kwargs):
    digests.digests_claim()
    return digests.digests_send(digests.pending_delivery_ids(), **kwargs)


@pytest.mark.django_db
class TestSchedule:
    def test_daily_and_weekly_slots_in_berlin_time_across_the_dst_change(self, member):
        daily = DigestSubscription(user=member, frequency="daily", hour=7)
        after = datetime(2026, 10, 24, 8, 0, tzinfo=BERLIN)  # the night before DST ends
        assert digests.next_slot(daily, after) == datetime(2026, 10, 25, 7, tzinfo=BERLIN)
        assert digests.next_slot(daily, after).utcoffset() == timedelta(hours=1)
        weekly = DigestSubscription(user=member, frequency="weekly", weekday=0, hour=7)
        wednesday = datetime(2026, 11, 25, 12, 0, tzinfo=BERLIN)
        assert digests.next_slot(weekly, wednesday) == datetime(2026, 11, 30, 7, tzinfo=BERLIN)
        assert digests.last_slot(weekly, wednesday) == datetime(2026, 11, 23, 7, tzinfo=BERLIN)

    def test_a_window_missed_while_nothing_ran_is_sent_once_late_covering_all_of_it(
        self, member, public
    ):
        subscription = subscribe_member(member)
        make_due(subscription, since=timedelta(days=4))
        result = digests.digests_claim()
        assert result.claimed == 1
        delivery = DigestDelivery.objects.get()
        assert delivery.window_end - delivery.window_start > timedelta(days=3)
        assert digests.digests_claim().claimed == 0  # nothing left for a second run
        subscription.refresh_from_db()
        assert subscription.window_start == delivery.window_end
        assert subscription.next_due_at > timezone.now()


@pytest.mark.django_db
class TestSubscribing:
    def test_the_member_form_is_opt_in_and_saves(self, client, member):
        client.force_login(member)
        page = client.get("/digest/").content.decode()
        assert "checked" not in re.sub(r'name="topics"[^>]*checked', "", page.split("Rubriken")[1])
        response = client.post(
            "/digest/",
            {"frequency": "weekly", "weekday": "4", "hour": "16", "topics": "followed"},
        )
        assert response.status_code == 400
        assert "Bitte wählen Sie mindestens eine Rubrik." in response.content.decode()
        assert 'value="16" selected' in response.content.decode()  # nothing typed is lost
        response = client.post(
            "/digest/",
            {
                "frequency": "weekly",
                "weekday": "4",
                "hour": "16",
                "sections": ["questions", "help"],
                "topics": "followed",
            },
        )
        assert response.status_code == 302
        subscription = DigestSubscription.objects.get(user=member)
        assert subscription.sections == ["questions", "help"]
        local = subscription.next_due_at.astimezone(BERLIN)
        assert (local.weekday(), local.hour) == (4, 16)

    def test_double_opt_in_for_a_bare_address(self, client, db, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/digest/", {"email": "Leserin@Example.org"})
        assert response.status_code == 200 and "Bitte bestätigen" in response.content.decode()
        subscription = DigestSubscription.objects.get()
        assert subscription.confirmed_at is None and subscription.email == "leserin@example.org"
        (message,) = mail.outbox
        link = re.search(r"https?://\S+/digest/bestaetigen/\S+/", message.body).group(0)
        path = urlparse(link).path
        # A GET (a mail gateway's link scanner) does not confirm; the button does.
        assert "Ja, Digest bestätigen" in client.get(path).content.decode()
        subscription.refresh_from_db()
        assert subscription.confirmed_at is None
        assert client.post(path).status_code == 200
        subscription.refresh_from_db()
        assert subscription.confirmed_at is not None and subscription.next_due_at

    def test_an_unconfirmed_address_gets_no_digest(self, public, member):
        digests.public_subscribe("leserin@example.org")
        thread = make_thread(member, category=public, title="Eine öffentliche Frage hier")
        backdate(thread)
        DigestSubscription.objects.update(
            window_start=timezone.now() - timedelta(days=1), next_due_at=timezone.now()
        )
        assert digests.digests_claim().claimed == 0

    def test_expired_and_tampered_links_get_a_clear_message(self, client, member):
        subscription = subscribe_member(member)
        token = mailtokens.digest_token(subscription, "questions")
        response = client.get(f"/digest/abmelden/{token[:-2]}xx/")
        assert response.status_code == 400 and "Link ungültig" in response.content.decode()
        old = signing.TimestampSigner(salt=mailtokens.SALT)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                signing.TimestampSigner,
                "timestamp",
                lambda self: signing.b62_encode(int(timezone.now().timestamp()) - 200 * 86400),
            )
            expired = mailtokens.digest_token(subscription, "questions")
        assert old  # the signer is Django's, with our salt
        response = client.get(f"/digest/abmelden/{expired}/")
        assert response.status_code == 400 and "Link abgelaufen" in response.content.decode()

    def test_one_click_unsubscribe_is_a_bare_post(self, member):
        subscription = subscribe_member(member)
        csrf_client = Client(enforce_csrf_checks=True)
        url = urlparse(mailtokens.digest_unsubscribe_url(subscription, "questions")).path
        response = csrf_client.post(url, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        subscription.refresh_from_db()
        assert "questions" not in subscription.sections and "help" in subscription.sections
        url = urlparse(mailtokens.digest_unsubscribe_url(subscription)).path
        csrf_client.post(url, {"List-Unsubscribe": "One-Click"})
        assert not DigestSubscription.objects.exists()

    def test_one_click_unsubscribe_from_a_kind_of_notification_mail(self, member):
        url = urlparse(mailtokens.notify_unsubscribe_url(member, Kind.MENTION)).path
        page = Client().get(url).content.decode()
        assert "Erwähnungen" in page and 'type="checkbox"' in page
        response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
        assert response.status_code == 200
        preference = NotificationPreference.objects.get(user=member, kind=Kind.MENTION)
        assert preference.channel == "site"


@pytest.mark.django_db
class TestContent:
    def test_public_digest_shows_only_public_content_grouped_once(
        self, member, ben, public, internal
    ):
        open_question = make_thread(
            member, category=public, title="Öffentliche Frage zum Leerstand"
        )
        secret = make_thread(member, category=internal, title="Interne Frage nur für Mitglieder")
        solved = make_thread(ben, category=public, title="Frage, die heute gelöst wurde")
        answer = post_create(member, thread=solved, body="So geht es.")
        answer_accept(ben, post=answer)
        for thread in (open_question, secret, solved):
            backdate(thread)
        type(solved).objects.filter(pk=solved.pk).update(
            solved_at=last_seven() - timedelta(hours=1)
        )
        reader = confirmed_public()
        colleague = subscribe_member(ben)
        make_due(reader, colleague)
        digests.digests_claim()
        built = {
            d.subscription_id: digest
            for d, digest in digests.build_digests(
                list(DigestDelivery.objects.select_related("subscription__user"))
            )
        }
        public_titles = [i.thread.title for b in built[reader.pk].blocks for i in b.items]
        assert "Interne Frage nur für Mitglieder" not in public_titles
        assert public_titles.count("Frage, die heute gelöst wurde") == 1  # new and solved: once
        member_titles = [i.thread.title for b in built[colleague.pk].blocks for i in b.items]
        assert "Interne Frage nur für Mitglieder" in member_titles

    def test_hidden_after_writing_and_suspended_readers(self, member, ben, public, moderator):
        thread = make_thread(member, category=public, title="Eine Frage, die verschwindet")
        backdate(thread)
        from forum.services.moderation import thread_moderate  # noqa: F401 (documents intent)

        type(thread).objects.filter(pk=thread.pk).update(is_hidden=True)
        colleague = subscribe_member(ben)
        other = make_member(email="cara.lang@bochum.de", handle="cara-lang")
        suspended = subscribe_member(other)
        member_suspend(moderator, member=other, until=None, reason="Wiederholt beleidigend.")
        make_due(colleague, suspended)
        result = digests.digests_claim()
        assert (result.claimed, result.skipped) == (1, 1)
        sent = digests.digests_send(digests.pending_delivery_ids())
        assert (sent.sent, sent.empty) == (0, 1)  # the only thread is hidden: nothing sent
        assert mail.outbox == []

    def test_followed_threads_and_help_questions(self, member, ben, public):
        mine = make_thread(ben, category=public, title="Meine eigene Frage zur Förderung")
        backdate(mine, hours=30)
        reply = post_create(member, thread=mine, body="Eine Antwort darauf.")
        moment = last_seven() - timedelta(hours=1)
        type(reply).objects.filter(pk=reply.pk).update(created_at=moment)
        type(mine).objects.filter(pk=mine.pk).update(last_activity_at=moment)
        help_me = make_thread(member, category=public, title="Wer kennt sich mit Gutachten aus?")
        help_me.tags.add("Gutachten")
        backdate(help_me)
        ben.expertise.add("Gutachten")
        subscription = subscribe_member(ben, topics=DigestSubscription.Topics.FOLLOWED)
        follow_set(ben, target=mine, level=Level.WATCHING)
        make_due(subscription)
        digests.digests_claim()
        ((_, digest),) = digests.build_digests(
            list(DigestDelivery.objects.select_related("subscription__user"))
        )
        by_section = {b.section: [i.thread.title for i in b.items] for b in digest.blocks}
        assert by_section[Section.FOLLOWED] == ["Meine eigene Frage zur Förderung"]
        assert by_section[Section.HELP] == ["Wer kennt sich mit Gutachten aus?"]

    def test_building_takes_the_same_queries_for_5_and_for_40_subscribers(self, network, public):
        for n in range(3):
            author = make_member(email=f"autor{n}@bochum.de", handle=f"autor-{n}")
            backdate(make_thread(author, category=public, title=f"Frage Nummer {n} zum Thema"))

        def measure(count: int, offset: int) -> int:
            subs = []
            for n in range(count):
                user = make_member(
                    email=f"leser{offset + n}@bochum.de", handle=f"leser-{offset + n}"
                )
                user.expertise.add("Leerstand")
                subs.append(subscribe_member(user))
            make_due(*subs)
            digests.digests_claim()
            deliveries = list(
                DigestDelivery.objects.filter(subscription__in=subs).select_related(
                    "subscription__user__organisation"
                )
            )
            with CaptureQueriesContext(connection) as queries:
                digests.build_digests(deliveries)
            return len(queries)

        assert measure(5, 0) == measure(40, 100)


@pytest.mark.django_db
class TestSending:
    def test_real_smtp_both_parts_headers_links_german_no_thread_twice(
        self, smtp_server, client, member, ben, public
    ):
        thread = make_thread(member, category=public, title="Zwischennutzung leerer Läden")
        backdate(thread)
        reader = confirmed_public()
        colleague = subscribe_member(ben)
        make_due(reader, colleague)
        smtp_server.messages.clear()  # the confirmation mail
        result = run_send()
        assert result.sent == 2
        assert len(smtp_server.messages) == 2
        for message in smtp_server.messages:
            assert message["Subject"].startswith(settings.EMAIL_SUBJECT_PREFIX + "Ihr Tages-Digest")
            assert "1 Frage" in message["Subject"]
            plain = message.get_body(preferencelist=("plain",)).get_content()
            html = message.get_body(preferencelist=("html",)).get_content()
            assert "Zwischennutzung leerer Läden" in plain and "Neue Fragen" in html
            assert plain.count("Zwischennutzung leerer Läden") == 1
            assert '<html lang="de"' in html and "<img" not in html
            unsubscribe = message["List-Unsubscribe"].strip().strip("<>")
            assert unsubscribe.startswith(settings.SITE_URL + "/digest/abmelden/")
            assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
            links = set(re.findall(r'href="([^"]+)"', html))
            assert links and all(link.startswith(settings.SITE_URL) for link in links)
            for link in links:
                assert client.get(urlparse(link).path).status_code in (200, 301, 302)
        assert DigestDelivery.objects.filter(status=DigestDelivery.Status.SENT).count() == 2
        assert run_send().sent == 0  # a second run sends nothing

    def test_a_run_that_dies_half_way_is_completed_by_the_rerun(self, member, public, network):
        backdate(make_thread(member, category=public, title="Eine Frage für alle Leser"))
        subs = [
            subscribe_member(make_member(email=f"p{n}@bochum.de", handle=f"person-{n}"))
            for n in range(6)
        ]
        make_due(*subs)
        digests.digests_claim()

        class Crash(BaseException):
            pass

        class DyingBackend(mail.backends.locmem.EmailBackend):
            def send_messages(self, messages):
                if len(mail.outbox) >= 3:
                    raise Crash  # the process dies (no exception handler of ours runs)
                return super().send_messages(messages)

        with pytest.raises(Crash):
            digests.digests_send(digests.pending_delivery_ids(), connection=DyingBackend())
        assert len(mail.outbox) == 3
        assert DigestDelivery.objects.filter(status=DigestDelivery.Status.SENT).count() == 3
        digests.digests_send(digests.pending_delivery_ids())
        recipients = sorted(m.to[0] for m in mail.outbox)
        assert recipients == sorted(s.user.email for s in subs)  # each exactly once

    def test_the_command_enqueues_batches_or_sends_directly(self, member, public):
        from django.core.management import call_command

        backdate(make_thread(member, category=public, title="Eine Frage für den Befehl"))
        make_due(confirmed_public())
        mail.outbox.clear()
        call_command("send_digests", "--direkt", stdout=open("/dev/null", "w"))  # noqa: SIM115
        assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="concurrent runs need PostgreSQL's row locks (SQLite serialises writers anyway)",
)
def test_two_concurrent_runs_send_each_digest_exactly_once(network, public):
    author = make_member(email="autorin@bochum.de", handle="autorin")
    backdate(make_thread(author, category=public, title="Eine Frage für parallele Läufe"))
    subs = [
        subscribe_member(make_member(email=f"q{n}@bochum.de", handle=f"leser-{n}"))
        for n in range(40)
    ]
    make_due(*subs)
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait()
            run_send()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=run) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors
    recipients = [m.to[0] for m in mail.outbox]
    assert sorted(recipients) == sorted(s.user.email for s in subs)
    assert DigestDelivery.objects.count() == 40


@pytest.mark.django_db
def test_pause_while_on_leave_stops_optional_mail_but_not_decisions(
    member, ben, public, moderator, django_capture_on_commit_callbacks
):
    subscribe_member(ben, paused_until=timezone.localdate() + timedelta(days=10))
    thread = make_thread(member, category=public, title="Eine Frage an Ben hier")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        post = post_create(member, thread=thread, body="@ben-koch, was meinen Sie?")
    assert not [m for m in mail.outbox if ben.email in m.to]
    own = post_create(ben, thread=thread, body="Ein Beitrag von Ben.")
    from forum.services.moderation import post_hide

    with django_capture_on_commit_callbacks(execute=True):
        post_hide(moderator, post=own, reason="Bitte sachlich bleiben.")
    assert [m for m in mail.outbox if ben.email in m.to]  # a decision about him still goes
    assert post.pk
