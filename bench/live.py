"""Live notifications under load (``make bench-live``).

N real WebSocket clients (``BENCH_LIVE_CLIENTS``, 1,000), each signed in as its own member, stay
connected to ``/ws/live/`` on the production-like server of ``bench/run.py`` (uvicorn, two
workers, DEBUG off) with the Redis channel layer. A separate process then writes notifications
through the forum's one writer, ``forum.services.notifications.notify()``, inside a transaction
(so the push runs after commit, through ``group_send`` to ``user.<id>``, exactly as in a
request), at ``BENCH_LIVE_RATE`` per second (100) for ``BENCH_LIVE_SECONDS`` (10), one
recipient after the other (round robin over the clients).

Delivery latency is the time from the commit to the arrival of the message at the client
(both clocks are the machine's CLOCK_MONOTONIC). Reported: p50/p95/p99/max, the split into
the sender's after-commit work and the way through Redis and the server, notifications per
second, and the server's memory (RSS of the uvicorn processes) before connecting, with N idle
sockets, at the peak during the run and after it. Results: ``var/bench/live-<db>.json``; the
exit status is 1 when a notification was lost or went to the wrong client.

    python -m bench.live            (after make bench-data with PostgreSQL)

Environment: ``DATABASE_URL`` (PostgreSQL; the database ``bench`` on that server, default
``postgres://postgres@127.0.0.1:5432/bench``), ``REDIS_URL`` (``redis://127.0.0.1:6379/1``);
both are started on this machine when they are local and down. ``BENCH_LIVE_CLIENTS`` (1000),
``BENCH_LIVE_RATE`` (100), ``BENCH_LIVE_SECONDS`` (10), ``BENCH_LIVE_SENDERS`` (threads writing
notifications, 4), ``BENCH_LIVE_CONNECT`` (handshakes in flight, 50), ``BENCH_WORKERS`` (2),
``BENCH_PORT`` (8765).
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import resource
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

if __package__ in (None, ""):  # run as a script: python bench/live.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/1"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)

from bench import run as server  # noqa: E402  (start/stop exactly like make bench)
from bench.common import BASE_DIR, OUT_DIR, bench_database_url, dataset_file, warn_if_busy  # noqa: E402

CLIENTS = int(os.environ.get("BENCH_LIVE_CLIENTS", "1000"))
RATE = float(os.environ.get("BENCH_LIVE_RATE", "100"))
SECONDS = float(os.environ.get("BENCH_LIVE_SECONDS", "10"))
SENDERS = int(os.environ.get("BENCH_LIVE_SENDERS", "4"))
CONNECT_IN_FLIGHT = int(os.environ.get("BENCH_LIVE_CONNECT", "50"))
# Seconds the connected clients stay idle before the notifications start: most sockets of a
# forum are idle most of the time, and a layer that drops idle consumers shows up here.
IDLE = float(os.environ.get("BENCH_LIVE_IDLE", "10"))
# Seconds to wait for stragglers after the last notification was written.
GRACE = float(os.environ.get("BENCH_LIVE_GRACE", "10"))
WARMUP_NOTIFICATIONS = 20
P99_TARGET_MS = 200.0
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
EMAIL_DOMAIN = "bochum.de"
SENDER_HANDLE = "live-absender"
# live-0 receives the warm-up notifications and is never connected; live-1 … live-N are clients.
PREFIX = "LIVE "  # marks the trigger process's own lines on its stdout


# --- Services and limits ------------------------------------------------------------------------


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def _wait_for(host: str, port: int, what: str) -> None:
    for _ in range(60):
        if _reachable(host, port):
            return
        time.sleep(0.5)
    raise SystemExit(f"{what} auf {host}:{port} antwortet nicht.")


def ensure_services() -> None:
    """Start local PostgreSQL and Redis when they are down (as .ci/run does)."""
    db = urlsplit(os.environ["DATABASE_URL"])
    host, port = db.hostname or "127.0.0.1", db.port or 5432
    if not _reachable(host, port):
        if host not in LOCAL_HOSTS:
            raise SystemExit(f"PostgreSQL auf {host}:{port} ist nicht erreichbar.")
        print("Starte PostgreSQL …", flush=True)
        version = sorted(os.listdir("/etc/postgresql"))[0]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True
        )
        _wait_for(host, port, "PostgreSQL")
    redis = urlsplit(os.environ["REDIS_URL"])
    host, port = redis.hostname or "127.0.0.1", redis.port or 6379
    if not _reachable(host, port):
        if host not in LOCAL_HOSTS:
            raise SystemExit(f"Redis auf {host}:{port} ist nicht erreichbar.")
        print("Starte Redis …", flush=True)
        subprocess.run(
            [
                *("redis-server", "--daemonize", "yes", "--bind", host, "--port", str(port)),
                *("--save", "", "--appendonly", "no"),
            ],
            check=True,
        )
        _wait_for(host, port, "Redis")


def raise_open_file_limit(needed: int) -> int:
    """Soft limit up to the hard limit; the server started afterwards inherits it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = int(Path("/proc/sys/fs/nr_open").read_text())
    if soft == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if soft < needed:
        raise SystemExit(
            f"Offene Dateien: Grenze {soft}, nötig etwa {needed} (ulimit -Hn erhöhen)."
        )
    return soft


