"""The site while Redis is down: pages, posting, limits and sockets keep working.

Cache and channel layer point at a loopback port nobody listens on (a real connection
refused, as during a Redis restart): pages answer 200, a reply is saved and its notification
written (the live push is logged and skipped), allauth's and the forum's rate limits still
count, and the WebSocket is closed with 4503 so that the page polls instead.
"""

from __future__ import annotations

import logging
import socket
import uuid

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.core.cache import cache
from django_redis.cache import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError

from forum.models import Category, Notification, Post, ThreadFollow
from tests.factories import PASSWORD, CategoryFactory, make_member, make_thread

ORIGIN = (b"origin", b"http://127.0.0.1:8000")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down(settings):
    url = f"redis://127.0.0.1:{_closed_port()}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FallbackRedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "forum-test",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": url, "socket_connect_timeout": 1}]},
        }
    }
    return url


@pytest.fixture
def forum(network):
    public = CategoryFactory(slug="oeffentlich", visibility=Category.Visibility.PUBLIC)
    author = make_member()
    reader = make_member(email="thomas.wagner@gelsenkirchen.de", handle="thomas-wagner")
    thread = make_thread(author, category=public, title="Leerstand in der Innenstadt")
    return public, author, reader, thread


@pytest.mark.django_db
def test_pages_answer_while_redis_is_down(client, redis_down, forum, caplog):
    public, _author, reader, thread = forum
    client.force_login(reader)
    with caplog.at_level(logging.WARNING, logger="config.cache"):
        for path in (
            "/",
            f"/c/{public.slug}/",
            thread.get_absolute_url(),
            "/search/?q=Leerstand",
            "/notifications/",
        ):
            response = client.get(path)
            assert response.status_code == 200, path
    # The fallback was used (and said so once), not an unnoticed working Redis.
    assert sum("nicht erreichbar" in r.message for r in caplog.records) == 1
    assert cache.redis_available is False


@pytest.mark.django_db
def test_a_reply_is_saved_and_notified_while_the_push_fails(
    client, redis_down, forum, caplog, django_capture_on_commit_callbacks
):
    _public, author, reader, thread = forum
    assert ThreadFollow.objects.filter(user=author, thread=thread).exists()
    client.force_login(reader)
    token = str(uuid.uuid4())
    with (
        caplog.at_level(logging.WARNING, logger="forum.events"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(
            f"/t/{thread.pk}/antworten/", {"body": "Antwort ohne Redis", "client_token": token}
        )
    assert response.status_code == 302
    post = Post.objects.get(client_token=token)
    assert post.body == "Antwort ohne Redis" and post.author == reader
    assert Notification.objects.filter(recipient=author, thread=thread).count() == 1
    assert any("Live-Push" in r.message for r in caplog.records)
    # The bell's count is read through the local cache and is right.
    client.force_login(author)
    assert client.get("/notifications/").status_code == 200


@pytest.mark.django_db
def test_login_rate_limit_still_counts_and_a_right_password_still_signs_in(
    client, redis_down, forum
):
    _public, _author, reader, _thread = forum
    response = client.post("/accounts/login/", {"login": reader.email, "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(reader.pk)
    client.logout()
    for _ in range(5):
        client.post("/accounts/login/", {"login": reader.email, "password": "falsch"})
    response = client.post("/accounts/login/", {"login": reader.email, "password": PASSWORD})
    assert "_auth_user_id" not in client.session
    assert "Zu viele" in response.content.decode()


@pytest.mark.django_db
def test_the_forum_posting_limit_answers_with_its_message(client, redis_down, forum, settings):
    settings.FORUM_POSTS_PER_MINUTE = 2
    _public, _author, reader, thread = forum
    client.force_login(reader)
    for n in range(2):
        response = client.post(
            f"/t/{thread.pk}/antworten/", {"body": f"Antwort {n}", "client_token": uuid.uuid4()}
        )
        assert response.status_code == 302
    response = client.post(
        f"/t/{thread.pk}/antworten/", {"body": "Die dritte Antwort", "client_token": uuid.uuid4()}
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert "in der letzten Minute" in page and "Die dritte Antwort" in page  # nothing typed is lost
    assert Post.objects.filter(thread=thread, author=reader).count() == 2


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_socket_closes_with_4503_so_that_the_page_polls(redis_down, network):
    from django.test import Client

    from config.asgi import application

    member = await sync_to_async(make_member)()
    client = Client()
    await sync_to_async(client.force_login)(member)
    name = django_settings.SESSION_COOKIE_NAME
    cookie = f"{name}={client.cookies[name].value}".encode()
    communicator = WebsocketCommunicator(
        application, "/ws/live/", headers=[ORIGIN, (b"cookie", cookie)]
    )
    connected, _ = await communicator.connect(timeout=5)
    assert connected
    assert await communicator.receive_output(timeout=5) == {
        "type": "websocket.close",
        "code": 4503,
    }
    await communicator.wait()


class _FlakyRedis:
    """Stands in for Redis behind django-redis's methods: a dict that can go down."""

    def __init__(self):
        self.data: dict[str, object] = {}
        self.down = False

    def _check(self):
        if self.down:
            raise RedisConnectionError("Connection refused")

    def install(self, monkeypatch):
        def get(cache_self, key, default=None, version=None, client=None):
            self._check()
            return self.data.get(cache_self.make_key(key, version), default)

        def set_(cache_self, key, value, timeout=None, version=None, client=None, nx=False):
            self._check()
            self.data[cache_self.make_key(key, version)] = value
            return True

        def delete_many(cache_self, keys, version=None, client=None):
            self._check()
            for key in keys:
                self.data.pop(cache_self.make_key(key, version), None)

        def delete(cache_self, key, version=None, prefix=None, client=None):
            self._check()
            return self.data.pop(cache_self.make_key(key, version), None) is not None

        monkeypatch.setattr(RedisCache, "get", get)
        monkeypatch.setattr(RedisCache, "set", set_)
        monkeypatch.setattr(RedisCache, "delete", delete)
        monkeypatch.setattr(RedisCache, "delete_many", delete_many)


def test_keys_deleted_during_an_outage_are_deleted_in_redis_afterwards(monkeypatch):
    from config import cache as fallback

    redis = _FlakyRedis()
    redis.install(monkeypatch)
    backend = fallback.FallbackRedisCache("redis://127.0.0.1:1/0", {"KEY_PREFIX": "t"})
    backend.set("unread:7", 3)
    assert backend.get("unread:7") == 3

    redis.down = True
    assert backend.get("unread:7") is None  # the local cache knows nothing yet
    backend.set("unread:7", 5)
    assert backend.get("unread:7") == 5  # served locally during the outage
    backend.delete("unread:7")  # the count changed during the outage

    redis.down = False
    monkeypatch.setattr(fallback.time, "monotonic", lambda: 10**9)  # retry time has come
    # Redis kept the old 3: the deletion is replayed before it could be served again.
    assert backend.get("unread:7") is None
    assert "t:1:unread:7" not in redis.data
    backend.set("terms", 1)
    assert backend.get("terms") == 1 and redis.data["t:1:terms"] == 1
