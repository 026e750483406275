"""Load and faults on the production-like stack (``make bench-load``).

On loopback only: ``BENCH_LOAD_WORKERS`` uvicorn processes (3), each on its own port so that one
can be killed and started again, behind Debian's nginx (config generated in
``var/bench-load/``: one upstream with all workers, keep-alive, WebSocket upgrade,
``proxy_next_upstream`` for idempotent requests only), ``BENCH_LOAD_TASK_WORKERS`` task workers
(``manage.py db_worker``, 2), PostgreSQL (the benchmark database of ``make bench-data``) and a
private ``redis-server`` on its own port (``BENCH_LOAD_REDIS_PORT``, 6391), started here, so
that restarting it disturbs nobody else on the machine.

``BENCH_LOAD_MEMBERS`` simulated members (200, the members of ``make bench-data``, each with
its own session created in the session store) walk the site for ``BENCH_LOAD_SECONDS`` (60),
each step drawn with the weights of ``ACTIONS``: home page, a category, a thread, a search, the
notification centre and its catch-up endpoint, and about one step in nine a reply (the thread
page first for the form's CSRF token, a unique token in the text, in one of the five threads
the member watches), with a think time of ``BENCH_LOAD_THINK`` seconds (2 to 8) between
steps. The posting limits are not changed: at this pace a member stays under 5 a minute.
``BENCH_LOAD_SOCKETS`` of them (20) also keep a WebSocket open on ``/ws/live/``, as a browser
tab does, and call the catch-up endpoint after every close before reconnecting. A read-only
warm-up of ``BENCH_LOAD_WARMUP`` seconds (10) comes first and is not counted.

Two runs, one after the other on the same stack:

- steady: nothing is disturbed; every answer must be below 500 and no request may fail;
- fault (``BENCH_LOAD_FAULTS=0`` skips it): during the load Redis is shut down without saving
  and started again 6 s later (t=15 s), ``send_digests`` runs (t=20 s and again at t=40 s),
  the task worker that runs the digest batch is killed with SIGKILL two seconds into it and
  started again (from t=20 s), ASGI worker 0 is killed with SIGKILL and started again
  (t=30 s). Requests that fail in flight (connection
  reset, nginx 502/504) are counted apart from server errors (500 and other 5xx from the
  application); a reply that failed in flight is sent again with the same client token, as a
  browser does on "resend". After the load: ``tasks_reap --older-than 1`` once the killed
  worker's task is a minute old, the instant-mail windows of the run are brought forward to
  now, and the task workers drain the queue.

Consistency check after both runs (exit status 1 when it fails): every reply acknowledged to
its member (the redirect to the post) exists exactly once with its exact text, no reply exists
twice; the watchers of the threads were not changed by the run; for every watcher and thread,
the notifications written during the run count exactly the replies of others (none lost, none
twice) and there is at most one unread notification per person, kind and thread; every task
enqueued during the run completed once; every mail in the mail sink (``filemail`` backend,
``var/bench-load/mail/``) is different, their number equals the tasks that sent mail plus the
digests marked sent; every digest that was due was delivered exactly once.

Results: a table on stdout and ``var/bench/load-<db>.json``; logs in ``var/bench-load/``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench make bench-data   # once
    make bench-load
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import json
import math
import os
import platform
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: python bench/load.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, OUT_DIR, VAR_DIR, bench_database_url, warn_if_busy

HOST = "127.0.0.1"
MEMBERS = int(os.environ.get("BENCH_LOAD_MEMBERS", "200"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
WORKERS = int(os.environ.get("BENCH_LOAD_WORKERS", "3"))
TASK_WORKERS = int(os.environ.get("BENCH_LOAD_TASK_WORKERS", "2"))
PORT = int(os.environ.get("BENCH_LOAD_PORT", "8780"))  # nginx; workers on PORT+1 …
REDIS_PORT = int(os.environ.get("BENCH_LOAD_REDIS_PORT", "6391"))
FAULTS = os.environ.get("BENCH_LOAD_FAULTS", "1") != "0"
THINK = tuple(float(x) for x in os.environ.get("BENCH_LOAD_THINK", "2-8").split("-"))
SOCKETS = int(os.environ.get("BENCH_LOAD_SOCKETS", "20"))
REPLY_THREADS = 40
WATCHED_PER_MEMBER = 5
# What a member does next, with weights: about one step in nine is a reply (opening the thread's
# form, then the POST), which stays under the posting limit of 5 a minute.
ACTIONS = [
    ("home", 15),
    ("category", 15),
    ("thread", 25),
    ("search", 15),
    ("notifications", 8),
    ("catch_up", 10),
    ("reply", 12),
]
REQUEST_TIMEOUT = 60.0
WARMUP = float(os.environ.get("BENCH_LOAD_WARMUP", "10"))
REDIS_DOWN_SECONDS = 6.0
# t (seconds after the load began) of each fault in the fault run.
FAULT_PLAN = [
    (15.0, "redis"),
    (20.0, "digests"),
    # From t=20 s: the task worker that runs the digest batch, two seconds into it.
    (20.0, "task_worker"),
    (30.0, "asgi_worker"),
    (40.0, "digests"),
]
DIGEST_SUBSCRIBERS = 150
RUN_DIR = VAR_DIR / "bench-load"
MAIL_DIR = RUN_DIR / "mail"
SEARCHES = [
    "Leerstand",
    "Förderantrag",
    "Verfügungsfonds",
    "Quartiersmanagement",
    "Brachfläche",
    "ISEK",
    '"integriertes Handlungskonzept"',
    "Bürgerbeteiligung -Online",
    "Innenstadt ODER Ortskern",
    "Zwischennutzung Eigentümer",
]
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def log(message: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {message}", flush=True)


# --- Processes ------------------------------------------------------------------------------


def _reachable(port: int, host: str = HOST) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait_port(port: int, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _reachable(port):
            return
        time.sleep(0.2)
    raise SystemExit(f"{what} auf Port {port} antwortet nicht.")


class Stack:
    """All processes of the benchmark; each in its own session, all stopped by stop_all()."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.redis_url = f"redis://{HOST}:{REDIS_PORT}/0"
        self.processes: dict[str, subprocess.Popen] = {}
        self.began_at = None  # set when the data is ready, before the first run
        self.digest_ids: list[int] = []
        self.killed_task_worker_at: float | None = None
        self.logs: dict[str, Path] = {}
        self.env = dict(
            os.environ,
            DATABASE_URL=database_url,
            REDIS_URL=self.redis_url,
            DJANGO_DEBUG="false",
            DJANGO_ENV="development",  # plain HTTP on loopback: no HTTPS redirect
            DJANGO_SETTINGS_MODULE="config.settings",
            EMAIL_URL=f"filemail:///{MAIL_DIR}",  # environ drops one slash
            SITE_URL=f"http://{HOST}:{PORT}",
            LOG_LEVEL="WARNING",
        )

    def _start(self, name: str, command: list[str]) -> subprocess.Popen:
        path = self.logs.setdefault(name, RUN_DIR / f"{name}.log")
        log_file = path.open("a")
        process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        self.processes[name] = process
        return process

    def start_redis(self) -> None:
        if _reachable(REDIS_PORT):
            raise SystemExit(
                f"Port {REDIS_PORT} ist belegt; BENCH_LOAD_REDIS_PORT=… wählt einen anderen."
            )
        self._start(
            "redis",
            [
                shutil.which("redis-server") or "redis-server",
                *("--bind", HOST, "--port", str(REDIS_PORT)),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
            ],
        )
        _wait_port(REDIS_PORT, "Redis")

    def stop_redis(self) -> None:
        """SHUTDOWN NOSAVE, as an operator restarting Redis would."""
        subprocess.run(
            ["redis-cli", "-h", HOST, "-p", str(REDIS_PORT), "shutdown", "nosave"],
            capture_output=True,
            check=False,
        )
        self.processes["redis"].wait(timeout=10)

    def worker_port(self, index: int) -> int:
        return PORT + 1 + index

    def start_asgi(self, index: int) -> None:
        self._start(
            f"asgi-{index}",
            [
                sys.executable,
                *("-m", "uvicorn", "config.asgi:application"),
                *("--host", HOST, "--port", str(self.worker_port(index))),
                *("--ws", "websockets-sansio", "--lifespan", "off", "--proxy-headers"),
                *("--no-access-log", "--no-server-header", "--log-level", "warning"),
                # Longer than nginx keeps an idle upstream connection (keepalive_timeout 60s):
                # otherwise uvicorn may close one just as nginx sends a request on it.
                *("--timeout-keep-alive", "75"),
            ],
        )

    def wait_asgi(self, index: int) -> None:
        _wait_port(self.worker_port(index), f"ASGI-Worker {index}")

    def start_task_worker(self, index: int) -> None:
        self._start(
            f"tasks-{index}",
            [
                sys.executable,
                "manage.py",
                "db_worker",
                *("--queue-name", "*", "--no-reload", "--interval", "0.5"),
                *("--worker-id", f"bench-load-{index}-{uuid.uuid4().hex[:8]}"),
            ],
        )

    def kill(self, name: str) -> None:
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def start_nginx(self) -> None:
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(nginx).exists():
            raise SystemExit("nginx fehlt: apt-get install nginx-light (oder make bench-load).")
        if _reachable(PORT):
            raise SystemExit(f"Port {PORT} ist belegt; BENCH_LOAD_PORT=… wählt einen anderen.")
        temp = RUN_DIR / "nginx-temp"
        temp.mkdir(parents=True, exist_ok=True)
        temp.chmod(0o777)  # nginx's worker processes may run as nobody
        upstream = "\n".join(
            f"        server {HOST}:{self.worker_port(i)} max_fails=2 fail_timeout=3s;"
            for i in range(WORKERS)
        )
        config = RUN_DIR / "nginx.conf"
        config.write_text(
            NGINX_CONF.format(prefix=RUN_DIR, temp=temp, upstream=upstream, host=HOST, port=PORT)
        )
        self._start("nginx", [nginx, "-p", str(RUN_DIR), "-c", str(config)])
        _wait_port(PORT, "nginx")

    def stop_all(self) -> None:
        for _name, process in reversed(list(self.processes.items())):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes.values():
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def manage(self, *args: str, timeout: float = 120) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)}: {done.stderr[-2000:]}")
        return done.stdout.strip()


