"""Account erasure: the posts stay as "ehemaliges Mitglied", the person is gone from the data."""

from __future__ import annotations

import json
import zipfile

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from taggit.models import Tag

from accounts import privacy
from accounts.erasure import ErasureRefused, erase_account
from accounts.models import Invitation, Organisation, User
from forum import emails
from forum.models import (
    AuditEntry,
    Category,
    Channel,
    DigestSubscription,
    Kind,
    Level,
    Notification,
    Post,
    Report,
    Section,
    ThreadFollow,
)
from forum.services.digests import public_subscribe, subscription_save
from forum.services.following import follow_set
from forum.services.moderation import report_create
from forum.services.notifications import preferences_set
from forum.services.posts import NewAttachment, post_create, post_edit, reaction_toggle
from forum.services.suspension import member_suspend, member_unsuspend
from forum.services.threads import answer_accept
from tests.factories import PASSWORD, CategoryFactory, make_member, make_moderator, make_thread

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EMAIL = "jonas.becker@bochum.de"
HANDLE = "jonas-becker"
NAME = "Jonas Becker"
URL = "/accounts/profile/loeschen/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def category(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def other(network):
    return make_member(email="greta.other@bochum.de", handle="greta-other")


def occurrences(*terms: str) -> dict[str, list[str]]:
    """Every ``table.column`` of the database whose text holds one of the terms.

    Generic on purpose: every table the introspection finds (sessions, the task queue, the
    audit log, FTS tables, third-party apps), every column, cast to text; so a new table that
    keeps the address fails this test without anyone remembering to add it here.
    """
    found: dict[str, list[str]] = {}
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                for term in terms:
                    forms = {term.lower(), json.dumps(term)[1:-1].lower()}
                    for form in forms:
                        cursor.execute(
                            f"SELECT COUNT(*) FROM {quote(table)} "
                            f"WHERE LOWER(CAST({quote(column.name)} AS TEXT)) LIKE %s",
                            [f"%{form}%"],
                        )
                        if cursor.fetchone()[0]:
                            found.setdefault(term, []).append(f"{table}.{column.name}")
    return found


def test_the_scan_finds_what_it_looks_for(member):
    # The generic scan must be able to fail: before erasure it finds the person everywhere.
    found = occurrences(EMAIL, HANDLE)
    assert "accounts_user.email" in found[EMAIL]
    assert "account_emailaddress.email" in found[EMAIL]
    assert "accounts_user.handle" in found[HANDLE]


