"""Who may read what, on every surface: roles by content by surfaces, from one table.

The write side (every moderation action, the moderation pages, the admin's moderated models)
is tests/forum/test_moderation_matrix.py; this file is the read side. Each cell asks one
surface whether a role can see one piece of content and compares the answer with ``TABLE``.
A refusal must not leak: pages answer 404 (never 403, never a redirect that carries a title),
lists, searches, feeds, digests and live sockets leave the content out.

Every row has a reader and a non-reader (``test_every_row_separates_readers``), so no cell
can pass because a probe is blind: the same probe sees the content for the roles in the table.

The content is built once for the module through the services, inside a transaction that is
rolled back at the end; its after-commit work (search indexing) runs at the end of the build.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from accounts.services import MODERATOR_PERMISSIONS
from forum.events import EVENT_TYPE, thread_group
from forum.models import Category, Collection, DigestDelivery, DigestSubscription, Post, Thread
from forum.models.digests import Section
from forum.services import collections, digests, moderation, posts
from forum.services.posts import NewAttachment
from forum.services.suspension import member_suspend
from tests.conftest import built_once
from tests.factories import (
    CategoryFactory,
    activate_totp,
    make_member,
    make_moderator,
    make_thread,
    make_user,
)

pytestmark = pytest.mark.django_db

ROLES = ["visitor", "pending", "member", "suspended", "moderator", "staff"]
EVERYONE = frozenset(ROLES)
SIGNED_IN = EVERYONE - {"visitor"}
MEMBERS = frozenset({"member", "moderator", "staff"})  # staff here: an operator who is a member
MODS = frozenset({"moderator"})
STAFF = frozenset({"staff"})
NOBODY: frozenset[str] = frozenset()

REASON = "Verstoß gegen die Netiquette, siehe Nr. 2."
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
LAYER = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


# --- The content ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """One piece of content as the probes look for it."""

    thread: int  # the thread it is in (or is)
    url: str  # its page
    word: str  # a word only it contains, for the search
    title: str = ""
    tag: str = ""  # a tag only it carries
    attachment: str = ""  # the download address of a file only it carries
    organisation: str = ""  # slug of the organisation whose page lists it


@dataclass
class World:
    pk: dict[str, int]
    pieces: dict[str, Piece]
    media: str
    digests: dict[str, str]  # role -> the rendered digest (text and HTML)
    clients: dict[str, Browser] = field(default_factory=dict)

    def user(self, role: str) -> User:
        return User.objects.get(pk=self.pk[role])


def _upload(name: str) -> NewAttachment:
    return NewAttachment(SimpleUploadedFile(name, PDF, content_type="application/pdf"))


def _thread_piece(thread: Thread, word: str, tag: str, attachment) -> Piece:
    return Piece(
        thread=thread.pk,
        url=thread.get_absolute_url(),
        word=word,
        title=thread.title,
        tag=tag,
        attachment=attachment.get_absolute_url() if attachment else "",
        organisation=thread.organisation.slug if thread.organisation_id else "",
    )


def _build_world(media: str) -> World:
    account_services.network_load_file(settings.NETWORK_FILE)
    public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
    internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
    backroom = CategoryFactory(visibility=Category.Visibility.MODERATORS)

    moderator = make_moderator()
    activate_totp(moderator)
    author = make_member(email="ben.koch@bochum.de", handle="ben-koch")
    member = make_member(email="jonas.becker@bochum.de", handle="jonas-becker")
    pending = make_user(email="paul@posteo.de", handle="paul")
    assert not pending.is_approved_member
    suspended = make_member(email="sven.ott@bochum.de", handle="sven-ott")
    member_suspend(moderator, member=suspended, until=None, reason=REASON)
    # An operator: a member of a municipality with the admin's model permissions, but none
    # of the moderation ones.
    staff = make_member(email="betrieb@bochum.de", handle="betrieb-bochum")
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    activate_totp(staff)
    ours = Permission.objects.filter(content_type__app_label__in=["accounts", "forum"])
    staff.user_permissions.set(ours.exclude(codename__in=MODERATOR_PERMISSIONS))

    def thread_with_file(category, title, word, tag, who=author, file_by=None):
        thread = make_thread(who, category=category, title=title, body=word, tags=[tag])
        reply = posts.post_create(
            file_by or who,
            thread=thread,
            body="Siehe Anhang.",
            attachment=_upload(f"{tag}.pdf"),
        )
        return thread, reply.attachments.get()

    opened, opened_file = thread_with_file(
        public, "Leerstand im Alphaquartier", "Alphawort", "Alphaschlagwort"
    )
    inner, inner_file = thread_with_file(
        internal, "Interna im Betaquartier", "Betawort", "Betaschlagwort"
    )
    back, back_file = thread_with_file(
        backroom, "Absprache zum Gammaquartier", "Gammawort", "Gammaschlagwort", who=moderator
    )

    # A thread whose held first post the moderation rejected: the thread is hidden.
    newcomer = make_member(email="nina.neu@bochum.de", handle="nina-neu")
    with override_settings(FORUM_HOLD_FIRST_POSTS=1):
        rejected = make_thread(
            newcomer,
            category=public,
            title="Werbung im Deltaquartier",
            body="Deltawort",
            tags=["Deltaschlagwort"],
            attachment=_upload("deltaschlagwort.pdf"),
        )
    rejected_file = rejected.posts.get(number=1).attachments.get()
    moderation.post_reject(moderator, post=rejected.posts.get(number=1), reason=REASON)
    assert Thread.objects.get(pk=rejected.pk).is_hidden

    # A reply hidden by the moderation and a reply waiting for approval, in the public thread.
    hidden = posts.post_create(
        author, thread=opened, body="Epsilonwort", attachment=_upload("epsilon.pdf")
    )
    moderation.post_hide(moderator, post=hidden, reason=REASON)
    waiting = make_member(email="olga.neu@bochum.de", handle="olga-neu")
    with override_settings(FORUM_HOLD_FIRST_POSTS=1):
        held = posts.post_create(
            waiting, thread=opened, body="Zetawort", attachment=_upload("zeta.pdf")
        )
    assert Post.objects.get(pk=held.pk).is_held

    # A public thread merged into the members' thread, and a reply split off from a public
    # thread into a new thread among the members: their old addresses lead on to titles.
    merged = make_thread(author, category=public, title="Doppelt im Kappaquartier")
    moderation.thread_merge(moderator, thread=merged, into=inner, reason=REASON)
    origin = make_thread(author, category=public, title="Lambdaquartier allgemein")
    posts.post_create(member, thread=origin, body="Interna zum Lambdaquartier.")
    split = moderation.thread_split(
        moderator,
        thread=origin,
        numbers=[2],
        title="Lambdaquartier intern",
        category=internal,
        kind=Thread.Kind.DISCUSSION,
        reason=REASON,
    )

    # Announcements with a date: the events page, the calendar subscription, a thread's .ics.
    soon = timezone.now() + timedelta(days=7)
    event_public = make_thread(
        moderator,
        category=public,
        kind=Thread.Kind.ANNOUNCEMENT,
        title="Werkstatt im Myquartier",
        event_start=soon,
        event_place="Bochum",
    )
    event_inner = make_thread(
        moderator,
        category=internal,
        kind=Thread.Kind.ANNOUNCEMENT,
        title="Interne Runde im Nyquartier",
        event_start=soon,
        event_place="Dortmund",
    )

    def collection(title, visibility, *, publish, tag=""):
        made = collections.collection_create(
            moderator, title=title, visibility=visibility, tags=[tag] if tag else None
        )
        collections.collection_add_thread(moderator, collection=made, thread=opened)
        if publish:
            collections.collection_set_status(
                moderator, collection=made, status=Collection.Status.PUBLISHED
            )
        return Piece(
            thread=opened.pk,
            url=made.get_absolute_url(),
            word=title.split()[-1],
            title=title,
            tag=tag.lower(),
        )

    pieces = {
        "public": _thread_piece(opened, "Alphawort", "alphaschlagwort", opened_file),
        "member_only": _thread_piece(inner, "Betawort", "betaschlagwort", inner_file),
        "mod_only": _thread_piece(back, "Gammawort", "gammaschlagwort", back_file),
        "hidden_thread": _thread_piece(rejected, "Deltawort", "deltaschlagwort", rejected_file),
        "hidden_post": Piece(
            thread=opened.pk,
            url=opened.get_absolute_url(),
            word="Epsilonwort",
            attachment=hidden.attachments.get().get_absolute_url(),
        ),
        "held_post": Piece(
            thread=opened.pk,
            url=opened.get_absolute_url(),
            word="Zetawort",
            attachment=held.attachments.get().get_absolute_url(),
        ),
        "collection_public": collection(
            "Praxisreader Omikron", Collection.Visibility.PUBLIC, publish=True
        ),
        "collection_member_only": collection(
            "Praxisreader Sigma", Collection.Visibility.MEMBERS, publish=True, tag="Sigmaschlagwort"
        ),
        "collection_draft": collection(
            "Praxisreader Tau", Collection.Visibility.PUBLIC, publish=False
        ),
        "profile": Piece(thread=opened.pk, url=author.get_absolute_url(), word=""),
        "event_public": _thread_piece(event_public, "Myquartier", "", None),
        "event_member_only": _thread_piece(event_inner, "Nyquartier", "", None),
        "merged_into_member_only": Piece(thread=merged.pk, url="", word=""),
        "split_into_member_only": Piece(
            thread=split.pk, url=origin.get_absolute_url(), word=f"/t/{split.pk}/"
        ),
    }

    people = {
        "moderator": moderator,
        "member": member,
        "pending": pending,
        "suspended": suspended,
        "staff": staff,
    }
    # Signed in once for the module (their sessions must outlive each test's rollback).
    clients = {"visitor": Browser(Client())}
    for role, user in people.items():
        clients[role] = Browser(Client())
        clients[role].client.force_login(user)
    people = {role: User.objects.get(pk=user.pk) for role, user in people.items()}
    return World(
        pk={
            **{role: user.pk for role, user in people.items()},
            "author": author.pk,
            "waiting": waiting.pk,
        },
        pieces=pieces,
        media=media,
        digests=_digests(people),
        clients=clients,
    )


def _digests(people: dict[str, User]) -> dict[str, str]:
    """Each role's digest over the last hour, built and rendered as the mail job does."""
    subscriptions = {
        role: digests.subscription_save(
            user,
            frequency=DigestSubscription.Frequency.DAILY,
            sections=list(Section.values),
            topics=DigestSubscription.Topics.ALL,
        )
        for role, user in people.items()
    }
    subscriptions["visitor"] = digests.public_confirm(
        digests.public_subscribe("leserin@example.org")
    )
    now = timezone.now()
    roles = list(subscriptions)
    deliveries = [
        DigestDelivery(
            subscription=subscriptions[role],
            window_start=now - timedelta(hours=1),
            window_end=now + timedelta(hours=1),
        )
        for role in roles
    ]
    rendered = {}
    for role, (_delivery, digest) in zip(
        roles, digests.build_digests(deliveries, now=now), strict=True
    ):
        message = digests.render_digest(digest)
        rendered[role] = message.body + message.alternatives[0][0]
    return rendered


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Built once, rolled back after the module's last test."""
    media = tempfile.mkdtemp(prefix="matrix-media-")
    with built_once(
        django_db_blocker, lambda: _build_world(media), MEDIA_ROOT=media, CHANNEL_LAYERS=LAYER
    ) as built:
        yield built