NGINX_CONF = """\
daemon off;
worker_processes 1;
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    client_max_body_size 12m;
    map $http_upgrade $connection_upgrade {{ default upgrade; '' ''; }}
    upstream forum {{
{upstream}
        keepalive 64;
        keepalive_timeout 60s;
    }}
    server {{
        listen {host}:{port};
        location /ws/ {{
            proxy_pass http://forum;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Sockets live long; the page pings every 25 s. A refused handshake may try the
            # next worker, a slow one is waited for (it would only add to that worker's load).
            proxy_next_upstream error;
            proxy_connect_timeout 2s;
            proxy_read_timeout 3600s;
            proxy_send_timeout 3600s;
        }}
        location / {{
            proxy_pass http://forum;
            proxy_http_version 1.1;
            proxy_set_header Host $http_host;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # A worker that died or refuses: GET and HEAD go to the next one; a POST is never
            # sent twice by the proxy (the client resends it with its client token). A slow
            # answer is waited for, not sent to a second worker, and does not count as a
            # failure: under load one slow page would otherwise mark every worker as down.
            proxy_next_upstream error http_502 http_503;
            proxy_next_upstream_tries 3;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


# --- Preparing the data ---------------------------------------------------------------------


def prepare(stack: Stack) -> dict:
    """Sessions for the members, the threads they reply in (each member watches five of
    them), notifications of those threads read, due digest subscriptions. Idempotent."""
    import django

    django.setup()
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.db import connections, transaction
    from django.db.models import Q
    from django.utils import timezone

    from accounts.models import User
    from forum.models import (
        Category,
        DigestDelivery,
        DigestSubscription,
        Level,
        Notification,
        Thread,
        ThreadFollow,
    )
    from forum.services.digests import last_slot

    members = list(
        User.objects.filter(
            is_active=True, membership=User.Membership.APPROVED, suspended_at__isnull=True
        )
        .exclude(email="bench@bochum.de")
        .exclude(groups__permissions__codename="moderate")
        .exclude(is_superuser=True)
        .exclude(handle__startswith="live-")
        .exclude(handle__startswith="digest-")
        .order_by("pk")[:MEMBERS]
    )
    if len(members) < MEMBERS:
        raise SystemExit(
            f"Nur {len(members)} Mitglieder in der Benchmarkdatenbank, {MEMBERS} nötig: "
            "zuerst make bench-data mit derselben DATABASE_URL."
        )
    readable = Q(category__visibility__in=[Category.Visibility.PUBLIC, Category.Visibility.MEMBERS])
    open_threads = Thread.objects.filter(readable, is_hidden=False, is_held=False, is_locked=False)
    questions = list(
        open_threads.filter(kind=Thread.Kind.QUESTION)
        .exclude(pk=1)
        .order_by("-last_activity_at")
        .values_list("pk", flat=True)[: REPLY_THREADS // 2]
    )
    others = list(
        open_threads.exclude(kind=Thread.Kind.QUESTION)
        .exclude(kind=Thread.Kind.ANNOUNCEMENT)
        .exclude(pk=1)
        .order_by("-last_activity_at")
        .values_list("pk", flat=True)[: REPLY_THREADS - len(questions)]
    )
    reply_ids = questions + others
    threads = {t.pk: t for t in Thread.objects.select_related("category").filter(pk__in=reply_ids)}
    browse = [
        t.get_absolute_url()
        for t in Thread.objects.filter(readable, is_hidden=False, is_held=False)
        .select_related("category")
        .order_by("-last_activity_at")[:400]
    ]
    categories = [
        f"/c/{slug}/"
        for slug in Category.objects.filter(
            visibility__in=[Category.Visibility.PUBLIC, Category.Visibility.MEMBERS]
        ).values_list("slug", flat=True)
    ]
    now = timezone.now()
    watched: dict[int, list[int]] = {}
    with transaction.atomic():
        for i, member in enumerate(members):
            watched[member.pk] = [
                reply_ids[(i * WATCHED_PER_MEMBER + k) % len(reply_ids)]
                for k in range(WATCHED_PER_MEMBER)
            ]
        pairs = {(m, t) for m, ts in watched.items() for t in ts}
        ThreadFollow.objects.bulk_create(
            [ThreadFollow(user_id=m, thread_id=t, level=Level.WATCHING) for m, t in pairs],
            ignore_conflicts=True,
            batch_size=500,
        )
        for member_id, thread_ids in watched.items():
            ThreadFollow.objects.filter(user_id=member_id, thread_id__in=thread_ids).update(
                level=Level.WATCHING
            )
        # Every earlier notification of these threads read: the run's events make new rows.
        Notification.objects.filter(thread_id__in=reply_ids, read_at__isnull=True).update(
            read_at=now
        )

        # Digests: due now, each window ending at the last slot (one per subscriber).
        DigestDelivery.objects.filter(subscription__email__startswith="bench-load-").delete()
        DigestSubscription.objects.filter(email__startswith="bench-load-").delete()
        DigestSubscription.objects.filter(user__in=members).delete()
        subscriptions = []
        for i in range(DIGEST_SUBSCRIBERS):
            user = members[i] if i < min(len(members), DIGEST_SUBSCRIBERS * 2 // 3) else None
            subscription = DigestSubscription(
                user=user,
                email="" if user else f"bench-load-{i:03d}@example.org",
                frequency=DigestSubscription.Frequency.DAILY,
                hour=7,
                sections=["questions", "experiences", "help", "followed"]
                if user
                else ["questions", "experiences"],
                topics="all",
            )
            end = last_slot(subscription, now)
            # The window reaches back into the data of make bench-data (anchored in the past).
            subscription.window_start = end - timedelta(days=60)
            subscription.next_due_at = end
            subscription.confirmed_at = end - timedelta(days=90)
            subscriptions.append(subscription)
        DigestSubscription.objects.bulk_create(subscriptions)

    store = import_module(settings.SESSION_ENGINE).SessionStore
    clients = []
    with transaction.atomic():
        for member in members:
            session = store()
            session[SESSION_KEY] = str(member.pk)
            session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            session[HASH_SESSION_KEY] = member.get_session_auth_hash()
            session.set_expiry(timedelta(hours=2))
            session.create()
            clients.append(
                {
                    "user": member.pk,
                    "session": session.session_key,
                    "threads": [
                        {"id": t, "url": threads[t].get_absolute_url()} for t in watched[member.pk]
                    ],
                }
            )
    connections.close_all()
    return {
        "clients": clients,
        "reply_threads": reply_ids,
        "question_threads": questions,
        "browse": browse,
        "categories": categories,
        "session_cookie": settings.SESSION_COOKIE_NAME,
    }


# --- The load -------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()
        self.by_kind_status: Counter = Counter()
        self.in_flight: Counter = Counter()  # connection errors, timeouts, nginx 502/504
        self.server_errors: list[dict] = []
        self.replies: list[dict] = []
        self.sockets = Counter()
        self.ws_connect: list[float] = []  # seconds from request to open socket

    def record(self, kind: str, status: int, seconds: float) -> None:
        self.samples[kind].append(seconds)
        self.status[status] += 1
        self.by_kind_status[(kind, status)] += 1


IN_FLIGHT_STATUSES = (502, 504)


async def request(
    http, rec: Recorder, kind: str, method: str, url: str, **kwargs
) -> tuple[int, str, str] | None:
    """One request; None when it failed in flight (counted). Redirects are not followed."""
    import aiohttp

    started = time.monotonic()
    try:
        async with http.request(method, url, allow_redirects=False, **kwargs) as response:
            body = await response.text(errors="replace")
            status = response.status
            location = response.headers.get("Location", "")
    except (TimeoutError, aiohttp.ClientError) as exc:
        rec.in_flight[f"{kind}: {type(exc).__name__}"] += 1
        return None
    rec.record(kind, status, time.monotonic() - started)
    if status in IN_FLIGHT_STATUSES:
        rec.in_flight[f"{kind}: {status}"] += 1
        return None
    if status >= 500:
        rec.server_errors.append({"kind": kind, "url": url, "status": status, "body": body[:300]})
    return status, body, location


CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


async def member_loop(
    index: int,
    client: dict,
    setup: dict,
    base: str,
    deadline: float,
    rec: Recorder,
    run: str,
    with_replies: bool = True,
):
    """One member: a weighted random walk over the site's pages (ACTIONS) until the deadline."""
    import aiohttp
    from yarl import URL

    rng = random.Random(f"{run}-{index}")
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies({setup["session_cookie"]: client["session"]}, URL(base))
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    replies_sent = 0
    kinds, weights = zip(*ACTIONS, strict=True)
    async with aiohttp.ClientSession(base, cookie_jar=jar, timeout=timeout) as http:
        while time.monotonic() < deadline:
            kind = rng.choices(kinds, weights)[0]
            if kind == "reply":
                if not with_replies or time.monotonic() > deadline - 3:
                    continue
                replies_sent += 1
                thread = rng.choice(client["threads"])
                await reply(http, rec, thread, client, run, replies_sent, rng)
            else:
                path = {
                    "home": "/",
                    "category": lambda: rng.choice(setup["categories"]),
                    "thread": lambda: rng.choice(setup["browse"]),
                    "search": lambda: f"/search/?q={rng.choice(SEARCHES)}",
                    "notifications": "/notifications/",
                    "catch_up": "/notifications/seit/",
                }[kind]
                await request(http, rec, kind, "GET", path() if callable(path) else path)
            await asyncio.sleep(rng.uniform(*THINK))