# --- Server memory ------------------------------------------------------------------------------


def _descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def server_memory(pid: int) -> dict:
    """VmRSS of the uvicorn master and all its descendants (the workers), in MiB."""
    per_process = {}
    for child in _descendants(pid):
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                per_process[child] = round(int(line.split()[1]) / 1024, 1)
    return {"total_mib": round(sum(per_process.values()), 1), "processes_mib": per_process}


# --- Bench users, sessions and the thread -------------------------------------------------------


def prepare(label: str) -> dict:
    """Members live-0 … live-N and the sender (idempotent), one fresh session per client,
    and the public thread of the data set. Old notifications of these members are removed,
    so that every run starts from the same unread counts."""
    import django

    django.setup()
    from importlib import import_module

    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.db import connections, transaction
    from django.utils import timezone

    from accounts.models import Organisation, TermsAcceptance, User
    from accounts.selectors import current_terms
    from forum.models import Category, Notification, Thread

    try:
        dataset = json.loads(dataset_file(label).read_text())
    except FileNotFoundError:
        raise SystemExit(
            f"Keine Benchmarkdaten für {label}: zuerst "
            f"DATABASE_URL={os.environ['DATABASE_URL']} make bench-data."
        ) from None
    thread = Thread.objects.select_related("category").get(pk=dataset["thread_id"])
    if thread.is_hidden or thread.category.visibility != Category.Visibility.PUBLIC:
        raise SystemExit(f"Thema {thread.pk} ist nicht öffentlich.")
    organisation = Organisation.objects.get(slug="bochum")
    handles = [SENDER_HANDLE] + [f"live-{i}" for i in range(CLIENTS + 1)]
    now = timezone.now()
    with transaction.atomic():
        existing = set(User.objects.filter(handle__in=handles).values_list("handle", flat=True))
        password = make_password(None)  # unusable: these members only have sessions
        User.objects.bulk_create(
            [
                User(
                    email=f"{handle}@{EMAIL_DOMAIN}",
                    handle=handle,
                    display_name=f"Live {handle.removeprefix('live-').capitalize()}",
                    organisation=organisation,
                    job_title="Lastmessung Live-Benachrichtigungen",
                    membership=User.Membership.APPROVED,
                    membership_changed_at=now,
                    password=password,
                )
                for handle in handles
                if handle not in existing
            ],
            batch_size=500,
        )
        users = {u.handle: u for u in User.objects.filter(handle__in=handles)}
        User.objects.filter(pk__in=[u.pk for u in users.values()]).update(
            is_active=True, membership=User.Membership.APPROVED, organisation=organisation
        )
        EmailAddress.objects.bulk_create(
            [
                EmailAddress(user=u, email=u.email, verified=True, primary=True)
                for u in users.values()
            ],
            batch_size=500,
            ignore_conflicts=True,
        )
        terms = current_terms()
        if terms is not None:
            TermsAcceptance.objects.bulk_create(
                [TermsAcceptance(user=u, terms=terms) for u in users.values()],
                batch_size=500,
                ignore_conflicts=True,
            )
        ids = [u.pk for u in users.values()]
        Notification.objects.filter(recipient_id__in=ids).delete()

    # A session per client, as a login would leave it (no N logins through the form).
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    store_class.clear_expired()
    backend = "django.contrib.auth.backends.ModelBackend"
    clients = []
    with transaction.atomic():
        for i in range(1, CLIENTS + 1):
            user = users[f"live-{i}"]
            session = store_class()
            session[SESSION_KEY] = str(user.pk)
            session[BACKEND_SESSION_KEY] = backend
            session[HASH_SESSION_KEY] = user.get_session_auth_hash()
            session.set_expiry(timedelta(hours=2))
            session.create()
            clients.append(
                {"user": user.pk, "cookie": f"{settings.SESSION_COOKIE_NAME}={session.session_key}"}
            )
    connections.close_all()
    return {
        "thread": thread.pk,
        "sender": users[SENDER_HANDLE].pk,
        "warmup_recipient": users["live-0"].pk,
        "clients": clients,
    }