@pytest.fixture(autouse=True)
def _media_and_layer(world, settings):
    settings.MEDIA_ROOT = world.media
    settings.CHANNEL_LAYERS = LAYER


class Browser:
    """A role's signed-in client. Nothing changes between cells (each one's writes, such as
    read marks, are rolled back), so a page several cells look at is rendered once."""

    def __init__(self, client: Client) -> None:
        self.client, self.seen = client, {}

    def get(self, url: str, *, follow: bool = False):
        if (url, follow) not in self.seen:
            self.seen[url, follow] = self.client.get(url, follow=follow)
        return self.seen[url, follow]


def _client(world: World, role: str) -> Browser:
    return world.clients[role]


# --- The probes: does this role see this piece here? -------------------------------------------

Probe = Callable[[World, str, Piece], bool]


def _page(client: Browser, url: str) -> bool:
    """200 is seen, 404 is not; anything else (403, a redirect) gives existence away."""
    response = client.get(url)
    assert response.status_code in (200, 404), (url, response.status_code)
    return response.status_code == 200


def _shows(client: Browser, url: str, needle: str) -> bool:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return needle in response.content.decode()


def thread_link(piece: Piece) -> str:
    return f'"/t/{piece.thread}/'


def probe_detail(world, role, piece) -> bool:
    """The thread (or collection, or profile) page; for a post, its text on the thread page."""
    client = _client(world, role)
    if piece.title or piece.url.startswith("/u/"):
        return _page(client, piece.url)
    return _shows(client, piece.url, piece.word)


