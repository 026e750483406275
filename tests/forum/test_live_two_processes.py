"""Acceptance: live events cross server processes (PostgreSQL and the Redis channel layer).

Two real uvicorn processes serve the real ASGI application (config.asgi) against the test
database. A member's WebSocket is connected to process B; another member replies through
process A's reply form over HTTP. The member on B must hear of it: the notification (she
watches the thread she started) and, on the thread she subscribed to, the new post.

Runs only with ``DATABASE_URL`` pointing to PostgreSQL and ``REDIS_URL`` set: with SQLite
and the in-memory channel layer, two processes cannot share events.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from email.message import Message
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPRedirectHandler, ProxyHandler, Request, build_opener

import pytest
from django.conf import settings

ON_POSTGRES_WITH_REDIS = settings.DATABASES["default"][
    "ENGINE"
] == "django.db.backends.postgresql" and bool(os.environ.get("REDIS_URL"))

pytestmark = pytest.mark.skipif(
    not ON_POSTGRES_WITH_REDIS,
    reason="needs DATABASE_URL pointing to PostgreSQL and REDIS_URL (two processes share "
    "events only through Redis)",
)

START_TIMEOUT = 30
EVENT_TIMEOUT = 10

# Each server: the project's settings (from the same environment as this process), pointed at
# the test database, with a cache and channel-layer prefix of this run only, so that a
# development server or another test run on the same Redis neither sees nor disturbs it.
SERVER = """
import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
from django.conf import settings
database, prefix, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
settings.DATABASES["default"]["NAME"] = database
settings.CACHES["default"]["KEY_PREFIX"] = prefix
settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = prefix + ":"
import uvicorn
uvicorn.run(
    "config.asgi:application", host="127.0.0.1", port=port,
    ws="websockets-sansio", lifespan="off", log_level="warning",
)
"""


class _NoRedirects(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_opener = build_opener(ProxyHandler({}), _NoRedirects)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return f"--- server {self.name} ---\n" + self.log.read_text(errors="replace")[-5000:]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start(name: str, database: str, prefix: str, log_dir: Path) -> Server:
    port = _free_port()
    log = log_dir / f"server-{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", SERVER, database, prefix, str(port)],
            cwd=settings.BASE_DIR,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole below
        )
    return Server(name=name, port=port, process=process, log=log)


def _wait_ready(server: Server) -> None:
    """Until /healthz reports the database and the channel layer reachable."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"Server {server.name} exited.\n{server.output()}")
        try:
            with _opener.open(f"{server.url}/healthz", timeout=2) as response:
                if json.load(response).get("status") == "ok":
                    return
        except (OSError, ValueError):
            pass
        time.sleep(0.2)
    pytest.fail(f"Server {server.name} did not become ready.\n{server.output()}")


def _stop(server: Server) -> None:
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


def _forget_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def servers(transactional_db, tmp_path):
    """Processes A and B, stopped before the test database is flushed (and dropped)."""
    from django.db import connection

    database = connection.settings_dict["NAME"]  # test_<name>: the one this session uses
    prefix = f"forum-livetest-{uuid.uuid4().hex[:8]}"
    started: list[Server] = []
    try:
        for name in ("A", "B"):
            started.append(_start(name, database, prefix, tmp_path))
        for server in started:
            _wait_ready(server)
        yield started
    finally:
        for server in started:
            _stop(server)
        _forget_redis_keys(prefix)


# --- HTTP as a browser does it ---------------------------------------------------------------


@dataclass
class Browser:
    """Cookies and requests against one server, without following redirects."""

    base: str
    cookies: dict[str, str]

    def request(self, path: str, data: dict | None = None) -> tuple[int, Message, str]:
        headers = {"Cookie": _cookie_header(self.cookies)}
        body = None
        if data is not None:
            headers["Origin"] = self.base
            headers["Referer"] = f"{self.base}{path}"
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            body = urlencode(data).encode()
        request = Request(f"{self.base}{path}", data=body, headers=headers)
        try:
            response = _opener.open(request, timeout=10)
        except HTTPError as error:  # 3xx (not followed) and 4xx/5xx
            response = error
        with response:
            for header in response.headers.get_all("Set-Cookie") or []:
                cookie = SimpleCookie(header)
                self.cookies.update({key: morsel.value for key, morsel in cookie.items()})
            return response.status, response.headers, response.read().decode()

    def get_page(self, path: str) -> str:
        for _hop in range(3):
            status, headers, html = self.request(path)
            if status in (301, 302):
                path = headers["Location"]
                continue
            assert status == 200, f"GET {path}: {status}"
            return html
        raise AssertionError(f"too many redirects for {path}")


