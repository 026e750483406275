"""Roles by moderation actions, on every surface: the service, the HTTP view and the admin.

Every action is one ``Action`` entry (its service call, its request, and the state it would
change). Each role that is not a moderator is refused on both surfaces and nothing changes:
neither the row nor the audit log. The moderator's row shows that every entry really does
something, so the refusals cannot pass because an action is broken or a target missing.

The content is built once for the module, inside a transaction that is rolled back at the
end (Django's ``setUpTestData`` idea); each test runs in a savepoint inside it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.test import Client, RequestFactory, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Organisation, TermsVersion, User
from accounts.permissions import MODERATORS_GROUP, is_moderator
from accounts.services import MODERATOR_PERMISSIONS
from forum.models import (
    Appeal,
    AuditEntry,
    Category,
    Collection,
    CollectionEntry,
    Kind,
    Notification,
    Post,
    PostMove,
    PostRevision,
    Report,
    Thread,
)
from forum.services import collections, moderation, posts, threads
from tests.conftest import built_once
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    activate_totp,
    make_member,
    make_moderator,
    make_thread,
    make_user,
)

pytestmark = pytest.mark.django_db

REASON = "Verstoß gegen die Netiquette, siehe Nr. 2."

# A colleague's suspension work may not have landed everywhere this file runs.
HAS_SUSPENSION = any(f.name == "suspended_at" for f in User._meta.concrete_fields) and bool(
    importlib.util.find_spec("forum.services.suspension")
)

ROLES = ["visitor", "pending", "member", *(["suspended"] if HAS_SUSPENSION else []), "staff"]


# --- The shared content -----------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    """Primary keys of what the module built; every test reads fresh rows through these."""

    pk: dict[str, int]

    def user(self, name: str) -> User:
        return User.objects.get(pk=self.pk[name])

    def post(self, name: str) -> Post:
        return Post.objects.select_related("thread").get(pk=self.pk[name])

    def thread(self, name: str) -> Thread:
        return Thread.objects.get(pk=self.pk[name])

    def collection(self) -> Collection:
        return Collection.objects.get(pk=self.pk["collection"])

    def entry(self, name: str) -> CollectionEntry:
        return CollectionEntry.objects.get(pk=self.pk[name])

    def handle(self, name: str) -> str:
        return self.user(name).handle


def _build_world() -> World:
    from django.conf import settings

    account_services.network_load_file(settings.NETWORK_FILE)
    bochum = Organisation.objects.get(slug="bochum")
    public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
    other = CategoryFactory(visibility=Category.Visibility.PUBLIC)

    moderator = make_moderator()
    activate_totp(moderator)
    author = make_member(email="ben.koch@bochum.de", handle="ben-koch")
    cara = make_member(email="cara.lang@bochum.de", handle="cara-lang")
    member = make_member(email="jonas.becker@bochum.de", handle="jonas-becker")
    pending = make_user(email="paul@posteo.de", handle="paul")
    applicant = make_user(email="petra@posteo.de", handle="petra")
    assert not pending.is_approved_member and not applicant.is_approved_member
    # She named her organisation at signup: the admin action approves into it.
    User.objects.filter(pk=applicant.pk).update(suggested_organisation=bochum)

    # An operator: may use the admin with every model permission, but none of the moderation
    # permissions. A second operator may only look.
    staff = make_member(email="betrieb@bochum.de", handle="betrieb-bochum")
    staff.is_staff = True
    staff.save(update_fields=["is_staff"])
    activate_totp(staff)
    ours = Permission.objects.filter(content_type__app_label__in=["accounts", "forum"])
    staff.user_permissions.set(ours.exclude(codename__in=MODERATOR_PERMISSIONS))
    viewer = make_member(email="einsicht@bochum.de", handle="einsicht-bochum")
    viewer.is_staff = True
    viewer.save(update_fields=["is_staff"])
    activate_totp(viewer)
    viewer.user_permissions.set(ours.filter(codename__startswith="view_"))
    root = User.objects.create_superuser(
        email="root@agentur.example.org",
        password=PASSWORD,
        handle="betrieb-root",
        display_name="Root Betrieb",
    )
    activate_totp(root)

    thread = make_thread(author, category=public, title="Leerstand in der Innenstadt")
    reply = posts.post_create(cara, thread=thread, body="Ein unpassender Beitrag.")
    regretted = posts.post_create(author, thread=thread, body="Ein Beitrag, den ich bereue.")
    posts.post_delete(author, post=regretted)
    hidden = posts.post_create(cara, thread=thread, body="Noch ein scharfer Ton.")
    moderation.post_hide(moderator, post=hidden, reason=REASON)
    notice = Notification.objects.filter(recipient=cara, kind=Kind.MODERATION).latest("id")
    appeal = moderation.appeal_create(cara, notification=notice, text="Das war sachlich.")
    report = moderation.report_create(author, post=reply, reason=Report.Reason.OFFENSIVE)
    newcomer = make_member(email="nina.neu@bochum.de", handle="nina-neu")
    with override_settings(FORUM_HOLD_FIRST_POSTS=1):
        held = posts.post_create(newcomer, thread=thread, body="Mein erster Beitrag.")
    assert held.is_held

    target = make_thread(author, category=public, title="Fördermittel für Quartiersarbeit")
    uncollected = make_thread(cara, category=public, title="Zwischennutzung leerer Läden")
    closed = make_thread(cara, category=public, title="Ein geschlossenes, angeheftetes Thema")
    moderation.thread_moderate(moderator, thread=closed, action="lock", reason=REASON)
    moderation.thread_moderate(moderator, thread=closed, action="pin_global", reason=REASON)

    collection = collections.collection_create(moderator, title="Leerstand gemeinsam angehen")
    first = collections.collection_add_thread(moderator, collection=collection, thread=thread)
    second = collections.collection_add_thread(moderator, collection=collection, thread=target)

    pk = {
        "moderator": moderator.pk,
        "author": author.pk,
        "member": member.pk,
        "pending": pending.pk,
        "applicant": applicant.pk,
        "staff": staff.pk,
        "viewer": viewer.pk,
        "superuser": root.pk,
        "bochum": bochum.pk,
        "public": public.pk,
        "other": other.pk,
        "thread": thread.pk,
        "target": target.pk,
        "uncollected": uncollected.pk,
        "closed": closed.pk,
        "reply": reply.pk,
        "regretted": regretted.pk,
        "hidden": hidden.pk,
        "held": held.pk,
        "report": report.pk,
        "appeal": appeal.pk,
        "collection": collection.pk,
        "first_entry": first.pk,
        "second_entry": second.pk,
        "terms_draft": TermsVersion.objects.create(version="9.9", body="Entwurf.").pk,
    }
    if HAS_SUSPENSION:
        from forum.services.suspension import member_suspend

        suspended = make_member(email="sven.ott@bochum.de", handle="sven-ott")
        User.objects.filter(pk=suspended.pk).update(suspended_at=timezone.now())
        dora = make_member(email="dora.fink@bochum.de", handle="dora-fink")
        emil = make_member(email="emil.graf@bochum.de", handle="emil-graf")
        member_suspend(moderator, member=emil, until=None, reason=REASON)
        pk.update(suspended=suspended.pk, to_suspend=dora.pk, to_unsuspend=emil.pk)
    from accounts.turnover import mark_departed

    leaving = make_member(email="lea.weg@bochum.de", handle="lea-weg")
    returning = make_member(email="rolf.rueck@bochum.de", handle="rolf-rueck")
    mark_departed(returning, actor=moderator, successor=member, reason=REASON)
    absent = make_member(email="anja.urlaub@bochum.de", handle="anja-urlaub")
    pk.update(to_depart=leaving.pk, to_return=returning.pk, absent=absent.pk)
    return World(pk=pk)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once, rolled back after the module's last test."""
    with built_once(django_db_blocker, _build_world, run_on_commit=False) as built:
        yield built