async def reply(http, rec, thread: dict, client: dict, run: str, n: int, rng) -> None:
    """Open the thread's form and reply; a reply that failed in flight is sent again with
    the same client token (at most three times), as a browser's resend would."""
    answer = await request(http, rec, "thread_form", "GET", thread["url"])
    if answer is None or answer[0] != 200:
        return
    match = CSRF_RE.search(answer[1])
    if match is None:
        rec.server_errors.append({"kind": "thread_form", "url": thread["url"], "status": 0})
        return
    token = str(uuid.uuid4())
    marker = f"LT-{run}-{client['user']}-{n}-{token[:8]}"
    body = (
        f"Unsere Erfahrung dazu ({marker}): Wir haben die Eigentümer früh eingebunden und "
        "den Verfügungsfonds für Zwischennutzungen geöffnet."
    )
    entry = {"user": client["user"], "thread": thread["id"], "token": token, "body": body}
    entry.update(attempts=0, acknowledged=False, refused=False, number=None)
    rec.replies.append(entry)
    form = {"csrfmiddlewaretoken": match.group(1), "body": body, "client_token": token}
    while entry["attempts"] < 3:
        entry["attempts"] += 1
        answer = await request(
            http,
            rec,
            "reply",
            "POST",
            f"/t/{thread['id']}/antworten/",
            data=form,
            headers={"Referer": thread["url"]},
        )
        if answer is not None:
            status, _page, location = answer
            if status == 302 and "#post-" in location:
                entry["acknowledged"] = True
                entry["number"] = int(location.rsplit("#post-", 1)[1])
            elif status in (400, 429):
                entry["refused"] = True  # the posting limit: the page says so, text kept
            return
        await asyncio.sleep(1.0 + rng.random())