@pytest.mark.django_db(transaction=False)
def test_acceptance_export_then_erase_keeps_the_threads_and_removes_the_person(
    client, member, other, moderator, category, django_capture_on_commit_callbacks, settings
):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "email"]}
    }
    member.display_name = NAME
    member.save(update_fields=["display_name"])
    # The member's content and settings.
    question = make_thread(
        member,
        category=category,
        title="Zwischennutzung von Ladenlokalen",
        body=f"Wie machen Sie das? Antworten gern an {EMAIL}.",
        tags=["Leerstand"],
    )
    first = question.posts.get(number=1)
    post_edit(member, post=first, body=f"Wie machen Sie das? Kontakt: {EMAIL.upper()}")
    with_file = post_create(
        member,
        thread=question,
        body="Unsere Vorlage im Anhang.",
        attachment=NewAttachment(SimpleUploadedFile("Vorlage.pdf", PDF)),
    )
    # Others answer, quote and mention them; one answer is accepted.
    answer = post_create(other, thread=question, body=f"@{HANDLE} Wir vermieten befristet.")
    post_create(other, thread=question, body=f"@{HANDLE} schrieb in #2:\n> Vorlage\n\nDanke!")
    answer_accept(member, post=answer)
    theirs = make_thread(other, category=category, title="Fremdes Thema", body="Text")
    reaction_toggle(member, post=theirs.posts.get(number=1))
    follow_set(member, target=theirs, level=Level.WATCHING)
    follow_set(member, target=Tag.objects.get(name="Leerstand"), level=Level.WATCHING)
    follow_set(member, target=category, level=Level.WATCHING)
    preferences_set(member, channels={Kind.MENTION: Channel.OFF})
    subscription_save(member, frequency=DigestSubscription.Frequency.DAILY, sections=["questions"])
    public_subscribe(EMAIL, sections=[Section.QUESTIONS])
    member.job_title = "Stadtplanung"
    member.bio = "Seit 2019 im Quartiersmanagement."
    member.work_phone = "0234 123456"
    member.save()
    member.expertise.add("Quartiersmanagement")
    report_create(member, post=theirs.posts.get(number=1), reason="other", text=f"Bitte an {EMAIL}")
    # The moderation log names them (target) …
    member_suspend(moderator, member=member, until=None, reason=f"Test für {NAME}")
    member_unsuspend(moderator, member=member, reason=f"@{HANDLE} darf wieder")
    # … and a mail to them waits in the task queue.
    with django_capture_on_commit_callbacks(execute=True):
        emails.send_email_on_commit("membership_approved", [EMAIL], {"user": member})
    assert DBTaskResult.objects.filter(args_kwargs__icontains=EMAIL).exists()
    Invitation.objects.create(
        email=EMAIL.upper(),
        organisation=Organisation.objects.get(slug="innovationsagentur"),
        token="t" * 40,
        expires_at=timezone.now() + timezone.timedelta(days=3),
    )
    client.force_login(member)
    assert Session.objects.count() == 1

    # The export holds it all (the export's own tests check its form in detail).
    with privacy.export_build(member) as archive_file:
        data = json.loads(zipfile.ZipFile(archive_file).read("daten.json"))
    assert {p["id"] for p in data["beitraege"]} == {first.pk, with_file.pk}
    assert data["anhaenge"][0]["dateiname"] == "Vorlage.pdf"
    assert [r["thema_titel"] for r in data["hilfreich_markiert"]] == ["Fremdes Thema"]
    assert {f["titel"] for f in data["folgen"]["themen"]} >= {"Fremdes Thema"}
    assert [f["schlagwort"] for f in data["folgen"]["schlagwoerter"]] == ["Leerstand"]
    assert data["email_zusammenfassung"]["haeufigkeit"] == "daily"
    assert data["benachrichtigungseinstellungen"]["selbst_gewaehlt"] == {"mention": "off"}

    make_thread(member, category=category, title="Ein Thema nur von Jonas", body="Allein.")
    # Pages seen before the erasure fill the fragment cache; none may be served afterwards.
    before = Client().get(question.get_absolute_url()).content.decode()
    assert NAME in before and f"@{HANDLE}" in before
    assert NAME in Client().get(reverse("forum:home")).content.decode()

    pseudonym = member.pseudonym
    with django_capture_on_commit_callbacks(execute=True):
        erased = erase_account(member, actor=member, reason="Selbst gelöscht")

    # Nothing of them is left in any table, however it got there.
    assert occurrences(EMAIL, NAME, HANDLE) == {}
    assert erased.is_active is False and not erased.has_usable_password()
    assert erased.pseudonym == pseudonym and erased.erased_at is not None
    assert not Session.objects.exists()
    assert not EmailAddress.objects.filter(user=erased).exists()
    assert not ThreadFollow.objects.filter(user=erased).exists()
    assert not DigestSubscription.objects.exists()
    assert not Notification.objects.filter(recipient=erased).exists()
    assert not erased.expertise.exists()

    # The thread reads coherently: every post still there, the answer still accepted.
    question.refresh_from_db()
    assert question.accepted_post_id == answer.pk
    assert list(question.posts.order_by("number").values_list("author_id", flat=True)) == [
        erased.pk,
        erased.pk,
        other.pk,
        other.pk,
    ]
    assert Post.objects.get(pk=with_file.pk).attachments.count() == 1
    assert first.revisions.count() == 1
    assert Report.objects.filter(reporter=erased).get().text == "Bitte an [gelöscht]"

    reader = client
    reader.logout()
    page = reader.get(question.get_absolute_url()).content.decode()
    assert "ehemaliges Mitglied" in page and "Wir vermieten befristet." in page
    assert "ehemaliges Mitglied schrieb in #2:" in page
    assert NAME not in page and HANDLE not in page and EMAIL not in page.lower()
    feed = reader.get(reverse("forum:feed_thread", args=[question.pk])).content.decode()
    assert "ehemaliges Mitglied" in feed and NAME not in feed
    assert NAME not in reader.get(reverse("forum:home")).content.decode()
    latest = reader.get(reverse("forum:feed_latest")).content.decode()
    assert NAME not in latest and "Zwischennutzung" in latest
    found = reader.get(reverse("forum:search"), {"q": "Zwischennutzung"}).content.decode()
    assert "Zwischennutzung" in found and NAME not in found
    assert reader.get(f"/u/{HANDLE}/").status_code == 404

    # The audit log: their name redacted everywhere, the erasure recorded under the pseudonym.
    erased_entry = AuditEntry.objects.get(action="member.erased")
    assert erased_entry.actor_id == erased.pk and erased_entry.actor_ref == pseudonym
    assert erased_entry.actor_label == f"ehemaliges Mitglied ({pseudonym})"
    suspended = AuditEntry.objects.get(action="member.suspended")
    assert suspended.actor_label.startswith("Mona Moderatorin")  # the moderator stays named
    assert suspended.target_label == f"ehemaliges Mitglied ({pseudonym})"
    assert suspended.reason == "Test für [gelöscht]"
    assert AuditEntry.objects.get(action="member.unsuspended").reason == "@[gelöscht] darf wieder"