# --- The trigger process ------------------------------------------------------------------------


def trigger_main() -> None:
    """Write notifications through notify() at the target rate (own process, own GIL).

    As in a request served by the ASGI server, the synchronous service runs in a worker thread
    under the event loop (sync_to_async), so the after-commit push's async_to_sync reuses that
    loop and the channel layer's Redis connections."""
    config = json.loads(sys.stdin.readline())
    import django

    django.setup()
    from asgiref.sync import sync_to_async
    from django.db import close_old_connections, transaction

    from accounts.models import User
    from forum.models import Kind, Thread
    from forum.services.notifications import notify

    thread = Thread.objects.select_related("category").get(pk=config["thread"])
    sender = User.objects.get(pk=config["sender"])
    by_pk = User.objects.in_bulk([config["warmup_recipient"], *config["recipients"]])
    recipients = [by_pk[pk] for pk in config["recipients"]]

    def one(recipient: User) -> tuple[int, float, float]:
        committed: list[float] = []
        with transaction.atomic():
            # Registered before notify() registers its push: runs first, right after COMMIT.
            transaction.on_commit(lambda: committed.append(time.monotonic()))
            # Kind "quote": shown on the site only (a mention would also send an e-mail).
            written = notify([recipient], kind=Kind.QUOTE, thread=thread, actor=sender)
        pushed = time.monotonic()
        close_old_connections()
        if len(written) != 1:
            raise RuntimeError(f"notify() schrieb {len(written)} Benachrichtigungen")
        return written[0].pk, committed[0], pushed

    async def run() -> None:
        send = sync_to_async(one, thread_sensitive=False)
        for _ in range(WARMUP_NOTIFICATIONS):
            await send(by_pk[config["warmup_recipient"]])
        print(f"{PREFIX}ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        total = len(recipients) if config["total"] is None else config["total"]
        rate = config["rate"]
        records: list[list] = []
        behind = 0
        next_index = 0
        started = time.monotonic()

        async def sender_task() -> None:
            nonlocal next_index, behind
            while next_index < total:
                k = next_index
                next_index += 1
                delay = started + k / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                elif delay < -0.01:
                    behind += 1
                recipient = recipients[k % len(recipients)]
                pk, committed, pushed = await send(recipient)
                records.append([pk, recipient.pk, committed, pushed])

        await asyncio.gather(*(sender_task() for _ in range(config["senders"])))
        finished = time.monotonic()
        result = {"started": started, "finished": finished, "late": behind, "records": records}
        print(PREFIX + json.dumps(result), flush=True)

    asyncio.run(run())


# --- The clients and the measurement ------------------------------------------------------------


class Client:
    def __init__(self, index: int, user: int, cookie: str) -> None:
        self.index, self.user, self.cookie = index, user, cookie
        self.ws = None
        self.messages: list[tuple[float, str]] = []
        self.close_code: int | None = None
        self.closed_at: float | None = None
        self.error = ""

    async def connect(self, url: str, origin: str, gate: asyncio.Semaphore) -> None:
        from websockets.asyncio.client import connect

        async with gate:
            try:
                # Like a browser: Origin, session cookie, permessage-deflate offered.
                self.ws = await connect(
                    url,
                    origin=origin,
                    additional_headers={"Cookie": self.cookie},
                    open_timeout=60,
                    max_queue=None,
                )
            except Exception as exc:
                self.error = f"{type(exc).__name__}: {exc}"

    async def listen(self, total: dict) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                self.messages.append((time.monotonic(), raw))
                total["n"] += 1
        except ConnectionClosed:
            pass
        self.close_code, self.closed_at = self.ws.close_code, time.monotonic()

    @property
    def is_open(self) -> bool:
        from websockets.protocol import State

        return self.ws is not None and self.ws.state is State.OPEN


def percentile(values: list[float], share: float) -> float:
    """Nearest rank on sorted values."""
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, math.ceil(share * len(values)) - 1))]