async def socket_loop(client: dict, setup: dict, base: str, phase: dict) -> None:
    """A browser tab's live socket for all runs: reconnect with back-off, poll while it is
    closed. Counts go to the recorder of the current run (``phase["rec"]``)."""
    import aiohttp
    from yarl import URL

    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies({setup["session_cookie"]: client["session"]}, URL(base))
    closing = (
        aiohttp.WSMsgType.CLOSE,
        aiohttp.WSMsgType.CLOSED,
        aiohttp.WSMsgType.CLOSING,
        aiohttp.WSMsgType.ERROR,
    )
    async with aiohttp.ClientSession(base, cookie_jar=jar) as http:
        delay = 1.0
        while not phase["stop"]:
            began = time.monotonic()
            try:
                async with http.ws_connect("/ws/live/", origin=base, heartbeat=None) as ws:
                    phase["rec"].ws_connect.append(time.monotonic() - began)
                    phase["rec"].sockets["opened"] += 1
                    delay = 1.0
                    while not phase["stop"]:
                        try:
                            message = await ws.receive(timeout=1.0)
                        except TimeoutError:
                            continue
                        if message.type == aiohttp.WSMsgType.TEXT:
                            phase["rec"].sockets["messages"] += 1
                        elif message.type in closing:
                            break
                    if not phase["stop"]:
                        phase["rec"].sockets[f"closed {ws.close_code}"] += 1
            except (TimeoutError, aiohttp.ClientError) as exc:
                status = getattr(exc, "status", "")
                phase["rec"].sockets[f"connect failed: {type(exc).__name__} {status}".strip()] += 1
            if phase["stop"]:
                return
            # Closed: catch up over HTTP (what the page does), then reconnect.
            answer = await request(http, phase["rec"], "catch_up", "GET", "/notifications/seit/")
            if answer is not None and answer[0] == 200:
                phase["rec"].sockets["polls while closed"] += 1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 8.0)


