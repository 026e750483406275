"""The page's WebSocket: authenticated by the session, origin-checked, private groups."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings

from config.asgi import application
from forum.events import send_event, user_group

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


async def _session_cookie(user) -> bytes:
    from django.test import Client

    client = Client()
    await sync_to_async(client.force_login)(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}".encode()


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
async def test_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[(b"origin", b"https://evil.example.com")]
    )
    connected, _ = await communicator.connect()
    assert not connected


def _load_network():
    from accounts.services import network_load_file

    network_load_file(settings.NETWORK_FILE)