def spread(values_s: list[float]) -> dict:
    ms = sorted(v * 1000 for v in values_s)
    return {
        "p50_ms": round(percentile(ms, 0.50), 2),
        "p95_ms": round(percentile(ms, 0.95), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(ms[-1], 2) if ms else None,
        "mean_ms": round(sum(ms) / len(ms), 2) if ms else None,
    }


async def _read_line(stream: asyncio.StreamReader, what: str) -> str:
    while True:
        line = await stream.readline()
        if not line:
            raise SystemExit(f"Der Auslöser ist beendet ({what}); siehe Protokoll.")
        text = line.decode()
        if text.startswith(PREFIX):
            return text[len(PREFIX) :].strip()


async def measure(process, setup: dict, trigger_log: Path) -> dict:
    host, port = server.HOST, server.PORT
    url, origin = f"ws://{host}:{port}/ws/live/", f"http://{host}:{port}"
    trigger = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.live",
        "trigger",
        cwd=BASE_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=trigger_log.open("w"),
        limit=2**26,
    )
    total = None if RATE * SECONDS <= 0 else round(RATE * SECONDS)
    config = {
        "thread": setup["thread"],
        "sender": setup["sender"],
        "warmup_recipient": setup["warmup_recipient"],
        "recipients": [c["user"] for c in setup["clients"]],
        "rate": RATE,
        "total": total,
        "senders": SENDERS,
    }
    trigger.stdin.write((json.dumps(config) + "\n").encode())
    await trigger.stdin.drain()
    try:
        memory = {"before_connect": server_memory(process.pid)}
        clients = [Client(i, c["user"], c["cookie"]) for i, c in enumerate(setup["clients"])]
        gate = asyncio.Semaphore(CONNECT_IN_FLIGHT)
        began = time.monotonic()
        await asyncio.gather(*(c.connect(url, origin, gate) for c in clients))
        connect_seconds = time.monotonic() - began
        failed = [c for c in clients if c.ws is None]
        if failed:
            raise SystemExit(
                f"{len(failed)} von {len(clients)} Verbindungen gescheitert, "
                f"z. B.: {failed[0].error}"
            )
        received = {"n": 0}
        listeners = [asyncio.create_task(c.listen(received)) for c in clients]
        await asyncio.sleep(1.0)  # a refused session would be closed with 4401 by now
        closed = [c for c in clients if not c.is_open]
        if closed or received["n"]:
            codes = sorted({int(c.close_code or 0) for c in closed})
            raise SystemExit(
                f"Nach dem Verbinden: {len(closed)} geschlossen (Codes {codes}; 4401: "
                f"Sitzung abgelehnt), {received['n']} unerwartete Nachrichten."
            )
        print(
            f"{len(clients)} Clients verbunden in {connect_seconds:.1f} s; Leerlauf {IDLE:g} s …",
            flush=True,
        )
        await asyncio.sleep(IDLE)
        memory["idle_sockets"] = server_memory(process.pid)
        dropped_idle = sum(not c.is_open for c in clients)
        if dropped_idle:
            print(f"Achtung: {dropped_idle} Clients im Leerlauf getrennt.", flush=True)
        await _read_line(trigger.stdout, "Aufwärmen")
        peak = {"total_mib": 0.0}
        sampling = True

        async def sample() -> None:
            nonlocal peak
            while sampling:
                current = await asyncio.to_thread(server_memory, process.pid)
                if current["total_mib"] > peak["total_mib"]:
                    peak = current
                await asyncio.sleep(0.5)

        sampler = asyncio.create_task(sample())
        load_before = os.getloadavg()[0]
        trigger.stdin.write(b"go\n")
        await trigger.stdin.drain()
        print(f"Sende {total} Benachrichtigungen mit {RATE:g}/s …", flush=True)
        result = json.loads(await _read_line(trigger.stdout, "Senden"))
        by_user = {c.user: c for c in clients}

        def unreachable() -> int:
            """Notifications committed after their client's socket had been closed."""
            return sum(
                1
                for _, user, committed, _ in result["records"]
                if (by_user[user].closed_at or math.inf) <= committed
            )

        deadline = time.monotonic() + GRACE
        while (
            received["n"] + unreachable() < len(result["records"]) and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.2)  # anything beyond the expected would show up as unexpected
        load_after = os.getloadavg()[0]
        sampling = False
        await sampler
        memory["peak_during_run"] = peak
        memory["after_run"] = server_memory(process.pid)
        still_open = sum(c.is_open for c in clients)
        dropped = []
        for c in clients:
            if not c.is_open:
                closed_at = c.closed_at or time.monotonic()
                dropped.append(
                    {
                        "user": c.user,
                        "close_code": int(c.close_code or c.ws.close_code or 0),
                        "closed_at": closed_at,
                        "seconds_after_sending_began": round(closed_at - result["started"], 2),
                    }
                )
    finally:
        if trigger.returncode is None:
            trigger.kill()
        await trigger.wait()
    for client in clients:
        if client.ws is not None:
            await client.ws.close()
    await asyncio.gather(*listeners, return_exceptions=True)
    return {
        "clients": clients,
        "connect_seconds": connect_seconds,
        "trigger": result,
        "memory": memory,
        "still_open": still_open,
        "dropped": dropped,
        "dropped_idle": dropped_idle,
        "idle_seconds": IDLE,
        "load_average_1m": {"before": round(load_before, 2), "after": round(load_after, 2)},
    }


