"""The page's WebSocket: authenticated by the session, origin-checked, private groups.

The tests talk to the whole ASGI application (origin validator, session authentication,
routing) with a real session cookie, and produce events the way the product does: through
the services, with the after-commit hooks running for real (transactional database).
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from config.asgi import application
from forum.events import send_event, user_group

ORIGIN = (b"origin", b"http://127.0.0.1:8000")
TIMEOUT = 3
QUIET = 0.3  # how long "nothing arrives" is watched for


@pytest.fixture(autouse=True)
def _in_memory_channel_layer(settings):
    """One process: the in-memory layer, fresh for every test (also when REDIS_URL is set)."""
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


async def _session_cookie(user) -> bytes:
    from django.test import Client

    client = Client()
    await sync_to_async(client.force_login)(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


async def _connect(user) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[ORIGIN, (b"cookie", await _session_cookie(user))]
    )
    connected, _ = await communicator.connect()
    assert connected
    # Accepted and kept open: a signed-in person is not closed with 4401.
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    return communicator


async def _subscribe(communicator: WebsocketCommunicator, thread) -> dict:
    await communicator.send_json_to({"type": "subscribe", "thread": thread})
    return await communicator.receive_json_from(timeout=TIMEOUT)


async def _reply(author, thread, body: str = "Eine Antwort."):
    from forum.services.posts import post_create

    return await sync_to_async(post_create)(author, thread=thread, body=body)


def _load_network():
    from accounts.services import network_load_file

    network_load_file(settings.NETWORK_FILE)


def _forum() -> SimpleNamespace:
    """People of every kind and a thread of every visibility (built through the services)."""
    from forum.models import Category, Thread
    from tests.factories import CategoryFactory, make_member, make_moderator, make_thread, make_user

    _load_network()
    anna = make_member(email="anna.schmidt@bochum.de", handle="anna-schmidt")
    jonas = make_member(email="jonas.becker@bochum.de", handle="jonas-becker")
    lea = make_member(email="lea.wolf@bochum.de", handle="lea-wolf")
    pending = make_user(email="paul@example.com", handle="paul-pending")
    assert not pending.is_approved_member
    moderator = make_moderator()
    public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
    members = CategoryFactory(visibility=Category.Visibility.MEMBERS)
    staff = CategoryFactory(visibility=Category.Visibility.MODERATORS)
    hidden = make_thread(anna, category=public, title="Ausgeblendetes Thema")
    Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)
    hidden.refresh_from_db()
    return SimpleNamespace(
        anna=anna,
        jonas=jonas,
        lea=lea,
        pending=pending,
        moderator=moderator,
        # Anna starts the public and the members' threads, so she watches them (discussions:
        # answers to a question of hers would be "answers", not replies).
        public=make_thread(
            anna, category=public, kind="discussion", title="Leerstand in der Innenstadt"
        ),
        other_public=make_thread(
            anna, category=public, kind="discussion", title="Zwischennutzung im Quartier"
        ),
        members=make_thread(anna, category=members, title="Interner Austausch"),
        staff=make_thread(moderator, category=staff, title="Moderationsabsprache"),
        hidden=hidden,
    )


@pytest_asyncio.fixture
async def forum(transactional_db):
    return await sync_to_async(_forum)()


# --- Who may connect -------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_member_receives_events_for_their_own_group_only():
    from tests.factories import make_member

    await sync_to_async(_load_network)()
    alice = await sync_to_async(make_member)(email="alice@bochum.de", handle="alice")
    bob = await sync_to_async(make_member)(email="bob@bochum.de", handle="bob")
    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[ORIGIN, (b"cookie", await _session_cookie(alice))]
    )
    connected, _ = await communicator.connect()
    assert connected
    await sync_to_async(send_event)(user_group(bob.pk), "notification", {"text": "für Bob"})
    await sync_to_async(send_event)(user_group(alice.pk), "notification", {"text": "für Alice"})
    message = await communicator.receive_json_from(timeout=2)
    assert message == {"type": "notification", "payload": {"text": "für Alice"}}
    assert await communicator.receive_nothing(timeout=0.2)
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_anonymous_sockets_are_closed():
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=[ORIGIN])
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_forged_session_cookie_counts_as_anonymous():
    communicator = WebsocketCommunicator(
        application,
        "/ws/live/",
        headers=[ORIGIN, (b"cookie", f"{settings.SESSION_COOKIE_NAME}=erfunden".encode())],
    )
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_deactivated_person_is_closed_on_connect_and_on_subscribe(forum):
    from accounts.models import User

    cookie = await _session_cookie(forum.jonas)
    still_open = await _connect(forum.jonas)
    await sync_to_async(User.objects.filter(pk=forum.jonas.pk).update)(is_active=False)

    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect()
    assert connected
    assert await communicator.receive_output() == {"type": "websocket.close", "code": 4401}

    # A socket opened before the deactivation is closed at its next subscription.
    await still_open.send_json_to({"type": "subscribe", "thread": forum.public.pk})
    assert await still_open.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4401,
    }


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[(b"origin", b"https://evil.example.com")]
    )
    connected, _ = await communicator.connect()
    assert not connected


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "origin",
    [
        b"https://evil.example.com",
        b"http://127.0.0.1.evil.example.com",
        b"http://localhost.evil.example.com:8000",
        b"null",
        None,  # no Origin header at all
    ],
)
async def test_a_signed_in_person_from_a_foreign_origin_is_refused(forum, origin):
    headers = [(b"cookie", await _session_cookie(forum.jonas))]
    if origin is not None:
        headers.append((b"origin", origin))
    communicator = WebsocketCommunicator(application, "/ws/live/", headers=headers)
    connected, _ = await communicator.connect()
    assert not connected


# --- Whose events arrive ---------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_someone_elses_notifications_never_arrive(forum):
    """Lea replies; Anna (who watches the thread) hears of it, Jonas on his socket does not."""
    anna = await _connect(forum.anna)
    jonas = await _connect(forum.jonas)
    await _reply(forum.lea, forum.public)
    message = await anna.receive_json_from(timeout=TIMEOUT)
    assert message["type"] == "notification"
    assert await jonas.receive_nothing(timeout=QUIET)
    assert await anna.receive_nothing(timeout=QUIET)
    await anna.disconnect()
    await jonas.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_reply_notifies_a_watcher_with_unread_count_and_text(forum):
    from forum.models import Notification

    anna = await _connect(forum.anna)
    await _reply(forum.jonas, forum.public)
    message = await anna.receive_json_from(timeout=TIMEOUT)
    notification = await sync_to_async(Notification.objects.get)(recipient=forum.anna)
    assert message["type"] == "notification"
    payload = message["payload"]
    assert payload["id"] == notification.pk
    assert payload["unread"] == 1
    assert payload["text"] == "Jonas Becker hat in „Leerstand in der Innenstadt“ geantwortet"
    assert payload["url"] == f"/t/{forum.public.pk}/?beitrag=2"
    assert payload["updated"] == notification.updated_at.isoformat()

    # A second reply gathers into the same unread row: the count of rows stays one.
    await _reply(forum.lea, forum.public)
    message = await anna.receive_json_from(timeout=TIMEOUT)
    assert message["payload"]["id"] == notification.pk
    assert message["payload"]["unread"] == 1
    assert message["payload"]["text"] == "2 neue Antworten in „Leerstand in der Innenstadt“"
    assert message["payload"]["url"] == f"/t/{forum.public.pk}/?beitrag=3"

    # Another thread is another row.
    await _reply(forum.jonas, forum.other_public)
    message = await anna.receive_json_from(timeout=TIMEOUT)
    assert message["payload"]["unread"] == 2
    assert "Zwischennutzung im Quartier" in message["payload"]["text"]
    assert await anna.receive_nothing(timeout=QUIET)
    await anna.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_an_at_mention_notifies_the_person_mentioned(forum):
    jonas = await _connect(forum.jonas)
    await _reply(forum.anna, forum.public, body="Was meinen Sie, @jonas-becker?")
    message = await jonas.receive_json_from(timeout=TIMEOUT)
    assert message["type"] == "notification"
    assert message["payload"]["unread"] == 1
    assert (
        message["payload"]["text"]
        == "Anna Schmidt hat Sie in „Leerstand in der Innenstadt“ erwähnt"
    )
    assert message["payload"]["url"] == f"/t/{forum.public.pk}/?beitrag=2"
    assert await jonas.receive_nothing(timeout=QUIET)
    await jonas.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_mention_in_a_thread_the_person_may_not_read_stays_silent(forum):
    pending = await _connect(forum.pending)
    await _reply(forum.anna, forum.members, body="Kennt jemand @paul-pending?")
    assert await pending.receive_nothing(timeout=QUIET)
    await pending.disconnect()


# --- Thread subscriptions --------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_public_thread_subscription_receives_new_posts(forum):
    jonas = await _connect(forum.jonas)  # does not watch the thread: no notification
    assert await _subscribe(jonas, forum.public.pk) == {
        "type": "subscribed",
        "payload": {"thread": forum.public.pk},
    }
    await _reply(forum.lea, forum.public)
    assert await jonas.receive_json_from(timeout=TIMEOUT) == {
        "type": "post.created",
        "payload": {"thread": forum.public.pk, "number": 2},
    }
    assert await jonas.receive_nothing(timeout=QUIET)

    # Anonymous readers have no socket; the pending person may read public threads.
    pending = await _connect(forum.pending)
    assert (await _subscribe(pending, forum.public.pk))["type"] == "subscribed"
    await _reply(forum.lea, forum.public)
    expected = {"type": "post.created", "payload": {"thread": forum.public.pk, "number": 3}}
    assert await jonas.receive_json_from(timeout=TIMEOUT) == expected
    assert await pending.receive_json_from(timeout=TIMEOUT) == expected
    await jonas.disconnect()
    await pending.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_new_subscription_replaces_the_previous_one(forum):
    jonas = await _connect(forum.jonas)
    assert (await _subscribe(jonas, forum.public.pk))["type"] == "subscribed"
    assert (await _subscribe(jonas, forum.other_public.pk))["type"] == "subscribed"
    await _reply(forum.lea, forum.public)
    assert await jonas.receive_nothing(timeout=QUIET)
    await _reply(forum.lea, forum.other_public)
    assert await jonas.receive_json_from(timeout=TIMEOUT) == {
        "type": "post.created",
        "payload": {"thread": forum.other_public.pk, "number": 2},
    }
    await jonas.disconnect()


NOT_FOUND = {"type": "error", "payload": {"reason": "not-found"}}


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("reader", "thread", "writer"),
    [
        ("pending", "members", "anna"),  # members-only category, person not yet a member
        ("jonas", "staff", "moderator"),  # moderators-only category, a member
        ("jonas", "hidden", "moderator"),  # a hidden thread, a member
        ("anna", "hidden", "moderator"),  # a hidden thread, even its own author
    ],
)
async def test_a_private_thread_subscription_is_refused_and_stays_silent(
    forum, reader, thread, writer
):
    thread = getattr(forum, thread)
    communicator = await _connect(getattr(forum, reader))
    assert await _subscribe(communicator, thread.pk) == NOT_FOUND
    # The socket stays usable, and new posts in that thread do not reach it.
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await _reply(getattr(forum, writer), thread)
    assert await communicator.receive_nothing(timeout=QUIET)
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("reader", "thread"),
    [("jonas", "members"), ("moderator", "staff"), ("moderator", "hidden")],
)
async def test_those_who_may_read_a_private_thread_may_subscribe(forum, reader, thread):
    thread = getattr(forum, thread)
    communicator = await _connect(getattr(forum, reader))
    assert await _subscribe(communicator, thread.pk) == {
        "type": "subscribed",
        "payload": {"thread": thread.pk},
    }
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_missing_thread_answers_like_a_private_one(forum):
    communicator = await _connect(forum.jonas)
    assert await _subscribe(communicator, forum.public.pk + 1000) == NOT_FOUND
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("thread", [None, "1", 1.0, True, [1], {"id": 1}])
async def test_a_malformed_subscription_is_answered_as_invalid(forum, thread):
    communicator = await _connect(forum.jonas)
    message = {"type": "subscribe"} if thread is None else {"type": "subscribe", "thread": thread}
    await communicator.send_json_to(message)
    assert await communicator.receive_json_from(timeout=TIMEOUT) == {
        "type": "error",
        "payload": {"reason": "invalid"},
    }
    await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("thread", [-1, 0, 2**63, 2**70])
async def test_an_impossible_thread_number_is_not_found(forum, thread):
    """Numbers outside the id column's range must not crash the consumer."""
    communicator = await _connect(forum.jonas)
    assert await _subscribe(communicator, thread) == NOT_FOUND
    await communicator.disconnect()