def busy_task_worker(seconds: float) -> tuple[int, str]:
    """(index, task) of a task worker running a digest batch (the longest task), waited for up
    to ``seconds``; else worker 0 and whatever it does."""
    from django.db import close_old_connections
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            running = (
                DBTaskResult.objects.filter(
                    status=TaskResultStatus.RUNNING, task_path="forum.tasks.send_digest_batch"
                )
                .values_list("worker_ids", flat=True)
                .first()
            )
            if running:
                worker = running[-1]  # "bench-load-<index>-<random>"
                return int(worker.split("-")[2]), "send_digest_batch"
            time.sleep(0.3)
        return 0, "untätig oder kurze Aufgabe"
    finally:
        close_old_connections()


async def faults(stack: Stack, started: float) -> list[dict]:
    """The fault plan, each fault at its time (send_digests may take a while)."""
    done: list[dict] = []

    async def one(at: float, fault: str) -> None:
        await asyncio.sleep(max(0.0, started + at - time.monotonic()))
        t = round(time.monotonic() - started, 1)
        if fault == "task_worker":
            index, task = await asyncio.to_thread(busy_task_worker, 45.0)
            await asyncio.sleep(2.0)
            t = round(time.monotonic() - started, 1)
            await asyncio.to_thread(stack.kill, f"tasks-{index}")
            stack.killed_task_worker_at = time.monotonic()
            stack.start_task_worker(index)
            entry = {"t": t, "fault": f"Task-Worker {index} ({task}): SIGKILL, neu gestartet"}
        elif fault == "redis":
            await asyncio.to_thread(stack.stop_redis)
            await asyncio.sleep(REDIS_DOWN_SECONDS)
            await asyncio.to_thread(stack.start_redis)
            entry = {"t": t, "fault": f"Redis: SHUTDOWN NOSAVE, {REDIS_DOWN_SECONDS:g} s aus"}
        elif fault == "asgi_worker":
            await asyncio.to_thread(stack.kill, "asgi-0")
            stack.start_asgi(0)
            await asyncio.to_thread(stack.wait_asgi, 0)
            took = round(time.monotonic() - started - t, 1)
            entry = {"t": t, "fault": f"ASGI-Worker 0: SIGKILL, nach {took} s wieder da"}
        else:
            output = await asyncio.to_thread(stack.manage, "send_digests")
            took = round(time.monotonic() - started - t, 1)
            entry = {"t": t, "fault": f"send_digests ({took} s)", "output": output[-300:]}
        done.append(entry)
        log(f"  t={t:5.1f} s  {entry['fault']}")

    await asyncio.gather(*(one(at, fault) for at, fault in FAULT_PLAN))
    return sorted(done, key=lambda entry: entry["t"])


async def run_load(
    stack: Stack,
    setup: dict,
    run: str,
    rec: Recorder,
    *,
    with_faults: bool = False,
    seconds: float = SECONDS,
    with_replies: bool = True,
) -> dict:
    base = f"http://{HOST}:{PORT}"
    started = time.monotonic()
    deadline = started + seconds
    tasks = [
        asyncio.create_task(member_loop(i, c, setup, base, deadline, rec, run, with_replies))
        for i, c in enumerate(setup["clients"])
    ]
    fault_task = asyncio.create_task(faults(stack, started)) if with_faults else None
    load_before = os.getloadavg()[0]
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    done = await fault_task if fault_task else []
    return {"recorder": rec, "seconds": elapsed, "faults": done, "load_before": load_before}


async def all_runs(stack: Stack, setup: dict) -> tuple[dict, list[dict]]:
    """Warm-up, steady and fault runs, with the live sockets open throughout."""
    base = f"http://{HOST}:{PORT}"
    phase = {"rec": Recorder(), "stop": False}
    sockets = [
        asyncio.create_task(socket_loop(c, setup, base, phase)) for c in setup["clients"][:SOCKETS]
    ]
    runs: dict = {}
    replies: list[dict] = []
    try:
        if WARMUP:
            log(f"Aufwärmen: {WARMUP:g} s nur lesend (füllt Caches und Pools, nicht gezählt) …")
            await run_load(stack, setup, "warmup", phase["rec"], seconds=WARMUP, with_replies=False)
            handshakes = phase["rec"].ws_connect
            runs["warmup_sockets"] = {
                "opened": len(handshakes),
                "handshake_p50_ms": round(percentile(handshakes, 0.5) * 1000, 1),
                "handshake_max_ms": round(max(handshakes, default=0.0) * 1000, 1),
            }
            log(f"WebSockets beim Aufwärmen: {runs['warmup_sockets']}")
        for run, with_faults in [("steady", False), ("fault", True)]:
            if with_faults and not FAULTS:
                continue
            log(f"Lauf {run}: {SECONDS:g} s …")
            phase["rec"] = Recorder()
            result = await run_load(stack, setup, run, phase["rec"], with_faults=with_faults)
            replies += result["recorder"].replies
            runs[run] = summarize(result)
            log(table(run, runs[run]))
    finally:
        phase["stop"] = True
        await asyncio.gather(*sockets, return_exceptions=True)
    return runs, replies