@pytest.mark.django_db
def test_entries_they_made_are_relabelled_with_the_pseudonym(network, category):
    moderator = make_moderator()
    make_moderator(email="zweite@agentur.example.org", handle="zweite")
    member = make_member()
    member_suspend(moderator, member=member, until=None, reason="Grund")
    entry = AuditEntry.objects.get(action="member.suspended")
    assert "Mona Moderatorin" in entry.actor_label

    erase_account(moderator, actor=moderator)

    entry.refresh_from_db()
    assert entry.actor_label == f"ehemaliges Mitglied ({moderator.pseudonym})"
    assert entry.actor_ref == moderator.pseudonym
    assert entry.target_label != "[gelöscht]" and "Anna Schmidt" in entry.target_label


@pytest.mark.django_db
def test_the_last_moderator_may_not_go(network):
    moderator = make_moderator()
    with pytest.raises(ErasureRefused, match="letzte Person mit Moderationsrechten"):
        erase_account(moderator, actor=moderator)
    moderator.refresh_from_db()
    assert moderator.erased_at is None and moderator.is_active


@pytest.mark.django_db
def test_the_last_operator_may_not_go(network):
    operator = make_member()
    operator.is_staff = True
    operator.save()
    with pytest.raises(ErasureRefused, match="Betrieb"):
        erase_account(operator, actor=operator)
    User.objects.create_user(email="ops@agentur.example.org", handle="ops", is_staff=True)
    erase_account(operator, actor=operator)


@pytest.mark.django_db
def test_nobody_else_but_an_operator_may_erase_an_account(network, other):
    member = make_member()
    with pytest.raises(ErasureRefused):
        erase_account(member, actor=other)
    operator = User.objects.create_user(
        email="ops@agentur.example.org", handle="ops", is_staff=True
    )
    erase_account(member, actor=operator)
    assert User.objects.get(pk=member.pk).erased_at is not None


@pytest.mark.django_db
def test_erasing_twice_changes_nothing_more(member):
    erase_account(member, actor=member)
    first = User.objects.get(pk=member.pk)
    erase_account(first, actor=None)
    again = User.objects.get(pk=member.pk)
    assert again.erased_at == first.erased_at and again.email == first.email
    assert AuditEntry.objects.filter(action="member.erased").count() == 1