def _actor(world: World, role: str):
    return AnonymousUser() if role == "visitor" else world.user(role)


def _client(world: World, role: str) -> Client:
    client = Client()
    if role != "visitor":
        client.force_login(world.user(role))
    return client


# --- The actions ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    """One moderation action. Adding one is an entry in ACTIONS (and, if it needs a target of
    its own, a line in ``_build_world``)."""

    name: str
    service: Callable[[Any, World], object]  # (actor, world) -> result
    request: Callable[[World], tuple[str, dict]]  # world -> (url, POST data)
    state: Callable[[World], object]  # what the action would change


def _post_state(name: str, *fields: str):
    return lambda w: Post.objects.filter(pk=w.pk[name]).values(*fields).get()


def _thread_state(name: str):
    return lambda w: (
        Thread.objects.filter(pk=w.pk[name])
        .values("is_locked", "is_pinned", "is_pinned_globally", "category_id", "merged_into_id")
        .get()
    )


def _entries(w: World):
    return list(
        CollectionEntry.objects.filter(collection_id=w.pk["collection"])
        .order_by("pk")
        .values_list("pk", "position", "note", "thread_id")
    )


def _thread_action(action: str, target: str) -> Action:
    def service(actor, w):
        category = Category.objects.get(pk=w.pk["other"]) if action == "move" else None
        return moderation.thread_moderate(
            actor, thread=w.thread(target), action=action, reason=REASON, category=category
        )

    def request(w):
        return f"/mod/thema/{w.pk[target]}/", {
            "aktion": action,
            "themenfeld": w.pk["other"],
            "reason": REASON,
        }

    return Action(f"thread_{action}", service, request, _thread_state(target))


ACTIONS: list[Action] = [
    Action(
        "post_hide",
        lambda a, w: moderation.post_hide(a, post=w.post("reply"), reason=REASON),
        lambda w: (f"/mod/beitrag/{w.pk['reply']}/ausblenden/", {"reason": REASON}),
        _post_state("reply", "is_hidden"),
    ),
    Action(
        "post_unhide",
        lambda a, w: moderation.post_unhide(a, post=w.post("hidden"), reason=REASON),
        lambda w: (f"/mod/beitrag/{w.pk['hidden']}/einblenden/", {"reason": REASON}),
        _post_state("hidden", "is_hidden"),
    ),
    Action(
        "report_dismiss",
        lambda a, w: moderation.report_dismiss(
            a, report=Report.objects.get(pk=w.pk["report"]), reason=REASON
        ),
        lambda w: (f"/mod/beitrag/{w.pk['reply']}/meldung-zurueckweisen/", {"reason": REASON}),
        lambda w: Report.objects.filter(pk=w.pk["report"]).values("status", "resolved_by").get(),
    ),
    _thread_action("lock", "thread"),
    _thread_action("unlock", "closed"),
    _thread_action("pin", "thread"),
    _thread_action("pin_global", "thread"),
    _thread_action("unpin", "closed"),
    _thread_action("move", "thread"),
    Action(
        "thread_merge",
        lambda a, w: moderation.thread_merge(
            a, thread=w.thread("thread"), into=w.thread("target"), reason=REASON
        ),
        lambda w: (
            f"/mod/thema/{w.pk['thread']}/zusammenfuehren/",
            {"ziel": str(w.pk["target"]), "reason": REASON},
        ),
        _thread_state("thread"),
    ),
    Action(
        "thread_split",
        lambda a, w: moderation.thread_split(
            a,
            thread=w.thread("thread"),
            numbers=[2],
            title="Ein abgetrennter Nebenstrang",
            category=Category.objects.get(pk=w.pk["public"]),
            kind=Thread.Kind.DISCUSSION,
            reason=REASON,
        ),
        lambda w: (
            f"/mod/thema/{w.pk['thread']}/teilen/",
            {
                "numbers": ["2"],
                "title": "Ein abgetrennter Nebenstrang",
                "category": str(w.pk["public"]),
                "kind": Thread.Kind.DISCUSSION,
                "reason": REASON,
            },
        ),
        _post_state("reply", "thread_id", "number"),
    ),
    Action(
        "post_approve",
        lambda a, w: moderation.post_approve(a, post=w.post("held")),
        lambda w: (f"/mod/beitrag/{w.pk['held']}/freigeben/", {"reason": REASON}),
        _post_state("held", "is_held", "is_deleted"),
    ),
    Action(
        "post_reject",
        lambda a, w: moderation.post_reject(a, post=w.post("held"), reason=REASON),
        lambda w: (f"/mod/beitrag/{w.pk['held']}/ablehnen/", {"reason": REASON}),
        _post_state("held", "is_held", "is_deleted"),
    ),
    Action(
        "appeal_answer",
        lambda a, w: moderation.appeal_answer(
            a, appeal=Appeal.objects.get(pk=w.pk["appeal"]), answer=REASON
        ),
        lambda w: (f"/mod/einspruch/{w.pk['appeal']}/", {"answer": REASON}),
        lambda w: Appeal.objects.filter(pk=w.pk["appeal"]).values("status", "answer").get(),
    ),
    Action(
        "post_edit_others",
        lambda a, w: posts.post_edit(
            a, post=w.post("reply"), body="Von anderer Hand geändert.", reason=REASON
        ),
        lambda w: (
            f"/beitrag/{w.pk['reply']}/bearbeiten/",
            {"body": "Von anderer Hand geändert.", "reason": REASON},
        ),
        _post_state("reply", "body", "edit_count"),
    ),
    Action(
        "thread_edit_others",
        lambda a, w: threads.thread_update(
            a,
            thread=w.thread("thread"),
            title="Leerstand in der Innenstadt (geändert)",
            tags=["Leerstand"],
            kind=Thread.Kind.QUESTION,
            reason=REASON,
        ),
        lambda w: (
            f"/t/{w.pk['thread']}/bearbeiten/",
            {
                "title": "Leerstand in der Innenstadt (geändert)",
                "kind": Thread.Kind.QUESTION,
                "tags": "Leerstand",
                "reason": REASON,
            },
        ),
        lambda w: Thread.objects.filter(pk=w.pk["thread"]).values("title", "kind").get(),
    ),
    Action(
        "post_restore",
        lambda a, w: posts.post_restore(a, post=w.post("regretted")),
        lambda w: (f"/beitrag/{w.pk['regretted']}/wiederherstellen/", {"reason": REASON}),
        _post_state("regretted", "is_deleted"),
    ),
    Action(
        "collection_create",
        lambda a, w: collections.collection_create(a, title="Eine neue Sammlung zum Leerstand"),
        lambda w: (
            "/collections/neu/",
            {"title": "Eine neue Sammlung zum Leerstand", "visibility": "public", "tags": ""},
        ),
        lambda w: sorted(Collection.objects.values_list("pk", flat=True)),
    ),
    Action(
        "collection_add_thread",
        lambda a, w: collections.collection_add_thread(
            a, collection=w.collection(), thread=w.thread("uncollected")
        ),
        lambda w: (
            f"/mod/thema/{w.pk['uncollected']}/sammlung/",
            {"sammlung": str(w.pk["collection"]), "notiz": "Passt gut."},
        ),
        _entries,
    ),
    Action(
        "collection_set_status",
        lambda a, w: collections.collection_set_status(
            a, collection=w.collection(), status=Collection.Status.PUBLISHED
        ),
        lambda w: (
            f"/collections/{w.collection().slug}/stand/",
            {"status": Collection.Status.PUBLISHED},
        ),
        lambda w: Collection.objects.filter(pk=w.pk["collection"]).values("status").get(),
    ),
    Action(
        "collection_entry_move",
        lambda a, w: collections.collection_move_entry(
            a, entry=w.entry("first_entry"), direction="down"
        ),
        lambda w: (
            f"/collections/eintrag/{w.pk['first_entry']}/verschieben/",
            {"richtung": "runter"},
        ),
        _entries,
    ),
    Action(
        "collection_entry_edit",
        lambda a, w: collections.collection_entry_update(
            a,
            entry=w.entry("first_entry"),
            note="Lesenswert.",
            key_post_number=None,
            review_by=None,
        ),
        lambda w: (
            f"/collections/eintrag/{w.pk['first_entry']}/bearbeiten/",
            {"notiz": "Lesenswert.", "kernbeitrag": "", "pruefen_bis": ""},
        ),
        _entries,
    ),
    Action(
        "collection_entry_remove",
        lambda a, w: collections.collection_remove_entry(a, entry=w.entry("second_entry")),
        lambda w: (f"/collections/eintrag/{w.pk['second_entry']}/entfernen/", {}),
        _entries,
    ),
    Action(
        "membership_approve",
        lambda a, w: account_services.membership_approve(
            a, user=w.user("applicant"), organisation=Organisation.objects.get(pk=w.pk["bochum"])
        ),
        lambda w: (
            f"/mod/members/{w.pk['applicant']}/approve/",
            {f"m{w.pk['applicant']}-organisation": str(w.pk["bochum"])},
        ),
        lambda w: User.objects.filter(pk=w.pk["applicant"]).values("membership").get(),
    ),
    Action(
        "membership_reject",
        lambda a, w: account_services.membership_reject(a, user=w.user("applicant"), reason=REASON),
        lambda w: (
            f"/mod/members/{w.pk['applicant']}/reject/",
            {f"m{w.pk['applicant']}-reason": REASON},
        ),
        lambda w: User.objects.filter(pk=w.pk["applicant"]).values("membership").get(),
    ),
]

if HAS_SUSPENSION:

    def _suspension(name: str):
        return lambda w: (
            User.objects.filter(pk=w.pk[name])
            .values("suspended_at", "suspended_until", "suspension_reason")
            .get()
        )

    def _suspend(actor, w):
        from forum.services.suspension import member_suspend

        return member_suspend(actor, member=w.user("to_suspend"), until=None, reason=REASON)

    def _unsuspend(actor, w):
        from forum.services.suspension import member_unsuspend

        return member_unsuspend(actor, member=w.user("to_unsuspend"), reason=REASON)

    ACTIONS += [
        Action(
            "member_suspend",
            _suspend,
            lambda w: (
                f"/mod/members/{w.handle('to_suspend')}/sperren/",
                {"duration": "7", "reason": REASON},
            ),
            _suspension("to_suspend"),
        ),
        Action(
            "member_unsuspend",
            _unsuspend,
            lambda w: (
                f"/mod/members/{w.handle('to_unsuspend')}/sperre-aufheben/",
                {"aufheben-reason": REASON},
            ),
            _suspension("to_unsuspend"),
        ),
    ]


def _turnover(name: str):
    return lambda w: (
        User.objects.filter(pk=w.pk[name])
        .values("departed_at", "is_active", "successor_id", "deputy_id", "deputy_until")
        .get()
    )


def _depart(actor, w):
    from accounts.turnover import mark_departed

    return mark_departed(
        w.user("to_depart"), actor=actor, successor=w.user("member"), reason=REASON
    )


def _undo_departure(actor, w):
    from accounts.turnover import undo_departed

    return undo_departed(w.user("to_return"), actor=actor, reason=REASON)


def _deputy(actor, w):
    from accounts.turnover import set_deputy

    until = timezone.localdate() + timedelta(days=7)
    return set_deputy(
        w.user("absent"), actor=actor, deputy=w.user("member"), until=until, reason=REASON
    )


ACTIONS += [
    Action(
        "member_depart",
        _depart,
        lambda w: (
            f"/mod/members/{w.handle('to_depart')}/ausgeschieden/",
            {"successor": w.handle("member"), "reason": REASON},
        ),
        _turnover("to_depart"),
    ),
    Action(
        "member_undo_departure",
        _undo_departure,
        lambda w: (
            f"/mod/members/{w.handle('to_return')}/ausgeschieden-aufheben/",
            {"rueckgaengig-reason": REASON},
        ),
        _turnover("to_return"),
    ),
    # Members name their own deputy; for someone else only a moderator may.
    Action(
        "member_deputy",
        _deputy,
        lambda w: (
            f"/mod/members/{w.handle('absent')}/vertretung/",
            {
                "vertretung-deputy": w.handle("member"),
                "vertretung-until": (timezone.localdate() + timedelta(days=7)).isoformat(),
                "vertretung-reason": REASON,
            },
        ),
        _turnover("absent"),
    ),
]


def _cells(surface: str, roles: list[str]):
    return [
        pytest.param(role, action, id=f"{role}-{action.name}-{surface}")
        for role in roles
        for action in ACTIONS
    ]


def _assert_refused(response, role: str) -> None:
    """403 or 404; a visitor may instead be sent to the login page."""
    if response.status_code in (403, 404):
        return
    login = reverse("account_login")
    assert role == "visitor" and response.status_code == 302, (role, response.status_code)
    assert response["Location"].startswith(login), response["Location"]


# --- Service and view: refused to everyone but a moderator -----------------------------------


@pytest.mark.parametrize(("role", "action"), _cells("service", ROLES))
def test_the_service_refuses_and_changes_nothing(world, role, action):
    actor = _actor(world, role)
    before, audited = action.state(world), AuditEntry.objects.count()
    with pytest.raises((PermissionDenied, Http404)):
        action.service(actor, world)
    assert action.state(world) == before
    assert AuditEntry.objects.count() == audited


@pytest.mark.parametrize(("role", "action"), _cells("view", ROLES))
def test_the_view_refuses_and_changes_nothing(world, role, action):
    client = _client(world, role)
    url, data = action.request(world)
    before, audited = action.state(world), AuditEntry.objects.count()
    _assert_refused(client.post(url, data), role)
    assert action.state(world) == before
    assert AuditEntry.objects.count() == audited


# --- The moderator's row: every action works, so the refusals above are not vacuous ----------


@pytest.mark.parametrize(("role", "action"), _cells("service", ["moderator"]))
def test_the_moderator_acts_through_the_service(world, role, action):
    actor = world.user(role)
    before, audited = action.state(world), AuditEntry.objects.count()
    action.service(actor, world)
    assert action.state(world) != before
    assert AuditEntry.objects.count() > audited


@pytest.mark.parametrize(("role", "action"), _cells("view", ["moderator"]))
def test_the_moderator_acts_through_the_view(world, role, action):
    client = _client(world, role)  # the moderator has two-factor authentication
    url, data = action.request(world)
    before, audited = action.state(world), AuditEntry.objects.count()
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not response["Location"].startswith("/accounts/"), response["Location"]
    assert action.state(world) != before
    assert AuditEntry.objects.count() > audited


# --- Moderation pages (GET) ------------------------------------------------------------------

PAGES: list[tuple[str, Callable[[World], str]]] = [
    ("queue", lambda w: "/mod/"),
    ("audit_log", lambda w: "/mod/log/"),
    ("figures", lambda w: "/mod/figures/"),
    ("figures_csv", lambda w: "/mod/figures.csv"),
    ("merge_form", lambda w: f"/mod/thema/{w.pk['thread']}/zusammenfuehren/"),
    ("split_form", lambda w: f"/mod/thema/{w.pk['thread']}/teilen/"),
    ("collection_form", lambda w: "/collections/neu/"),
    ("draft_collection", lambda w: f"/collections/{w.collection().slug}/"),
    ("members_queue", lambda w: "/mod/members/"),
    ("invitations", lambda w: "/mod/invitations/"),
]
if HAS_SUSPENSION:
    PAGES.append(("suspend_form", lambda w: f"/mod/members/{w.handle('to_suspend')}/sperren/"))
PAGES.append(("departure_form", lambda w: f"/mod/members/{w.handle('to_depart')}/ausgeschieden/"))


def _pages(roles: list[str]):
    return [
        pytest.param(role, url, id=f"{role}-{name}-page") for role in roles for name, url in PAGES
    ]


@pytest.mark.parametrize(("role", "url"), _pages(ROLES))
def test_moderation_pages_are_refused(world, role, url):
    _assert_refused(_client(world, role).get(url(world)), role)


@pytest.mark.parametrize(("role", "url"), _pages(["moderator"]))
def test_moderation_pages_open_for_the_moderator(world, role, url):
    assert _client(world, role).get(url(world)).status_code == 200


# --- The admin --------------------------------------------------------------------------------

# Models whose rows are moderation decisions or moderated content: the admin must not offer a
# way around the services (reason, audit entry, statement to the person).
MODERATED_MODELS = [
    Post,
    Thread,
    Report,
    Appeal,
    AuditEntry,
    Collection,
    CollectionEntry,
    PostMove,
    PostRevision,
]
ADMINS = ["staff", "superuser"]


def _admin_request(world: World, role: str):
    request = RequestFactory().get("/admin/")
    request.user = world.user(role)
    return request


def _admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def _form_data(form) -> dict:
    """What a browser would send back for an unchanged admin form."""
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif value is None:
            data[name] = ""
        elif isinstance(value, list | tuple):
            data[name] = [str(v) for v in value]
        else:
            data[name] = str(value)
    return data


def _user_change(client: Client, user: User, **changes):
    url = _admin_url(User, "change", user.pk)
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    return form, client.post(url, {**_form_data(form), **changes})


@pytest.mark.parametrize(
    ("role", "model"),
    [
        pytest.param(role, model, id=f"{role}-{model.__name__}-admin")
        for role in ADMINS
        for model in MODERATED_MODELS
    ],
)
def test_moderated_models_are_absent_or_read_only_in_the_admin(world, role, model):
    client = _client(world, role)
    if not admin.site.is_registered(model):
        path = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(path).status_code == 404
        return
    model_admin = admin.site.get_model_admin(model)
    request = _admin_request(world, role)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


AUDIT_ATTEMPTS = ["add", "change", "delete", "delete_selected"]


@pytest.mark.parametrize(
    ("role", "attempt"),
    [
        pytest.param(role, attempt, id=f"{role}-audit_{attempt}-admin")
        for role in ADMINS
        for attempt in AUDIT_ATTEMPTS
    ],
)
def test_audit_entries_cannot_be_added_changed_or_deleted_in_the_admin(world, role, attempt):
    client = _client(world, role)
    entry = AuditEntry.objects.order_by("pk").first()
    before = list(AuditEntry.objects.order_by("pk").values())
    fields = {"action": "post.hidden", "reason": "Umgeschrieben.", "actor_label": "Niemand"}
    if attempt == "add":
        assert client.get(_admin_url(AuditEntry, "add")).status_code == 403
        assert client.post(_admin_url(AuditEntry, "add"), fields).status_code == 403
    elif attempt == "change":
        assert client.post(_admin_url(AuditEntry, "change", entry.pk), fields).status_code == 403
    elif attempt == "delete":
        url = _admin_url(AuditEntry, "delete", entry.pk)
        assert client.get(url).status_code == 403
        assert client.post(url, {"post": "yes"}).status_code == 403
    else:
        client.post(
            _admin_url(AuditEntry, "changelist"),
            {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"},
        )
    assert list(AuditEntry.objects.order_by("pk").values()) == before
    assert not admin.site.get_model_admin(AuditEntry).has_delete_permission(
        _admin_request(world, role), entry
    )


SUSPENSION_FIELDS = ("suspended_at", "suspended_until", "suspension_reason")


@pytest.mark.skipif(not HAS_SUSPENSION, reason="User has no suspension fields yet")
@pytest.mark.parametrize(
    ("role", "target", "changes"),
    [
        pytest.param(
            role,
            target,
            changes,
            id=f"{role}-{name}-admin",
        )
        for role in ADMINS
        for name, target, changes in [
            (
                "member_suspend",
                "to_suspend",
                {
                    "suspended_at_0": "01.01.2026",
                    "suspended_at_1": "10:00:00",
                    "suspended_at": "2026-01-01 10:00:00",
                    "suspension_reason": "Ohne Begründung im Admin.",
                },
            ),
            ("member_unsuspend", "to_unsuspend", {"suspended_at": "", "suspension_reason": ""}),
        ]
    ],
)
def test_suspension_fields_are_read_only_in_the_admin(world, role, target, changes):
    client = _client(world, role)
    user = world.user(target)
    before = User.objects.filter(pk=user.pk).values(*SUSPENSION_FIELDS).get()
    audited = AuditEntry.objects.count()
    form, response = _user_change(client, user, **changes)
    assert not set(SUSPENSION_FIELDS) & set(form.fields)
    assert response.status_code == 302  # saved: the other fields were valid
    assert User.objects.filter(pk=user.pk).values(*SUSPENSION_FIELDS).get() == before
    assert AuditEntry.objects.count() == audited


def _run_action(client: Client, model, action: str, pks: list[int]):
    return client.post(
        _admin_url(model, "changelist"), {"action": action, "_selected_action": pks, "index": 0}
    )


@pytest.mark.parametrize("role", ["staff", "viewer"])
def test_the_approve_membership_action_is_refused_to_operators(world, role):
    applicant = world.user("applicant")
    audited = AuditEntry.objects.count()
    _run_action(_client(world, role), User, "approve_membership", [applicant.pk])
    assert world.user("applicant").membership == User.Membership.PENDING
    assert AuditEntry.objects.count() == audited


def test_the_approve_membership_action_works_for_the_superuser(world):
    applicant = world.user("applicant")
    assert is_moderator(world.user("superuser"))
    _run_action(_client(world, "superuser"), User, "approve_membership", [applicant.pk])
    assert world.user("applicant").membership == User.Membership.APPROVED


def test_an_operator_who_may_only_look_cannot_publish_terms(world):
    draft = world.pk["terms_draft"]
    _run_action(_client(world, "viewer"), TermsVersion, "publish", [draft])
    assert TermsVersion.objects.get(pk=draft).published_at is None


def test_an_operator_with_the_change_permission_publishes_terms(world):
    """Publishing the terms is the operators' job, not the moderation's."""
    draft = world.pk["terms_draft"]
    _run_action(_client(world, "staff"), TermsVersion, "publish", [draft])
    assert TermsVersion.objects.get(pk=draft).published_at is not None


def _grant(world: World, route: str) -> dict:
    if route == "moderation_group":
        return {"groups": [str(Group.objects.get(name=MODERATORS_GROUP).pk)]}
    if route == "moderate_permission":
        moderate = Permission.objects.get(content_type__app_label="accounts", codename="moderate")
        held = world.user("staff").user_permissions.values_list("pk", flat=True)
        return {"user_permissions": [str(pk) for pk in [*held, moderate.pk]]}
    return {"is_superuser": "on"}


@pytest.mark.parametrize(
    "route",
    [
        pytest.param(route, id=f"staff-grant_{route}-admin")
        for route in ["moderation_group", "moderate_permission", "superuser"]
    ],
)
def test_an_operator_cannot_make_themselves_a_moderator_in_the_admin(world, route):
    _user_change(_client(world, "staff"), world.user("staff"), **_grant(world, route))
    assert not is_moderator(world.user("staff"))
