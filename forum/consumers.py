from __future__ import annotations

import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from redis.exceptions import RedisError

from .events import thread_group, user_group

CLOSE_UNAUTHENTICATED = 4401
# The live channel is unavailable (its Redis is down): the client polls meanwhile.
CLOSE_UNAVAILABLE = 4503

logger = logging.getLogger(__name__)


@database_sync_to_async
def _may_read_thread(user, thread_id: int) -> bool:
    from .permissions import can_view_thread
    from .selectors import thread_for_page

    thread = thread_for_page(thread_id)
    return thread is not None and can_view_thread(user, thread)


@database_sync_to_async
def _fresh_user(user):
    """The person as the database knows them now (None when deactivated or deleted): the
    scope's user was read at connect and misses a suspension since."""
    from accounts.models import User

    return User.objects.filter(pk=user.pk, is_active=True).first()


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """One socket per page: the signed-in person's own group, plus at most one thread group
    (the thread on screen), joined only after checking that the person may read it."""

    async def __call__(self, scope, receive, send):
        """A channel layer that fails under an open socket (Redis restarting) ends this socket
        with 4503 instead of an error: the client polls and reconnects later."""
        self._accepted = self._closed = False
        try:
            await super().__call__(scope, receive, send)
        except (RedisError, OSError) as exc:
            logger.warning("Live-Verbindung wegen des Channel-Layers beendet: %r", exc)
            if self._closed:
                return
            try:
                if not self._accepted:
                    await send({"type": "websocket.accept"})
                await send({"type": "websocket.close", "code": CLOSE_UNAVAILABLE})
            except Exception:  # noqa: S110  the socket is already gone
                pass

    async def accept(self, subprotocol=None, headers=None) -> None:
        await super().accept(subprotocol=subprotocol, headers=headers)
        self._accepted = True

    async def close(self, code=None, reason=None) -> None:
        await super().close(code=code, reason=reason)
        self._closed = True

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept, then close with our code: a refused handshake would reach the browser
            # only as 1006, and the client could not tell "sign in first" from a network error.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.thread_group = None
        self.thread_id = None
        self.groups_joined = []
        try:
            await self.channel_layer.group_add(user_group(user.pk), self.channel_name)
        except Exception as exc:  # the layer's Redis is down or restarting
            logger.warning("Live-Verbindung ohne Channel-Layer abgelehnt: %r", exc)
            await self.accept()
            await self.close(code=CLOSE_UNAVAILABLE)
            return
        self.groups_joined = [user_group(user.pk)]
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            try:
                await self.channel_layer.group_discard(group, self.channel_name)
            except Exception as exc:  # Redis down: the membership expires on its own
                logger.warning("Gruppe %s nicht verlassen: %r", group, exc)
                return

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong"})
        elif kind == "subscribe":
            await self._subscribe(content.get("thread"))

    async def _subscribe(self, thread_id) -> None:
        if not isinstance(thread_id, int) or isinstance(thread_id, bool):
            await self.send_json({"type": "error", "payload": {"reason": "invalid"}})
            return
        user = await _fresh_user(self.user)
        if user is None:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        if not await _may_read_thread(self.user, thread_id):
            # The same answer for "does not exist" and "not yours to read".
            await self.send_json({"type": "error", "payload": {"reason": "not-found"}})
            return
        if self.thread_group is not None:
            await self.channel_layer.group_discard(self.thread_group, self.channel_name)
            self.groups_joined.remove(self.thread_group)
        self.thread_group, self.thread_id = thread_group(thread_id), thread_id
        self.groups_joined.append(self.thread_group)
        await self.channel_layer.group_add(self.thread_group, self.channel_name)
        await self.send_json({"type": "subscribed", "payload": {"thread": thread_id}})

    async def forum_event(self, event: dict) -> None:
        kind = event["kind"]
        if kind == "session.end":  # the person was deactivated
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        if kind == "session.recheck":  # suspended or lifted: still signed in, maybe less
            user = await _fresh_user(self.user)
            if user is None:
                await self.close(code=CLOSE_UNAUTHENTICATED)
                return
            self.user = user
            if self.thread_id is not None:
                await self._leave_unless_readable(self.thread_id)
            return
        if kind == "thread.recheck":  # hidden or moved: may the reader still read it?
            thread_id = event["payload"]["thread"]
            if self.thread_group == thread_group(thread_id):
                await self._leave_unless_readable(thread_id)
            return
        await self.send_json({"type": kind, "payload": event["payload"]})

    async def _leave_unless_readable(self, thread_id: int) -> None:
        if not await _may_read_thread(self.user, thread_id):
            await self.channel_layer.group_discard(self.thread_group, self.channel_name)
            self.groups_joined.remove(self.thread_group)
            self.thread_group = self.thread_id = None