def evaluate(measured: dict) -> dict:
    records = measured["trigger"]["records"]
    sent = {pk: (recipient, committed, pushed) for pk, recipient, committed, pushed in records}
    arrivals: dict[int, tuple[float, int]] = {}
    unexpected = misdelivered = duplicates = 0
    for client in measured["clients"]:
        for at, raw in client.messages:
            try:
                message = json.loads(raw)
                pk = message["payload"]["id"] if message.get("type") == "notification" else None
            except (ValueError, KeyError, TypeError, AttributeError):
                pk = None
            if pk not in sent:
                unexpected += 1
            elif sent[pk][0] != client.user:
                misdelivered += 1
            elif pk in arrivals:
                duplicates += 1
            else:
                arrivals[pk] = (at, client.user)
    latency = [arrivals[pk][0] - sent[pk][1] for pk in arrivals]
    after_commit = [pushed - committed for _, committed, pushed in sent.values()]
    transport = [arrivals[pk][0] - sent[pk][2] for pk in arrivals]
    trigger = measured["trigger"]
    sending_seconds = trigger["finished"] - trigger["started"]
    first_commit = min((c for _, c, _ in sent.values()), default=0.0)
    last_arrival = max((at for at, _ in arrivals.values()), default=first_commit)
    closed_at = {d["user"]: d["closed_at"] for d in measured["dropped"]}
    lost_to_closed = sum(
        1
        for pk, (recipient, committed, _) in sent.items()
        if pk not in arrivals and closed_at.get(recipient, math.inf) <= committed
    )
    return {
        "sent": len(sent),
        "received": len(arrivals),
        "lost": len(sent) - len(arrivals),
        "lost_to_closed_sockets": lost_to_closed,
        "misdelivered": misdelivered,
        "duplicates": duplicates,
        "unexpected_messages": unexpected,
        "late_starts": trigger["late"],
        "sent_per_s": round(len(sent) / sending_seconds, 1) if sending_seconds else None,
        "delivered_per_s": round(len(arrivals) / (last_arrival - first_commit), 1)
        if last_arrival > first_commit
        else None,
        "latency": spread(latency),
        "after_commit_in_sender": spread(after_commit),
        "redis_server_client": spread(transport),
    }