def probe_short_url(world, role, piece) -> bool:
    """/t/<id>/ redirects to the canonical address, whose slug is the title: only for readers."""
    response = _client(world, role).get(f"/t/{piece.thread}/")
    assert response.status_code in (301, 404), response.status_code
    return response.status_code == 301


def probe_moved_post_link(world, role, piece) -> bool:
    """An old link to a post that was split off (/t/<old>/?beitrag=2) leads to its new thread
    only for its readers; the others stay on the old thread."""
    old = piece.url.split("/")[2]
    response = _client(world, role).get(f"/t/{old}/?beitrag=2")
    assert response.status_code == 302, response.status_code
    return piece.word in response["Location"]


def probe_moved_post_map(world, role, piece) -> bool:
    """The old thread's page maps old #post-N anchors to new addresses: readers' only."""
    return _shows(_client(world, role), piece.url, piece.word)


def probe_home(world, role, piece) -> bool:
    return _shows(_client(world, role), "/", thread_link(piece))


def probe_category(world, role, piece) -> bool:
    client = _client(world, role)
    category = Thread.objects.select_related("category").get(pk=piece.thread).category
    response = client.get(category.get_absolute_url())
    assert response.status_code in (200, 404), response.status_code
    return response.status_code == 200 and thread_link(piece) in response.content.decode()