# --- Access that changes while a socket is open -----------------------------------------------


def _hide(thread) -> None:
    """Hide a thread with a save (as a moderation service would), firing the live signals."""
    thread.is_hidden = True
    thread.save(update_fields=["is_hidden"])


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_hiding_a_thread_stops_new_posts_reaching_readers_who_lost_access(forum):
    jonas = await _connect(forum.jonas)
    moderator = await _connect(forum.moderator)
    assert (await _subscribe(jonas, forum.public.pk))["type"] == "subscribed"
    assert (await _subscribe(moderator, forum.public.pk))["type"] == "subscribed"
    await sync_to_async(_hide)(forum.public)
    assert await jonas.receive_nothing(timeout=QUIET)  # the recheck itself sends nothing
    await _reply(forum.moderator, forum.public, "Intern weiter.")
    expected = {"type": "post.created", "payload": {"thread": forum.public.pk, "number": 2}}
    # The moderator may still read the hidden thread; Jonas left its group.
    assert await moderator.receive_json_from(timeout=TIMEOUT) == expected
    assert await jonas.receive_nothing(timeout=QUIET)
    await jonas.disconnect()
    await moderator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_deactivating_a_person_closes_their_open_sockets(forum):
    jonas = await _connect(forum.jonas)

    def deactivate():
        forum.jonas.is_active = False
        forum.jonas.save(update_fields=["is_active"])

    await sync_to_async(deactivate)()
    assert await jonas.receive_output(timeout=TIMEOUT) == {"type": "websocket.close", "code": 4401}