def _session_cookies(user) -> dict[str, str]:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def _input_value(html: str, form_action: str, name: str) -> str:
    form = re.search(
        rf'<form[^>]*action="{re.escape(form_action)}".*?</form>', html, flags=re.DOTALL
    )
    assert form is not None, f"no form posting to {form_action}"
    field = re.search(rf'<input[^>]*name="{name}"[^>]*>', form.group(0))
    assert field is not None, f"no field {name} in the form posting to {form_action}"
    value = re.search(r'value="([^"]*)"', field.group(0))
    assert value is not None, f"field {name} has no value"
    return value.group(1)


def _receive_until(websocket, kinds: set[str], servers: list[Server]) -> dict[str, dict]:
    """Messages by type until each of ``kinds`` has arrived; fails with the servers' logs."""
    received: dict[str, dict] = {}
    deadline = time.monotonic() + EVENT_TIMEOUT
    while not kinds <= received.keys():
        left = deadline - time.monotonic()
        try:
            if left <= 0:
                raise TimeoutError
            message = json.loads(websocket.recv(timeout=left))
        except TimeoutError:
            logs = "\n".join(s.output() for s in servers)
            pytest.fail(f"Only {sorted(received)} arrived, expected {sorted(kinds)}.\n{logs}")
        received.setdefault(message["type"], message)
    return received


# --- The test ---------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_reply_through_process_a_reaches_a_websocket_on_process_b(servers):
    from websockets.sync.client import connect

    from accounts.services import network_load_file
    from forum.models import Category, Post
    from tests.factories import CategoryFactory, make_member, make_thread

    a, b = servers
    network_load_file(settings.NETWORK_FILE)
    anna = make_member(email="anna.schmidt@bochum.de", handle="anna-schmidt")
    jonas = make_member(email="jonas.becker@bochum.de", handle="jonas-becker")
    category = CategoryFactory(visibility=Category.Visibility.PUBLIC)
    # Anna started the thread, so she watches it.
    thread = make_thread(
        anna, category=category, kind="discussion", title="Leerstand in der Innenstadt"
    )

    with connect(
        f"ws://127.0.0.1:{b.port}/ws/live/",
        origin=b.url,
        additional_headers={"Cookie": _cookie_header(_session_cookies(anna))},
        proxy=None,
        open_timeout=10,
    ) as websocket:
        # Signed in (an anonymous socket would be closed with 4401 instead of answering).
        websocket.send(json.dumps({"type": "ping"}))
        assert json.loads(websocket.recv(timeout=EVENT_TIMEOUT)) == {"type": "pong"}
        websocket.send(json.dumps({"type": "subscribe", "thread": thread.pk}))
        assert json.loads(websocket.recv(timeout=EVENT_TIMEOUT)) == {
            "type": "subscribed",
            "payload": {"thread": thread.pk},
        }

        # A quiet spell longer than redis-py's default read timeout (5 s): the layer must keep
        # the socket (before the fix in settings, the consumer died here with code 1006).
        time.sleep(6)
        websocket.send(json.dumps({"type": "ping"}))
        assert json.loads(websocket.recv(timeout=EVENT_TIMEOUT)) == {"type": "pong"}

        # Jonas replies through A's page and form, as his browser would.
        jonas_on_a = Browser(base=a.url, cookies=_session_cookies(jonas))
        html = jonas_on_a.get_page(f"/t/{thread.pk}/")
        action = f"/t/{thread.pk}/antworten/"
        client_token = _input_value(html, action, "client_token")
        status, headers, _body = jonas_on_a.request(
            action,
            {
                "csrfmiddlewaretoken": _input_value(html, action, "csrfmiddlewaretoken"),
                "client_token": client_token,
                "body": "Bei uns hilft eine Zwischennutzung.",
            },
        )
        assert status == 302, f"the reply was not accepted ({status})\n{a.output()}"

        received = _receive_until(websocket, {"notification", "post.created"}, servers)

    post = Post.objects.get(thread=thread, number=2)
    assert post.author == jonas and str(post.client_token) == client_token
    assert headers["Location"].startswith(f"/t/{thread.pk}/")
    notification = received["notification"]["payload"]
    assert notification["unread"] == 1
    assert notification["text"] == "Jonas Becker hat in „Leerstand in der Innenstadt“ geantwortet"
    assert notification["url"] == f"/t/{thread.pk}/?beitrag=2"
    assert received["post.created"]["payload"] == {"thread": thread.pk, "number": 2}