def probe_search(world, role, piece) -> bool:
    """A word only this piece contains finds it (its thread's, or collection's, address)."""
    target = f'"{piece.url}' if piece.url.startswith("/collections/") else thread_link(piece)
    return _shows(_client(world, role), f"/search/?q={piece.word}", target)


def probe_similar(world, role, piece) -> bool:
    """The new-thread form's "maybe already answered" list, asked with the thread's title."""
    return _shows(
        _client(world, role), f"/search/aehnlich/?titel={piece.title}", thread_link(piece)
    )


def probe_events(world, role, piece) -> bool:
    return _shows(_client(world, role), "/termine/", thread_link(piece))


def probe_calendar(world, role, piece) -> bool:
    """The calendar subscription (calendar apps do not sign in: public events only)."""
    return _shows(_client(world, role), "/termine.ics", piece.word)


def probe_thread_calendar(world, role, piece) -> bool:
    return _page(_client(world, role), f"/t/{piece.thread}/termin.ics")


def probe_new_posts(world, role, piece) -> bool:
    """The posts a thread page loads live ("N neue Beiträge - anzeigen")."""
    response = _client(world, role).get(f"/t/{piece.thread}/neue-beitraege/?nach=0")
    assert response.status_code in (200, 404), response.status_code
    return response.status_code == 200 and piece.word in response.content.decode()


def probe_collection_list(world, role, piece) -> bool:
    return _shows(_client(world, role), "/collections/", f'"{piece.url}')


def probe_tag_page(world, role, piece) -> bool:
    return _page(_client(world, role), f"/tags/{piece.tag}/")


def probe_tag_list(world, role, piece) -> bool:
    return _shows(_client(world, role), "/tags/", f'"/tags/{piece.tag}/"')


def probe_tag_suggest(world, role, piece) -> bool:
    response = _client(world, role).get(f"/tags/vorschlaege/?q={piece.tag[:4]}")
    return any(name.lower() == piece.tag for name in json.loads(response.content)["tags"])


def probe_tag_filter(world, role, piece) -> bool:
    """The search's tag filter: an unknown tag is an error; a known one filters (no error)."""
    response = _client(world, role).get(f"/search/?schlagwort={piece.tag}")
    assert response.status_code == 200
    form = response.context["form"]
    known = "schlagwort" not in form.errors
    listed = thread_link(piece) in response.content.decode()
    assert listed <= known, "a thread listed under a tag the page calls unknown"
    return known


def probe_latest_feed(world, role, piece) -> bool:
    needle = piece.title if piece.title else piece.word
    url = "/feeds/sammlungen/" if piece.url.startswith("/collections/") else "/feeds/themen/"
    return _shows(_client(world, role), url, needle)


def probe_thread_feed(world, role, piece) -> bool:
    """The thread's own feed; for a post, its text in the thread's feed."""
    client = _client(world, role)
    if piece.title:
        return _page(client, f"/feeds/t/{piece.thread}/")
    return _shows(client, f"/feeds/t/{piece.thread}/", piece.word)


def probe_tag_feed(world, role, piece) -> bool:
    return _page(_client(world, role), f"/feeds/tags/{piece.tag}/")


def probe_organisation(world, role, piece) -> bool:
    return _shows(_client(world, role), f"/o/{piece.organisation}/", thread_link(piece))