# --- Reports --------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def summarize(result: dict) -> dict:
    rec: Recorder = result["recorder"]
    every = [v for values in rec.samples.values() for v in values]
    answered = len(every)
    kinds = {
        kind: {
            "requests": len(values),
            "p50_ms": round(percentile(values, 0.5) * 1000, 1),
            "p95_ms": round(percentile(values, 0.95) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        }
        for kind, values in sorted(rec.samples.items())
    }
    replies = rec.replies
    return {
        "seconds": round(result["seconds"], 1),
        "requests": answered,
        "requests_per_s": round(answered / result["seconds"], 1),
        "p50_ms": round(percentile(every, 0.5) * 1000, 1),
        "p95_ms": round(percentile(every, 0.95) * 1000, 1),
        "p99_ms": round(percentile(every, 0.99) * 1000, 1),
        "status": {str(k): v for k, v in sorted(rec.status.items())},
        "server_errors": len(rec.server_errors),
        "server_error_samples": rec.server_errors[:5],
        "failed_in_flight": sum(rec.in_flight.values()),
        "failed_in_flight_by_kind": dict(rec.in_flight),
        "kinds": kinds,
        "replies": {
            "sent": len(replies),
            "acknowledged": sum(r["acknowledged"] for r in replies),
            "refused_by_limit": sum(r["refused"] for r in replies),
            "resent_after_failure": sum(r["attempts"] > 1 for r in replies),
            "never_answered": sum(not r["acknowledged"] and not r["refused"] for r in replies),
        },
        "sockets": dict(rec.sockets),
        "socket_handshake_ms": {
            "n": len(rec.ws_connect),
            "p50": round(percentile(rec.ws_connect, 0.5) * 1000, 1),
            "max": round(max(rec.ws_connect, default=0.0) * 1000, 1),
        },
        "faults": result["faults"],
        "load_average_1m_before": round(result["load_before"], 2),
    }


def table(name: str, s: dict) -> str:
    head = f"{'':<14} {'requests':>9} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}"
    lines = [
        f"{name}: {s['requests']} Antworten in {s['seconds']} s = {s['requests_per_s']} req/s, "
        f"p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, p99 {s['p99_ms']} ms",
        f"  Status {s['status']}; Serverfehler (5xx der Anwendung) {s['server_errors']}; "
        f"unterwegs gescheitert {s['failed_in_flight']} {s['failed_in_flight_by_kind'] or ''}",
        f"  Antworten: {s['replies']}",
        f"  WebSockets: {s['sockets']}, Handshake ms {s['socket_handshake_ms']}",
        "  " + head,
    ]
    for kind, k in s["kinds"].items():
        lines.append(
            f"  {kind:<14} {k['requests']:>9} {k['p50_ms']:>9} {k['p95_ms']:>9} {k['p99_ms']:>9}"
        )
    return "\n".join(lines)


# --- After the load: settle, then check -----------------------------------------------------


def settle(stack: Stack, killed_at: float | None) -> dict:
    """Reap the killed worker's task once it is a minute old, bring the run's mail windows
    forward, and wait until the task queue is empty."""
    from django.db import close_old_connections
    from django.utils import timezone
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from forum.models import EmailWindow

    info: dict = {}
    if killed_at is not None:
        wait = killed_at + 62 - time.monotonic()
        if wait > 0:
            log(f"Warte {wait:.0f} s, bis die Aufgabe des getöteten Workers reif ist …")
            time.sleep(wait)
        info["tasks_reap"] = stack.manage("tasks_reap", "--older-than", "1")
        log(f"tasks_reap: {info['tasks_reap']}")
    close_old_connections()
    now = timezone.now()
    windows = EmailWindow.objects.filter(sent_at__isnull=True, opened_at__gte=stack.began_at)
    info["windows_brought_forward"] = windows.update(due_at=now)
    DBTaskResult.objects.filter(
        status=TaskResultStatus.READY, run_after__gt=now, enqueued_at__gte=stack.began_at
    ).update(run_after=now)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        open_tasks = DBTaskResult.objects.filter(
            status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING],
            enqueued_at__gte=stack.began_at,
        ).count()
        if not open_tasks:
            break
        time.sleep(1)
    info["open_tasks_after_drain"] = open_tasks
    return info


def read_mail_sink() -> list[dict]:
    messages = []
    for path in sorted(MAIL_DIR.glob("*.log")):
        for chunk in path.read_text(errors="replace").split("-" * 79):
            chunk = chunk.strip()
            if not chunk:
                continue
            message = email.message_from_string(chunk)
            text = ""
            for part in message.walk():
                if part.get_content_type() == "text/plain":
                    text = part.get_payload(decode=True).decode("utf-8", "replace")
                    break
            messages.append(
                {
                    "to": message.get("To", ""),
                    "subject": str(
                        email.header.make_header(
                            email.header.decode_header(message.get("Subject", ""))
                        )
                    ),
                    "text": text,
                }
            )
    return messages


