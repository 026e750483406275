from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .events import user_group

CLOSE_UNAUTHENTICATED = 4401


class LiveConsumer(AsyncJsonWebsocketConsumer):
    """One socket per page: it joins the signed-in person's own group and forwards events."""

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated or not user.is_active:
            # Accept, then close with our code: a refused handshake would reach the browser
            # only as 1006, and the client could not tell "sign in first" from a network error.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.groups_joined = [user_group(user.pk)]
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs) -> None:
        # The client only listens; a ping keeps proxies from closing an idle socket.
        if content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def forum_event(self, event: dict) -> None:
        await self.send_json({"type": event["kind"], "payload": event["payload"]})