def table(report: dict) -> str:
    r = report["result"]
    m = report["server_memory"]

    def row(name: str, s: dict) -> str:
        return (
            f"{name:<32} {s['p50_ms']:>8.1f} {s['p95_ms']:>8.1f} {s['p99_ms']:>8.1f} "
            f"{s['max_ms']:>8.1f}"
        )

    head = f"{'Zeit ab Commit (ms)':<32} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
    c = report["clients"]
    codes = sorted({d["close_code"] for d in c["dropped"]})
    lines = [
        f"Clients verbunden   {c['connected']} (Aufbau {c['connect_seconds']} s, "
        f"Leerlauf {c['idle_seconds']:g} s, am Ende offen {c['open_at_end']}"
        + (
            f"; vom Server getrennt {len(c['dropped'])}, davon im Leerlauf "
            f"{c['dropped_while_idle']}, Codes {codes}"
            if c["dropped"]
            else ""
        )
        + ")",
        f"Benachrichtigungen  gesendet {r['sent']}, angekommen {r['received']}, "
        f"verloren {r['lost']} (an getrennte Clients {r['lost_to_closed_sockets']}), "
        f"falsch zugestellt {r['misdelivered']}, unerwartet {r['unexpected_messages']}",
        f"Rate                Ziel {report['target']['rate_per_s']:g}/s, gesendet "
        f"{r['sent_per_s']}/s, zugestellt {r['delivered_per_s']}/s "
        f"(verspätet begonnen: {r['late_starts']})",
        f"Server-RSS (MiB)    vor dem Verbinden {m['before_connect']['total_mib']}, "
        f"{report['clients']['connected']} offene Sockets {m['idle_sockets']['total_mib']}, "
        f"Spitze {m['peak_during_run']['total_mib']}, danach {m['after_run']['total_mib']}",
        "",
        head,
        "-" * len(head),
        row("Zustellung (Commit → Client)", r["latency"]),
        row("  davon Sender nach Commit", r["after_commit_in_sender"]),
        row("  davon Redis → Server → Client", r["redis_server_client"]),
    ]
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "trigger":
        trigger_main()
        return
    database_url, label = bench_database_url()
    if label != "postgresql":
        raise SystemExit("bench.live braucht PostgreSQL (DATABASE_URL=postgres://…).")
    os.environ["DATABASE_URL"] = database_url  # children (trigger, server) use the same
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    limit = raise_open_file_limit(CLIENTS + 256)
    ensure_services()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(
        f"Datenbank {label}, Redis {os.environ['REDIS_URL']}; {server.WORKERS} uvicorn-Worker; "
        f"{CLIENTS} Clients, {RATE:g} Benachrichtigungen/s für {SECONDS:g} s "
        f"({SENDERS} Sender-Threads); {os.cpu_count()} CPUs; offene Dateien bis {limit}",
        flush=True,
    )
    warn_if_busy()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    server.migrate(database_url)
    began = time.perf_counter()
    setup = prepare(label)
    print(
        f"{CLIENTS} Mitglieder und Sitzungen bereit in {time.perf_counter() - began:.1f} s",
        flush=True,
    )
    log_path = OUT_DIR / f"live-server-{label}.log"
    trigger_log = OUT_DIR / f"live-trigger-{label}.log"
    process = server.start_server(database_url, log_path)
    try:
        measured = asyncio.run(measure(process, setup, trigger_log))
    finally:
        server.stop_server(process)
    result = evaluate(measured)
    server_errors = [
        line for line in log_path.read_text().splitlines() if "ERROR" in line or "Traceback" in line
    ]
    report = {
        "database": label,
        "redis": os.environ["REDIS_URL"],
        "started_at": started_at,
        "git_commit": server.git("rev-parse", "--short", "HEAD"),
        "git_uncommitted_files": len(server.git("status", "--porcelain").splitlines()),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "open_files_limit": limit,
        },
        "server": {"command": " ".join(server.server_command()), "workers": server.WORKERS},
        "target": {
            "clients": CLIENTS,
            "rate_per_s": RATE,
            "seconds": SECONDS,
            "senders": SENDERS,
            "p99_ms": P99_TARGET_MS,
        },
        "clients": {
            "connected": sum(c.ws is not None for c in measured["clients"]),
            "connect_seconds": round(measured["connect_seconds"], 2),
            "open_at_end": measured["still_open"],
            "idle_seconds": measured["idle_seconds"],
            "dropped_while_idle": measured["dropped_idle"],
            "dropped": measured["dropped"],
        },
        "load_average_1m": measured["load_average_1m"],
        "server_error_lines": len(server_errors),
        "result": result,
        "server_memory": measured["memory"],
    }
    out = OUT_DIR / f"live-{label}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print()
    print(table(report))
    p99 = result["latency"]["p99_ms"]
    verdict = "erreicht" if p99 < P99_TARGET_MS else "VERFEHLT"
    print(f"\nZiel p99 < {P99_TARGET_MS:.0f} ms: {verdict} ({p99:.1f} ms)")
    print(f"Ergebnisse: {out}")
    if server_errors:
        print(f"Achtung: {len(server_errors)} Fehlerzeilen im Serverprotokoll {log_path}")
    if result["lost"] or result["misdelivered"]:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