def _erasure_queries(user) -> int:
    with CaptureQueriesContext(connection) as queries:
        erase_account(user, actor=user)
    return len(queries)


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_persons_content(network, other, category):
    def member_with(n: int, i: int) -> User:
        person = make_member(email=f"person{i}@bochum.de", handle=f"person-{i}")
        thread = make_thread(person, category=category, title=f"Ein Thema von Person {i}")
        follow_set(person, target=thread, level=Level.WATCHING)
        for k in range(n):
            post = post_create(person, thread=thread, body=f"Beitrag {k} von person{i}@bochum.de")
            post_edit(person, post=post, body=f"Beitrag {k}, noch einmal person{i}@bochum.de")
            answer = post_create(other, thread=thread, body=f"@person-{i} Antwort {k}")
            reaction_toggle(person, post=answer)
        return person

    _erasure_queries(member_with(0, 0))  # warms the content-type and permission caches
    small = _erasure_queries(member_with(1, 1))
    large = _erasure_queries(member_with(12, 2))
    assert small == large, (small, large)


# --- the page --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_visitor_is_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_the_page_explains_and_links_the_export_first(client, member):
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert "ehemaliges Mitglied" in page and reverse("accounts:privacy_export") in page
    assert 'method="post"' in page and "csrfmiddlewaretoken" in page
    edit = client.get(reverse("accounts:profile_edit")).content.decode()
    assert URL in edit and "Konto löschen" in edit


@pytest.mark.django_db
def test_a_wrong_password_or_confirmation_erases_nothing_and_keeps_the_input(client, member):
    client.force_login(member)
    response = client.post(URL, {"password": "falsch", "confirmation": "LÖSCHEN"})
    assert response.status_code == 400
    assert "Das Passwort stimmt nicht" in response.content.decode()
    assert 'value="LÖSCHEN"' in response.content.decode()
    response = client.post(URL, {"password": PASSWORD, "confirmation": "ja"})
    assert response.status_code == 400 and "Bitte tippen Sie LÖSCHEN" in response.content.decode()
    member.refresh_from_db()
    assert member.erased_at is None and member.is_active


@pytest.mark.django_db
def test_deleting_logs_out_and_confirms(client, member):
    client.force_login(member)
    response = client.post(URL, {"password": PASSWORD, "confirmation": "löschen"})
    assert response.status_code == 302 and response["Location"] == "/accounts/konto-geloescht/"
    assert SESSION_KEY not in client.session
    done = client.get(response["Location"])
    assert "Ihr Konto wurde gelöscht" in done.content.decode()
    assert client.get(response["Location"]).status_code == 302  # once only
    member.refresh_from_db()
    assert member.erased_at is not None
    assert not client.login(email=EMAIL, password=PASSWORD)


@pytest.mark.django_db
def test_get_never_deletes_and_csrf_is_required(member):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    assert client.get(URL, {"password": PASSWORD, "confirmation": "LÖSCHEN"}).status_code == 200
    assert client.post(URL, {"password": PASSWORD, "confirmation": "LÖSCHEN"}).status_code == 403
    member.refresh_from_db()
    assert member.erased_at is None


@pytest.mark.django_db
def test_the_last_moderator_is_told_why_on_the_page(client, network):
    moderator = make_moderator()
    client.force_login(moderator)
    page = client.get(URL)
    assert "letzte Person mit Moderationsrechten" in page.content.decode()
    assert 'name="password"' not in page.content.decode()
    refused = client.post(URL, {"password": PASSWORD, "confirmation": "LÖSCHEN"})
    assert refused.status_code == 403
    moderator.refresh_from_db()
    assert moderator.erased_at is None