def probe_digest(world, role, piece) -> bool:
    text = world.digests[role]
    if piece.url.startswith("/collections/"):
        return piece.title in text
    return f"/t/{piece.thread}/" in text


def probe_attachment(world, role, piece) -> bool:
    return _page(_client(world, role), piece.attachment)


def probe_socket(world, role, piece) -> bool:
    """Subscribe the page's socket to the thread: only readers join its group (and so get its
    live events); a visitor's socket is closed at once."""

    async def run() -> bool:
        headers = [(b"origin", b"http://127.0.0.1:8000")]
        if role != "visitor":
            client = Client()
            await sync_to_async(client.force_login)(await sync_to_async(world.user)(role))
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            headers.append((b"cookie", f"{settings.SESSION_COOKIE_NAME}={cookie}".encode()))
        communicator = WebsocketCommunicator(_application(), "/ws/live/", headers=headers)
        connected, _ = await communicator.connect()
        assert connected
        if role == "visitor":
            assert await communicator.receive_output(timeout=3) == {
                "type": "websocket.close",
                "code": 4401,
            }
            return False
        await communicator.send_json_to({"type": "subscribe", "thread": piece.thread})
        answer = await communicator.receive_json_from(timeout=3)
        assert answer in (
            {"type": "subscribed", "payload": {"thread": piece.thread}},
            {"type": "error", "payload": {"reason": "not-found"}},
        ), answer
        # What the thread's readers are sent live reaches this socket only after "subscribed".
        event = {"thread": piece.thread, "number": 99}
        await get_channel_layer().group_send(
            thread_group(piece.thread),
            {"type": EVENT_TYPE, "kind": "post.created", "payload": event},
        )
        if answer["type"] == "subscribed":
            received = await communicator.receive_json_from(timeout=3)
            assert received == {"type": "post.created", "payload": event}
        else:
            assert await communicator.receive_nothing(timeout=0.2)
        await communicator.disconnect()
        return answer["type"] == "subscribed"

    # The world lives in the test's transaction on this thread's connection: channels must not
    # close it between messages (its test communicator only pauses that while it waits).
    with mock.patch("channels.db.close_old_connections", lambda: None):
        return async_to_sync(run)()


def _application():
    from config.asgi import application

    return application


def probe_profile(world, role, piece) -> bool:
    return _page(_client(world, role), piece.url)


def probe_directory(world, role, piece) -> bool:
    """The member directory: a visitor is asked to sign in, others without membership told
    why (403 names no one)."""
    response = _client(world, role).get("/u/")
    if role == "visitor":
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
        return False
    assert response.status_code in (200, 403), response.status_code
    return response.status_code == 200


def _admin_probe(path: str) -> Probe:
    def probe(world, role, piece) -> bool:
        """The admin is the operators' (is_staff): a visitor is sent to the site's sign-in
        (never to the admin's own password form), everyone else refused with 403."""
        response = _client(world, role).get(path, follow=True)
        if role == "visitor":
            assert response.redirect_chain[-1][0].startswith("/accounts/login/?next=/admin/")
            return False
        assert response.status_code in (200, 403), response.status_code
        return response.status_code == 200

    return probe


PROBES: dict[str, Probe] = {
    "view": probe_detail,
    "short_url": probe_short_url,
    "moved_post_link": probe_moved_post_link,
    "moved_post_map": probe_moved_post_map,
    "home_list": probe_home,
    "category_list": probe_category,
    "collection_list": probe_collection_list,
    "search": probe_search,
    "live_fetch": probe_new_posts,
    "similar_titles": probe_similar,
    "events": probe_events,
    "calendar": probe_calendar,
    "thread_calendar": probe_thread_calendar,
    "tag_page": probe_tag_page,
    "tag_list": probe_tag_list,
    "tag_suggest": probe_tag_suggest,
    "search_tag_filter": probe_tag_filter,
    "feed": probe_latest_feed,
    "thread_feed": probe_thread_feed,
    "tag_feed": probe_tag_feed,
    "organisation": probe_organisation,
    "digest": probe_digest,
    "socket": probe_socket,
    "attachment": probe_attachment,
    "directory": probe_directory,
    "admin_index": _admin_probe("/admin/"),
    "admin_users": _admin_probe("/admin/accounts/user/"),
    "admin_categories": _admin_probe("/admin/forum/category/"),
}

# --- The table: who sees what where -------------------------------------------------------------

