"""Staff turnover: a member who left (still named, "nicht mehr aktiv"), the successor who takes
over follows and open questions, and the deputy whom @mentions also reach during an absence.
The services, the moderator's and the member's pages, the profile and the author lines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from accounts import turnover
from accounts.models import User
from forum import permissions
from forum.models import (
    AuditEntry,
    Category,
    CategoryFollow,
    Kind,
    Level,
    Notification,
    TagFollow,
    Thread,
    ThreadFollow,
)
from forum.services.following import follow_set
from forum.services.notifications import describe, link
from forum.services.posts import post_create
from forum.services.suspension import member_suspend
from forum.services.threads import answer_accept, summary_set
from tests.factories import PASSWORD, CategoryFactory, make_member, make_thread, make_user

REASON = "Hat die Stadt Bochum zum 30.11. verlassen."


@pytest.fixture
def public(db):
    return CategoryFactory(visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def internal(db):
    return CategoryFactory(visibility=Category.Visibility.MEMBERS)


@pytest.fixture
def ben(network):
    """The successor: a colleague in Bochum."""
    return make_member(email="ben.koch@bochum.de", handle="ben-koch")


@pytest.fixture
def cara(network):
    """Someone from another city who answers."""
    return make_member(email="cara.lang@dortmund.de", handle="cara-lang")


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _notifications(user: User, kind: str) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind=kind).order_by("pk"))


# --- Who may mark someone as departed ----------------------------------------------------------


def test_a_member_or_visitor_cannot_mark_departed_and_nothing_changes(member, ben, moderator):
    for actor in (ben, AnonymousUser()):
        with pytest.raises(PermissionDenied):
            turnover.mark_departed(member, actor=actor, successor=ben, reason=REASON)
    member = _fresh(member)
    assert member.departed_at is None and member.is_active
    assert not AuditEntry.objects.filter(action="member.departed").exists()


def test_a_moderator_cannot_mark_themselves_or_another_moderator(moderator, network):
    from tests.factories import make_moderator

    other = make_moderator(email="mod2@agentur.example.org", handle="moderator-zwei")
    for target in (moderator, other):
        with pytest.raises(PermissionDenied):
            turnover.mark_departed(target, actor=moderator, reason=REASON)


def test_a_reason_is_required(member, moderator):
    with pytest.raises(ValidationError) as caught:
        turnover.mark_departed(member, actor=moderator, reason="  ")
    assert "Begründung" in str(caught.value)
    assert _fresh(member).departed_at is None


def test_the_successor_must_be_an_approved_member_who_can_act(member, ben, moderator, network):
    pending = make_user(email="paul@posteo.de", handle="paul")
    suspended = make_member(email="sven.ott@bochum.de", handle="sven-ott")
    member_suspend(moderator, member=suspended, until=None, reason="Netiquette Nr. 2.")
    gone = make_member(email="gerd.alt@bochum.de", handle="gerd-alt")
    turnover.mark_departed(gone, actor=moderator, reason=REASON)
    for candidate, message in (
        (member, "eigene"),
        (pending, "kein bestätigtes Mitglied"),
        (_fresh(suspended), "gesperrt"),
        (_fresh(gone), "nicht mehr aktiv"),
    ):
        with pytest.raises(ValidationError) as caught:
            turnover.mark_departed(member, actor=moderator, successor=candidate, reason=REASON)
        assert message in str(caught.value), candidate
    assert _fresh(member).departed_at is None


# --- What departure does -----------------------------------------------------------------------


def test_departure_closes_the_account_but_keeps_the_name_on_posts(
    member, ben, moderator, public, django_capture_on_commit_callbacks
):
    thread = make_thread(member, category=public, title="Leerstand in der Innenstadt")
    browser = Client()
    assert browser.login(email=member.email, password=PASSWORD)
    assert browser.get("/notifications/").status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)

    member = _fresh(member)
    assert member.departed_at is not None and not member.is_active
    assert member.successor_id == ben.pk
    # Signed out everywhere and unable to sign in again.
    assert browser.get("/notifications/").status_code == 302
    assert not Client().login(email=member.email, password=PASSWORD)

    page = Client().get(thread.get_absolute_url()).content.decode()
    assert member.display_name in page
    assert "nicht mehr aktiv" in page
    assert "ehemaliges Mitglied" not in page
    # The departed member is told nothing; their mailbox is gone with them.
    assert not Notification.objects.filter(recipient=member).exclude(kind=Kind.MEMBERSHIP)


def test_the_successor_takes_over_follows_without_duplicates(member, ben, moderator, public):
    watched = make_thread(ben, category=public, kind="discussion", title="Quartiersfonds")
    only_hers = make_thread(moderator, category=public, kind="discussion", title="Zwischennutzung")
    muted = make_thread(moderator, category=public, kind="discussion", title="Lärm am Marktplatz")
    follow_set(member, target=watched, level=Level.WATCHING)
    follow_set(ben, target=watched, level=Level.MUTED)  # his own choice stays
    follow_set(member, target=only_hers, level=Level.WATCHING)
    follow_set(member, target=muted, level=Level.MUTED)  # muting is personal
    tag = Tag.objects.create(name="Leerstand", slug="leerstand")
    follow_set(member, target=tag, level=Level.WATCHING)
    follow_set(member, target=public, level=Level.WATCHING)
    follow_set(ben, target=public, level=Level.WATCHING)

    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)

    mine = dict(ThreadFollow.objects.filter(user=ben).values_list("thread_id", "level"))
    assert mine[watched.pk] == Level.MUTED
    assert mine[only_hers.pk] == Level.WATCHING
    assert muted.pk not in mine
    assert ThreadFollow.objects.filter(user=ben, thread=watched).count() == 1
    assert TagFollow.objects.filter(user=ben, tag=tag, level=Level.WATCHING).count() == 1
    assert CategoryFollow.objects.filter(user=ben, category=public).count() == 1
    notice = _notifications(ben, Kind.TURNOVER)[-1]
    assert notice.data["follows"] == 2  # the second thread and the tag; the rest he had


def test_open_questions_go_to_the_successor_who_may_accept_answers(
    member, ben, cara, moderator, public, network
):
    open_question = make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    answer = post_create(cara, thread=open_question, body="Das Land, über die Städtebauförderung.")
    solved = make_thread(member, category=public, title="Schon gelöst?")
    accepted = post_create(cara, thread=solved, body="Ja.")
    answer_accept(member, post=accepted)
    discussion = make_thread(
        member, category=public, kind="discussion", title="Austausch zur Hofbegrünung"
    )
    secret = CategoryFactory(visibility=Category.Visibility.MODERATORS)
    hidden_from_ben = make_thread(moderator, category=secret, title="Interne Frage")
    Thread.objects.filter(pk=hidden_from_ben.pk).update(author=member)

    assert not permissions.can_accept_answer(ben, open_question)
    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)

    taken = set(Thread.objects.filter(taken_over_by=ben).values_list("pk", flat=True))
    assert taken == {open_question.pk}
    open_question.refresh_from_db()
    assert permissions.can_accept_answer(ben, open_question)
    assert not permissions.can_accept_answer(cara, open_question)
    with pytest.raises(PermissionDenied):
        answer_accept(cara, post=answer)
    answer_accept(ben, post=answer)
    open_question.refresh_from_db()
    assert open_question.accepted_post_id == answer.pk and open_question.solved_at
    assert ThreadFollow.objects.get(user=ben, thread=open_question).level == Level.WATCHING
    assert discussion.pk not in taken and solved.pk not in taken

    notice = _notifications(ben, Kind.TURNOVER)[-1]
    assert notice.data["questions"] == [[open_question.pk, open_question.title]]
    text = describe(notice)
    assert "nicht mehr aktiv" in text and "1 offene Frage" in text
    assert open_question.title in text
    assert link(notice) == "/notifications/"
    centre = Client()
    centre.force_login(ben)
    page = centre.get("/notifications/").content.decode()
    assert f"/t/{open_question.pk}/" in page


def test_new_answers_to_a_taken_over_question_reach_the_successor(
    member, ben, cara, moderator, public
):
    question = make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    post_create(cara, thread=question, body="Vielleicht der Verfügungsfonds?")
    answers = _notifications(ben, Kind.ANSWER)
    assert len(answers) == 1 and answers[0].thread_id == question.pk
    assert not Notification.objects.filter(recipient=member, kind=Kind.ANSWER)


def test_undo_opens_the_account_and_returns_the_questions(member, ben, moderator, public):
    question = make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    with pytest.raises(PermissionDenied):
        turnover.undo_departed(member, actor=ben, reason="Irrtum.")
    turnover.undo_departed(member, actor=moderator, reason="Irrtum, sie bleibt.")

    member = _fresh(member)
    assert member.is_active and member.departed_at is None and member.successor_id is None
    question.refresh_from_db()
    assert question.taken_over_by_id is None
    assert permissions.can_accept_answer(member, question)
    assert not permissions.can_accept_answer(ben, question)
    assert Client().login(email=member.email, password=PASSWORD)
    with pytest.raises(ValidationError):
        turnover.undo_departed(member, actor=moderator, reason="Noch einmal.")


def test_both_steps_are_in_the_audit_log_with_actor_and_reason(member, ben, moderator, public):
    question = make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    turnover.undo_departed(member, actor=moderator, reason="Irrtum, sie bleibt.")
    entries = list(
        AuditEntry.objects.filter(target_id=str(member.pk), action__startswith="member.")
        .order_by("pk")
        .values("action", "actor_id", "reason", "new_value")
    )
    assert [e["action"] for e in entries] == ["member.departed", "member.departure_undone"]
    assert all(e["actor_id"] == moderator.pk for e in entries)
    assert entries[0]["reason"] == REASON
    assert entries[0]["new_value"]["questions"] == [question.pk]
    assert "ben-koch" in entries[0]["new_value"]["successor"]
    assert entries[1]["new_value"]["questions_returned"] == [question.pk]


def test_a_mention_of_a_departed_member_reaches_the_successor(member, ben, cara, moderator, public):
    thread = make_thread(cara, category=public, kind="discussion", title="Hofprogramm")
    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    post = post_create(cara, thread=thread, body=f"Frag doch @{member.handle}.")
    assert f'href="/u/{member.handle}/"' in post.body_html  # still named and linked
    routed = _notifications(ben, Kind.MENTION)
    assert len(routed) == 1 and routed[0].data["stand_in"] == "successor"
    assert "ist nicht mehr aktiv, Sie sind die Nachfolge" in describe(routed[0])
    assert not Notification.objects.filter(recipient=member, kind=Kind.MENTION)


# --- Deputy ----------------------------------------------------------------------------------


def test_a_member_names_their_own_deputy_who_is_told(member, ben, cara):
    until = timezone.localdate() + timedelta(days=14)
    turnover.set_deputy(member, actor=member, deputy=ben, until=until)
    member = _fresh(member)
    assert member.deputy_id == ben.pk and member.deputy_until == until
    notice = _notifications(ben, Kind.TURNOVER)[-1]
    assert "Sie vertreten" in describe(notice) and member.display_name in describe(notice)
    assert link(notice) == f"/u/{member.handle}/"
    entry = AuditEntry.objects.get(action="member.deputy_set")
    assert entry.actor_id == member.pk and entry.new_value["deputy"].endswith("(@ben-koch)")
    # Someone else may not change it; a moderator may, with a reason.
    with pytest.raises(PermissionDenied):
        turnover.set_deputy(member, actor=cara, deputy=cara, until=until)
    turnover.clear_deputy(member, actor=member)
    assert _fresh(member).deputy_id is None
    assert "nicht mehr als Vertretung" in describe(_notifications(ben, Kind.TURNOVER)[-1])


def test_a_moderator_names_a_deputy_for_a_member_with_a_reason(member, ben, moderator):
    until = timezone.localdate() + timedelta(days=3)
    with pytest.raises(ValidationError):
        turnover.set_deputy(member, actor=moderator, deputy=ben, until=until, reason="")
    turnover.set_deputy(member, actor=moderator, deputy=ben, until=until, reason="Krank.")
    assert AuditEntry.objects.get(action="member.deputy_set").actor_id == moderator.pk


def test_deputy_dates_and_persons_are_checked(member, ben, network):
    today = timezone.localdate()
    for until, message in (
        (today - timedelta(days=1), "Vergangenheit"),
        (today + timedelta(days=400), "höchstens ein Jahr"),
        (None, "bis wann"),
    ):
        with pytest.raises(ValidationError) as caught:
            turnover.set_deputy(member, actor=member, deputy=ben, until=until)
        assert message in str(caught.value)
    with pytest.raises(ValidationError):
        turnover.set_deputy(member, actor=member, deputy=member, until=today)
    assert _fresh(member).deputy_id is None


def test_a_mention_reaches_the_deputy_only_until_the_date(member, ben, cara, public):
    thread = make_thread(cara, category=public, kind="discussion", title="Hofprogramm")
    today = timezone.localdate()
    turnover.set_deputy(member, actor=member, deputy=ben, until=today)

    post_create(cara, thread=thread, body=f"@{member.handle}, wissen Sie das?")
    own = _notifications(member, Kind.MENTION)
    routed = _notifications(ben, Kind.MENTION)
    assert len(own) == 1 and len(routed) == 1
    assert routed[0].data == {
        "stand_in": "deputy",
        "until": today.isoformat(),
        "name": member.display_name,
        "handle": member.handle,
    }
    text = describe(routed[0])
    assert f"hat {member.display_name} in „Hofprogramm“ erwähnt" in text
    assert f"Sie vertreten {member.display_name} bis" in text

    # The day after the absence the deputy hears nothing more.
    User.objects.filter(pk=member.pk).update(deputy_until=today - timedelta(days=1))
    post_create(cara, thread=thread, body=f"Noch einmal @{member.handle}.")
    assert len(_notifications(member, Kind.MENTION)) == 2
    assert len(_notifications(ben, Kind.MENTION)) == 1


def test_a_deputy_who_is_mentioned_too_or_writes_the_post_is_told_once(member, ben, cara, public):
    thread = make_thread(cara, category=public, kind="discussion", title="Hofprogramm")
    turnover.set_deputy(member, actor=member, deputy=ben, until=timezone.localdate())
    post_create(cara, thread=thread, body=f"@{member.handle} und @{ben.handle}?")
    assert len(_notifications(ben, Kind.MENTION)) == 1
    assert "stand_in" not in _notifications(ben, Kind.MENTION)[0].data
    post_create(ben, thread=thread, body=f"Ich antworte für @{member.handle}.")
    assert len(_notifications(ben, Kind.MENTION)) == 1


def test_a_mention_never_reaches_a_deputy_who_may_not_read_the_post(
    member, ben, moderator, internal, network
):
    # The moderator is away; the member deputising may not read the moderators' category.
    secret = CategoryFactory(visibility=Category.Visibility.MODERATORS)
    from tests.factories import make_moderator

    colleague = make_moderator(email="mod2@agentur.example.org", handle="moderator-zwei")
    turnover.set_deputy(moderator, actor=moderator, deputy=member, until=timezone.localdate())
    internal_thread = make_thread(
        colleague, category=secret, kind="discussion", title="Interne Abstimmung"
    )
    post_create(colleague, thread=internal_thread, body=f"@{moderator.handle}, bitte prüfen.")
    assert len(_notifications(moderator, Kind.MENTION)) == 1
    assert not _notifications(member, Kind.MENTION)

    # A members-only post and a deputy who was suspended meanwhile: nothing either.
    turnover.set_deputy(ben, actor=ben, deputy=member, until=timezone.localdate())
    member_suspend(moderator, member=member, until=None, reason="Netiquette Nr. 2.")
    members_thread = make_thread(
        colleague, category=internal, kind="discussion", title="Nur für Mitglieder"
    )
    post_create(colleague, thread=members_thread, body=f"@{ben.handle}?")
    assert len(_notifications(ben, Kind.MENTION)) == 1
    assert not _notifications(member, Kind.MENTION)


def test_an_edit_that_adds_a_mention_reaches_the_deputy(member, ben, cara, public):
    from forum.services.posts import post_edit

    thread = make_thread(cara, category=public, kind="discussion", title="Hofprogramm")
    post = post_create(cara, thread=thread, body="Weiß das jemand?")
    turnover.set_deputy(member, actor=member, deputy=ben, until=timezone.localdate())
    post_edit(cara, post=post, body=f"Weiß das jemand? @{member.handle}")
    assert _notifications(ben, Kind.MENTION)[0].data["stand_in"] == "deputy"


def test_departure_ends_the_deputy_arrangements_around_the_member(member, ben, cara, moderator):
    until = timezone.localdate() + timedelta(days=5)
    turnover.set_deputy(member, actor=member, deputy=ben, until=until)
    turnover.set_deputy(cara, actor=cara, deputy=member, until=until)
    turnover.mark_departed(member, actor=moderator, reason=REASON)
    assert _fresh(member).deputy_id is None
    assert _fresh(cara).deputy_id is None


# --- Pages -----------------------------------------------------------------------------------


def _page(path: str, user: User | None = None):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client.get(path)


def test_members_and_visitors_cannot_open_or_post_the_moderator_forms(member, ben, mfa_moderator):
    url = f"/mod/members/{member.handle}/ausgeschieden/"
    undo = f"/mod/members/{member.handle}/ausgeschieden-aufheben/"
    deputy = f"/mod/members/{member.handle}/vertretung/"
    member_client = Client()
    member_client.force_login(ben)
    assert member_client.get(url).status_code == 403
    data = {"successor": ben.handle, "reason": REASON}
    assert member_client.post(url, data).status_code == 403
    assert member_client.post(undo, {"rueckgaengig-reason": "x"}).status_code == 403
    assert (
        member_client.post(
            deputy, {"vertretung-deputy": ben.handle, "vertretung-until": "2099-01-01"}
        ).status_code
        == 403
    )
    visitor = Client().post(url, data)
    assert visitor.status_code == 302 and visitor["Location"].startswith("/accounts/login/")
    assert _fresh(member).departed_at is None and _fresh(member).deputy_id is None


def test_the_moderator_marks_a_member_departed_through_the_page(member, ben, mod_client, public):
    make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    page = mod_client.get(f"/mod/members/{member.handle}/ausgeschieden/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Als ausgeschieden markieren" in html and "Wer fördert Hofbegrünung?" in html
    # Colleagues of the same organisation come first in the suggestions.
    assert html.index('value="ben-koch"') < html.index('value="moderatorin"')

    response = mod_client.post(
        f"/mod/members/{member.handle}/ausgeschieden/",
        {"successor": "@Ben-Koch", "reason": REASON},
    )
    assert response.status_code == 302
    member = _fresh(member)
    assert member.departed_at and member.successor_id == ben.pk

    profile = _page(f"/u/{member.handle}/", ben).content.decode()
    assert "nicht mehr aktiv" in profile
    assert "Nachfolge" in profile and f'href="/u/{ben.handle}/"' in profile

    undo = mod_client.post(
        f"/mod/members/{member.handle}/ausgeschieden-aufheben/",
        {"rueckgaengig-reason": "Irrtum."},
    )
    assert undo.status_code == 302 and _fresh(member).is_active


def test_a_failed_departure_form_keeps_what_was_typed(member, mod_client):
    response = mod_client.post(
        f"/mod/members/{member.handle}/ausgeschieden/",
        {"successor": "niemand-bekannt", "reason": "Zum Monatsende ausgeschieden."},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Unter „niemand-bekannt“ ist kein Mitglied bekannt" in html
    assert 'value="niemand-bekannt"' in html and "Zum Monatsende ausgeschieden." in html
    response = mod_client.post(
        f"/mod/members/{member.handle}/ausgeschieden/", {"successor": "", "reason": ""}
    )
    assert response.status_code == 400
    assert "Bitte geben Sie eine Begründung an." in response.content.decode()
    assert _fresh(member).departed_at is None


def test_a_member_sets_their_deputy_on_the_profile_page(member, ben, client):
    client.force_login(member)
    page = client.get("/accounts/profile/").content.decode()
    assert "Vertretung während Abwesenheit" in page and 'list="stand-in-candidates"' in page
    until = timezone.localdate() + timedelta(days=10)
    response = client.post(
        "/accounts/profile/vertretung/",
        {"vertretung-deputy": ben.handle, "vertretung-until": until.strftime("%d.%m.%Y")},
    )
    assert response.status_code == 302
    assert _fresh(member).deputy_id == ben.pk
    profile = _page(f"/u/{member.handle}/", ben).content.decode()
    assert "Abwesend" in profile and "Vertretung:" in profile
    assert f'href="/u/{ben.handle}/"' in profile

    response = client.post(
        "/accounts/profile/vertretung/",
        {"vertretung-deputy": ben.handle, "vertretung-until": "", "beenden": "1"},
    )
    assert response.status_code == 302 and _fresh(member).deputy_id is None


def test_a_failed_deputy_form_says_why_in_german_and_keeps_the_input(member, client):
    client.force_login(member)
    yesterday = timezone.localdate() - timedelta(days=1)
    response = client.post(
        "/accounts/profile/vertretung/",
        {"vertretung-deputy": "unbekannt-xy", "vertretung-until": "31.02.2026"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Unter „unbekannt-xy“ ist kein Mitglied bekannt" in html
    assert "Bitte geben Sie ein Datum an" in html
    assert 'value="unbekannt-xy"' in html and 'value="31.02.2026"' in html
    response = client.post(
        "/accounts/profile/vertretung/",
        {"vertretung-deputy": "unbekannt-xy", "vertretung-until": yesterday.isoformat()},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "Vergangenheit" in html and "Unter „unbekannt-xy“" in html
    response = client.post(
        "/accounts/profile/vertretung/",
        {"vertretung-deputy": member.handle, "vertretung-until": timezone.localdate().isoformat()},
    )
    assert response.status_code == 400
    assert "Die Person kann nicht ihre eigene Vertretung sein." in response.content.decode()
    assert _fresh(member).deputy_id is None


def test_a_pending_person_cannot_name_a_deputy(network, ben):
    pending = make_user(email="paul@posteo.de", handle="paul")
    client = Client()
    client.force_login(pending)
    assert "Vertretung während Abwesenheit" not in client.get("/accounts/profile/").content.decode()
    response = client.post(
        "/accounts/profile/vertretung/",
        {"vertretung-deputy": ben.handle, "vertretung-until": timezone.localdate().isoformat()},
    )
    assert response.status_code == 403
    assert _fresh(pending).deputy_id is None


def test_the_moderator_page_has_a_fixed_number_of_queries(member, mod_client, network):
    url = f"/mod/members/{member.handle}/ausgeschieden/"
    mod_client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert mod_client.get(url).status_code == 200
    for n in range(6):
        make_member(email=f"kollege{n}@bochum.de", handle=f"kollege-{n}")
    with CaptureQueriesContext(connection) as many:
        html = mod_client.get(url).content.decode()
    assert 'value="kollege-5"' in html
    assert len(many) == len(few)


def test_the_thread_page_shows_departed_authors_without_extra_queries(
    member, ben, cara, moderator, public
):
    thread = make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    for n in range(3):
        post_create(cara, thread=thread, body=f"Antwort {n}")
    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    viewer = Client()
    viewer.force_login(ben)
    viewer.get(thread.get_absolute_url())
    with CaptureQueriesContext(connection) as few:
        viewer.get(thread.get_absolute_url())
    for n in range(4):
        post_create(ben, thread=thread, body=f"Nachtrag {n}")
    viewer.get(thread.get_absolute_url())
    with CaptureQueriesContext(connection) as many:
        html = viewer.get(thread.get_absolute_url()).content.decode()
    assert html.count("nicht mehr aktiv") == 1  # the first post's author line
    assert len(many) == len(few)


def test_the_admin_shows_departure_and_deputy_read_only(member, ben, moderator):
    from tests.factories import activate_totp

    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    root = User.objects.create_superuser(
        email="root@agentur.example.org", password=PASSWORD, handle="root", display_name="Root"
    )
    activate_totp(root)
    client = Client()
    client.force_login(root)
    url = f"/admin/accounts/user/{member.pk}/change/"
    html = client.get(url).content.decode()
    assert "Personalwechsel" in html and ben.display_name in html
    assert 'name="departed_at' not in html and 'name="successor"' not in html


def test_a_taken_over_question_passes_on_when_the_successor_leaves_too(
    member, ben, cara, moderator, public, network
):
    dora = make_member(email="dora.fink@bochum.de", handle="dora-fink")
    question = make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    turnover.mark_departed(_fresh(ben), actor=moderator, successor=dora, reason=REASON)
    question.refresh_from_db()
    assert question.taken_over_by_id == dora.pk
    assert permissions.can_accept_answer(dora, question)
    assert [q.pk for q in turnover.open_questions(dora)] == [question.pk]
    # Undoing the first departure gives the asker her question back.
    turnover.undo_departed(_fresh(member), actor=moderator, reason="Sie ist zurück.")
    question.refresh_from_db()
    assert question.taken_over_by_id is None


def test_a_departed_member_hears_nothing_of_what_they_followed(
    member, ben, cara, moderator, public
):
    thread = make_thread(member, category=public, kind="discussion", title="Hofprogramm 2027")
    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    before = Notification.objects.filter(recipient=member).count()
    post_create(cara, thread=thread, body="Eine neue Antwort.")
    assert Notification.objects.filter(recipient=member).count() == before
    assert _notifications(ben, Kind.REPLY)  # the successor follows it now


def test_the_successor_gets_an_email_and_the_departed_member_none(
    member, ben, moderator, public, mailoutbox, django_capture_on_commit_callbacks
):
    question = make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    assert [m.to for m in mailoutbox] == [[ben.email]]
    body = mailoutbox[0].body
    assert "nicht mehr aktiv" in body and question.title in body


def test_the_successor_records_the_result_of_a_taken_over_question(
    member, ben, cara, moderator, public
):
    question = make_thread(member, category=public, title="Wer fördert Hofbegrünung?")
    post_create(cara, thread=question, body="Das Land, über die Städtebauförderung.")
    summary_url = f"/t/{question.pk}/ergebnis/"
    assert reverse("forum:summary_edit", args=[question.pk]) == summary_url
    assert not permissions.can_edit_summary(ben, question)
    with pytest.raises(PermissionDenied):
        summary_set(ben, thread=question, summary="Vorher nicht.")

    turnover.mark_departed(member, actor=moderator, successor=ben, reason=REASON)
    question.refresh_from_db()
    successor = Client()
    successor.force_login(ben)
    page = successor.get(question.get_absolute_url()).content.decode()
    assert summary_url in page
    # Only the result: title, kind and tags stay with the author and the moderation.
    assert f"/t/{question.pk}/bearbeiten/" not in page
    answer = successor.post(summary_url, {"summary": "Gefördert über die Städtebauförderung."})
    assert answer.status_code == 302
    question.refresh_from_db()
    assert question.summary == "Gefördert über die Städtebauförderung."
    assert question.summary_by == ben

    other = Client()
    other.force_login(cara)
    assert summary_url not in other.get(question.get_absolute_url()).content.decode()
    assert other.post(summary_url, {"summary": "Nein."}).status_code == 403
    question.refresh_from_db()
    assert question.summary == "Gefördert über die Städtebauförderung."