@pytest.mark.django_db
def test_all_their_sessions_end_and_nobody_elses(member, other):
    from django.test import Client

    phone, desk, theirs = Client(), Client(), Client()
    phone.force_login(member)
    desk.force_login(member)
    theirs.force_login(other)
    assert Session.objects.count() == 3

    erase_account(member, actor=member)

    (left,) = Session.objects.all()
    assert left.get_decoded()[SESSION_KEY] == str(other.pk)
    assert theirs.get(reverse("accounts:profile_edit")).status_code == 200
    assert desk.get(reverse("accounts:profile_edit")).status_code == 302


@pytest.mark.django_db
def test_the_admin_history_loses_their_address_and_name(member):
    from django.contrib.admin.models import CHANGE, LogEntry
    from django.contrib.contenttypes.models import ContentType

    operator = User.objects.create_user(
        email="ops@agentur.example.org", handle="ops", is_staff=True
    )
    invitation = Invitation.objects.create(
        email=EMAIL,
        organisation=Organisation.objects.get(slug="innovationsagentur"),
        token="u" * 40,
        expires_at=timezone.now(),
    )
    for obj in (invitation, member):
        LogEntry.objects.create(
            user=operator,
            content_type=ContentType.objects.get_for_model(obj),
            object_id=str(obj.pk),
            object_repr=str(obj),
            action_flag=CHANGE,
            change_message="[]",
        )

    erase_account(member, actor=operator)

    reprs = sorted(LogEntry.objects.values_list("object_repr", flat=True))
    assert reprs == sorted(
        [
            "[gelöscht] → Innovationsagentur Stadtumbau NRW",
            f"ehemaliges Mitglied ({member.pseudonym})",
        ]
    ), reprs


@pytest.mark.django_db
def test_someone_who_does_not_accept_new_terms_can_still_leave(client, member):
    from django.core.cache import cache

    from accounts.models import TermsVersion
    from accounts.services import terms_publish

    client.force_login(member)
    terms_publish(None, terms=TermsVersion.objects.create(version="9.0", body="Neu"))
    cache.clear()
    assert client.get("/").status_code == 302  # everything else asks for the new terms
    assert client.get(URL).status_code == 200
    response = client.post(URL, {"password": PASSWORD, "confirmation": "LÖSCHEN"})
    assert response.status_code == 302
    assert "Ihr Konto wurde gelöscht" in client.get(response["Location"]).content.decode()


@pytest.mark.django_db
def test_names_with_umlauts_are_redacted_inside_json_values_too(network, moderator):
    from forum.services.audit import audit_record

    person = make_member(email="juergen.mueller@bochum.de", handle="juergen-mueller")
    person.display_name = "Jürgen Müller"
    person.save(update_fields=["display_name"])
    audit_record(
        moderator,
        action="membership.review_requested",
        target=person,
        old={"name": "Jürgen Müller", "notiz": ["an juergen.mueller@bochum.de"]},
        new={"Jürgen Müller": "@juergen-mueller"},
    )
    assert occurrences("Jürgen Müller")  # stored escaped on SQLite, plain on PostgreSQL

    erase_account(person, actor=person)

    entry = AuditEntry.objects.get(action="membership.review_requested")
    assert entry.old_value == {"name": "[gelöscht]", "notiz": ["an [gelöscht]"]}
    assert entry.new_value == {"[gelöscht]": "@[gelöscht]"}
    assert occurrences("Jürgen Müller", "juergen.mueller@bochum.de", "juergen-mueller") == {}


@pytest.mark.django_db
def test_the_form_is_no_password_oracle(client, member):
    from accounts.views_erasure import ATTEMPTS_PER_HOUR

    client.force_login(member)
    for _ in range(ATTEMPTS_PER_HOUR):
        assert client.post(URL, {"password": "rate", "confirmation": "LÖSCHEN"}).status_code == 400
    refused = client.post(URL, {"password": PASSWORD, "confirmation": "LÖSCHEN"})
    assert refused.status_code == 429
    assert "zu oft falsch" in refused.content.decode()
    member.refresh_from_db()
    assert member.erased_at is None