FEEDS_ARE_PUBLIC = {"feed": EVERYONE, "thread_feed": EVERYONE, "tag_feed": EVERYONE}
NO_FEED = {"feed": NOBODY, "thread_feed": NOBODY, "tag_feed": NOBODY}


def _thread_row(readers: frozenset[str], **overrides: Any) -> dict[str, frozenset[str]]:
    row = dict.fromkeys(
        [
            "view",
            "short_url",
            "home_list",
            "category_list",
            "search",
            "similar_titles",
            "live_fetch",
            "tag_page",
            "tag_list",
            "tag_suggest",
            "search_tag_filter",
            "organisation",
            "digest",
            "attachment",
        ],
        readers,
    )
    row["socket"] = readers - {"visitor"}  # sockets are for signed-in people
    return {**row, **NO_FEED, **overrides}


TABLE: dict[str, dict[str, frozenset[str]]] = {
    "public": _thread_row(EVERYONE, **FEEDS_ARE_PUBLIC),
    "member_only": _thread_row(MEMBERS),
    "mod_only": _thread_row(MODS),
    # Hidden threads are for the moderation's eyes; digests carry none at all. (This one was
    # hidden by rejecting its held first post, whose text is then gone for everyone.)
    "hidden_thread": _thread_row(MODS, digest=NOBODY, live_fetch=NOBODY),
    # Posts hidden or waiting for approval, inside a public thread (a held post's author sees
    # it too: test_the_author_of_a_held_post_sees_it_and_its_file).
    "hidden_post": {
        "view": MODS,
        "live_fetch": MODS,
        "search": NOBODY,
        "thread_feed": NOBODY,
        "attachment": MODS,
    },
    "held_post": {
        "view": MODS,
        "live_fetch": MODS,
        "search": NOBODY,
        "thread_feed": NOBODY,
        "attachment": MODS,
    },
    "collection_public": {
        "view": EVERYONE,
        "collection_list": EVERYONE,
        "search": EVERYONE,
        "feed": EVERYONE,
        "digest": EVERYONE,
    },
    "collection_member_only": {
        "view": MEMBERS,
        "collection_list": MEMBERS,
        "search": MEMBERS,
        "feed": NOBODY,
        "digest": MEMBERS,
        "tag_page": MEMBERS,
        "tag_feed": NOBODY,
    },
    # Moderators find drafts too: they curate them.
    "collection_draft": {
        "view": MODS,
        "collection_list": MODS,
        "search": MODS,
        "feed": NOBODY,
        "digest": NOBODY,
    },
    "profile": {"view": MEMBERS, "directory": MEMBERS},
    "event_public": {"events": EVERYONE, "calendar": EVERYONE, "thread_calendar": EVERYONE},
    "event_member_only": {"events": MEMBERS, "calendar": NOBODY, "thread_calendar": MEMBERS},
    # Old addresses of merged threads and split-off posts redirect to the new thread (whose
    # address carries its title) only for those who may read it.
    "merged_into_member_only": {"short_url": MEMBERS},
    "split_into_member_only": {"moved_post_link": MEMBERS, "moved_post_map": MEMBERS},
    "admin": {"admin_index": STAFF, "admin_users": STAFF, "admin_categories": STAFF},
}


def _cells():
    return [
        pytest.param(role, scope, surface, id=f"{role}-{scope}-{surface}")
        for scope, row in TABLE.items()
        for surface in row
        for role in ROLES
    ]


@pytest.mark.parametrize(("role", "scope", "surface"), _cells())
def test_access(world, role, scope, surface):
    piece = world.pieces.get(scope) or world.pieces["public"]
    expected = role in TABLE[scope][surface]
    seen = PROBES[surface](world, role, piece)
    assert seen == expected, f"{role} {'does not see' if expected else 'sees'} {scope} on {surface}"


def test_every_probe_both_sees_and_misses():
    """Each surface has cells where someone sees and cells where someone does not, so a probe
    blind to everything (or one that sees everything) fails the cells of the other kind."""
    for surface in PROBES:
        columns = [row[surface] for row in TABLE.values() if surface in row]
        assert any(columns), f"nobody ever sees anything on {surface}"
        assert any(c != EVERYONE for c in columns), f"everyone always sees everything on {surface}"


def test_the_author_of_a_held_post_sees_it_and_its_file(world):
    """Besides the moderation, the one person who sees a post waiting for approval."""
    client = Client()
    client.force_login(world.user("waiting"))
    held = world.pieces["held_post"]
    assert held.word in client.get(held.url).content.decode()
    assert client.get(held.attachment).status_code == 200