def check(stack: Stack, setup: dict, replies: list[dict], watchers_before: set) -> dict:
    from django.db import close_old_connections
    from django.db.models import Count, Sum
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from forum.models import (
        DigestDelivery,
        DigestSubscription,
        Kind,
        Level,
        Notification,
        NotificationPreference,
        Post,
        Thread,
        ThreadFollow,
    )
    from forum.services.notifications import _muted_ids

    close_old_connections()
    problems: list[str] = []
    began = stack.began_at

    # Replies: acknowledged ones exactly once with their text, none twice.
    tokens = [r["token"] for r in replies]
    stored: dict[str, list] = defaultdict(list)
    for token, body, number, thread_id in Post.objects.filter(client_token__in=tokens).values_list(
        "client_token", "body", "number", "thread_id"
    ):
        stored[str(token)].append((body, number, thread_id))
    lost = twice = wrong = 0
    saved_unacknowledged = 0
    for r in replies:
        rows = stored.get(r["token"], [])
        if len(rows) > 1:
            twice += 1
        if r["acknowledged"]:
            if not rows:
                lost += 1
            elif rows[0] != (r["body"], r["number"], r["thread"]):
                wrong += 1
        elif rows:
            saved_unacknowledged += 1
    run_posts = Post.objects.filter(created_at__gte=began, thread_id__in=setup["reply_threads"])
    foreign = run_posts.exclude(client_token__in=tokens).count()
    if lost or twice or wrong or foreign:
        problems.append(
            f"Beiträge: verloren {lost}, doppelt {twice}, falscher Text {wrong}, fremd {foreign}"
        )
    posts_report = {
        "acknowledged": sum(r["acknowledged"] for r in replies),
        "stored": sum(len(v) for v in stored.values()),
        "lost": lost,
        "duplicated": twice,
        "wrong_text": wrong,
        "saved_but_answer_lost": saved_unacknowledged,
    }

    # Notifications: per watcher and thread, the run's rows count every reply of others once.
    watchers_after = set(
        ThreadFollow.objects.filter(
            thread_id__in=setup["reply_threads"], level=Level.WATCHING
        ).values_list("user_id", "thread_id")
    )
    if watchers_after != watchers_before:
        problems.append("Beobachtungen der Themen haben sich während des Laufs geändert")
    owners = dict(
        Thread.objects.filter(pk__in=setup["question_threads"]).values_list("pk", "author_id")
    )
    off = set(
        NotificationPreference.objects.filter(
            kind__in=[Kind.REPLY, Kind.ANSWER], channel="off"
        ).values_list("user_id", "kind")
    )
    posts_by_thread: dict[int, list[int]] = defaultdict(list)
    for thread_id, author_id in run_posts.values_list("thread_id", "author_id"):
        posts_by_thread[thread_id].append(author_id)
    expected: Counter = Counter()
    for thread_id in setup["reply_threads"]:
        muted = _muted_ids(Thread.objects.get(pk=thread_id))
        watching = {u for u, t in watchers_after if t == thread_id}
        owner = owners.get(thread_id)
        for author_id in posts_by_thread.get(thread_id, []):
            recipients = (watching | ({owner} if owner else set())) - muted - {author_id}
            for user_id in recipients:
                kind = Kind.ANSWER if user_id == owner else Kind.REPLY
                if (user_id, kind) not in off:
                    expected[(user_id, thread_id)] += 1
    actual = Counter(
        {
            (row["recipient_id"], row["thread_id"]): row["events"]
            for row in Notification.objects.filter(
                thread_id__in=setup["reply_threads"],
                kind__in=[Kind.REPLY, Kind.ANSWER],
                created_at__gte=began,
            )
            .values("recipient_id", "thread_id")
            .annotate(events=Sum("count"))
        }
    )
    missing = sum((expected - actual).values())
    extra = sum((actual - expected).values())
    unread_twice = (
        Notification.objects.filter(read_at__isnull=True)
        .values("recipient_id", "kind", "thread_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    if missing or extra or unread_twice:
        problems.append(
            f"Benachrichtigungen: fehlend {missing}, zu viel {extra}, "
            f"doppelt ungelesen {unread_twice}"
        )
    notifications_report = {
        "expected_events": sum(expected.values()),
        "counted_events": sum(actual.values()),
        "rows": Notification.objects.filter(
            thread_id__in=setup["reply_threads"], created_at__gte=began
        ).count(),
        "missing": missing,
        "extra": extra,
        "unread_twice": unread_twice,
    }

    # Tasks: each completed once (a reaped one ran twice by design, counted apart).
    results = DBTaskResult.objects.filter(enqueued_at__gte=began)
    by_status = Counter(results.values_list("status", flat=True))
    by_task = Counter(results.values_list("task_path", flat=True))
    unfinished = sum(n for s, n in by_status.items() if s != TaskResultStatus.SUCCESSFUL)
    if unfinished:
        problems.append(f"Aufgaben nicht erledigt: {dict(by_status)}")
    sent_mail_tasks = (
        results.filter(task_path="forum.tasks.send_email", status=TaskResultStatus.SUCCESSFUL)
        .filter(return_value="sent")
        .count()
    )

    # Digests: each due subscription exactly one delivery for its window, sent once.
    subscriptions = DigestSubscription.objects.filter(pk__in=stack.digest_ids)
    deliveries = DigestDelivery.objects.filter(subscription__in=subscriptions)
    per_subscription = Counter(deliveries.values_list("subscription_id", flat=True))
    digest_status = Counter(deliveries.values_list("status", flat=True))
    not_delivered = sum(1 for pk in stack.digest_ids if per_subscription[pk] != 1)
    pending = digest_status.get(DigestDelivery.Status.PENDING, 0)
    sent_digests = digest_status.get(DigestDelivery.Status.SENT, 0)

    # Mail: every message different; as many as tasks that sent mail plus digests sent.
    mails = read_mail_sink()
    keys = Counter((m["to"], m["subject"], m["text"]) for m in mails)
    duplicate_mails = sum(n - 1 for n in keys.values() if n > 1)
    digest_mails = sum(1 for m in mails if "Digest" in m["subject"])
    addresses = dict(
        subscriptions.values_list("pk", "email")
    )  # public ones; members' addresses below
    for pk, user_email in subscriptions.filter(user__isnull=False).values_list("pk", "user__email"):
        addresses[pk] = user_email
    digest_to = Counter(m["to"] for m in mails if "Digest" in m["subject"])
    sent_addresses = [
        addresses[pk]
        for pk in deliveries.filter(status=DigestDelivery.Status.SENT).values_list(
            "subscription_id", flat=True
        )
    ]
    digest_mismatch = sum(1 for a in sent_addresses if digest_to[a] != 1) + sum(
        n for a, n in digest_to.items() if a not in set(sent_addresses)
    )
    if duplicate_mails or len(mails) != sent_mail_tasks + sent_digests:
        problems.append(
            f"Mails: {len(mails)} im Postfach, erwartet {sent_mail_tasks} + {sent_digests}, "
            f"doppelt {duplicate_mails}"
        )
    if not FAULTS:  # send_digests runs in the fault run only
        not_delivered = 0
    if not_delivered or pending or digest_mismatch:
        problems.append(
            f"Digests: ohne genau eine Zustellung {not_delivered}, wartend {pending}, "
            f"Postfach passt nicht {digest_mismatch}"
        )
    return {
        "ok": not problems,
        "problems": problems,
        "posts": posts_report,
        "notifications": notifications_report,
        "tasks": {
            "enqueued": sum(by_status.values()),
            "by_status": dict(by_status),
            "by_task": dict(by_task),
            "unfinished": unfinished,
        },
        "digests": {
            "due": len(stack.digest_ids),
            "deliveries": dict(digest_status),
            "without_exactly_one_delivery": not_delivered,
            "mailbox_mismatch": digest_mismatch,
        },
        "mail": {
            "in_sink": len(mails),
            "digest_mails": digest_mails,
            "sent_by_tasks": sent_mail_tasks,
            "duplicates": duplicate_mails,
        },
    }


# --- Main -----------------------------------------------------------------------------------


def ensure_postgres(database_url: str) -> None:
    parts = urlsplit(database_url)
    host, port = parts.hostname or HOST, parts.port or 5432
    if _reachable(port, host):
        return
    if host not in LOCAL_HOSTS:
        raise SystemExit(f"PostgreSQL auf {host}:{port} ist nicht erreichbar.")
    log("Starte PostgreSQL …")
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True
    )
    _wait_port(port, "PostgreSQL")


def require_data(database_url: str) -> None:
    import psycopg

    parts = urlsplit(database_url)
    try:
        with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as conn:
            threads = conn.execute("SELECT count(*) FROM forum_thread").fetchone()[0]
    except psycopg.Error:
        threads = 0
    if threads < REPLY_THREADS:
        raise SystemExit(
            f"Die Benchmarkdatenbank {parts.path.lstrip('/')} fehlt oder ist leer. Zuerst:\n"
            f"  DATABASE_URL={database_url} make bench-data"
        )


def main() -> None:
    database_url, label = bench_database_url()
    if label != "postgresql":
        raise SystemExit("bench.load braucht PostgreSQL (DATABASE_URL=postgres://…/bench).")
    os.environ["DATABASE_URL"] = database_url
    os.environ.pop("REDIS_URL", None)  # this process needs no cache; the stack has its own
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    ensure_postgres(database_url)
    require_data(database_url)
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(MAIL_DIR, ignore_errors=True)
    MAIL_DIR.mkdir(parents=True)
    for old in RUN_DIR.glob("*.log"):
        old.unlink()
    log(
        f"Datenbank {urlsplit(database_url).path.lstrip('/')}; {WORKERS} ASGI-Worker hinter "
        f"nginx (Port {PORT}), {TASK_WORKERS} Task-Worker, eigenes Redis auf {REDIS_PORT}; "
        f"{MEMBERS} Mitglieder je {SECONDS:g} s; Störungen: {'ja' if FAULTS else 'nein'}; "
        f"{os.cpu_count()} CPUs"
    )
    load_before = warn_if_busy()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    from bench.run import git, migrate

    migrate(database_url)
    stack = Stack(database_url)
    interrupted = False

    def stop(signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    report: dict = {}
    try:
        setup = prepare(stack)
        from django.utils import timezone

        from forum.models import DigestSubscription, Level, ThreadFollow

        stack.began_at = timezone.now()
        stack.digest_ids = list(
            DigestSubscription.objects.filter(next_due_at__lte=stack.began_at).values_list(
                "pk", flat=True
            )
        )
        watchers_before = set(
            ThreadFollow.objects.filter(
                thread_id__in=setup["reply_threads"], level=Level.WATCHING
            ).values_list("user_id", "thread_id")
        )
        log(f"{len(setup['clients'])} Sitzungen, {len(stack.digest_ids)} fällige Digests bereit")
        stack.start_redis()
        for i in range(WORKERS):
            stack.start_asgi(i)
        for i in range(TASK_WORKERS):
            stack.start_task_worker(i)
        for i in range(WORKERS):
            stack.wait_asgi(i)
        stack.start_nginx()
        runs, replies = asyncio.run(all_runs(stack, setup))
        settled = settle(stack, stack.killed_task_worker_at)
        consistency = check(stack, setup, replies, watchers_before)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stack.stop_all()
    if interrupted:
        raise SystemExit("Abgebrochen; alle Prozesse beendet.")
    log_errors = {
        name: sum(
            1
            for line in path.read_text(errors="replace").splitlines()
            if " ERROR " in line or "Traceback" in line
        )
        for name, path in stack.logs.items()
        if path.exists()
    }
    report = {
        "database": label,
        "started_at": started_at,
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "load_average_1m_before": round(load_before, 2),
        },
        "stack": {
            "asgi_workers": WORKERS,
            "task_workers": TASK_WORKERS,
            "proxy": "nginx " + nginx_version(),
            "members": MEMBERS,
            "websocket_clients": SOCKETS,
            "seconds": SECONDS,
            "think_s": THINK,
        },
        "runs": runs,
        "settle": settled,
        "consistency": consistency,
        "log_error_lines": log_errors,
    }
    out = OUT_DIR / f"load-{label}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    print()
    for run, summary in runs.items():
        if run == "warmup_sockets":
            continue
        print(table(run, summary))
        print()
    print("Konsistenz:", "in Ordnung" if consistency["ok"] else "FEHLER")
    for key in ("posts", "notifications", "tasks", "digests", "mail"):
        print(f"  {key}: {consistency[key]}")
    for problem in consistency["problems"]:
        print(f"  FEHLER: {problem}")
    print(f"Fehlerzeilen in den Protokollen ({RUN_DIR}): {log_errors}")
    print(f"Ergebnisse: {out}")
    steady = runs.get("steady", {})
    failed = (
        not consistency["ok"]
        or steady.get("server_errors")
        or steady.get("failed_in_flight")
        or any(r.get("server_errors") for r in runs.values())
    )
    if failed:
        raise SystemExit(1)


def nginx_version() -> str:
    done = subprocess.run(
        [shutil.which("nginx") or "/usr/sbin/nginx", "-v"], capture_output=True, text=True
    )
    return done.stderr.strip().rsplit("/", 1)[-1]


if __name__ == "__main__":
    main()
