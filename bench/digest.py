"""E-mail digests for 10,000 subscribers on the benchmark data (``make bench-digest``).

On top of ``make bench-data`` (same ``DATABASE_URL``): members with organisations, followed
tags, categories and threads and expertise tags (bulk-inserted, ``digest-00001`` …) and
confirmed public addresses (``bench-leser-…``), varied sections, topics and schedules, all due
at the benchmark clock (the data's ``ANCHOR``) with a window of one week that ends at each
subscriber's last sending slot. Then, as ``send_digests`` and its task workers would:

1. ``digests_claim`` (timed, queries counted);
2. build only, for 200, 1,000 and all pending digests (queries must not grow), and a cProfile
   of building and rendering one batch of ``SEND_BATCH``;
3. ``digests_send`` in ``BENCH_DIGEST_WORKERS`` (2) fresh processes, each on its half of the
   pending deliveries in batches of ``SEND_BATCH``, into ``bench.mailsink.CountingBackend``.

Every run first deletes all digest subscriptions and deliveries of the benchmark database
and the ``digest-…`` accounts, so it can be repeated. Result: ``var/bench/digest-<db>.json``
and one mail as sent in ``var/bench/digest-<db>.eml``.

    python -m bench.digest

Environment: ``BENCH_DIGEST_SUBSCRIBERS`` (10000), ``BENCH_DIGEST_PUBLIC`` (share of public
addresses, 0.3), ``BENCH_DIGEST_WORKERS`` (2), ``BENCH_SEED`` (2026), ``BENCH_DIGEST_PROFILE=1``
(cProfile of the first worker's whole send loop: slower, for finding hotspots).
"""

from __future__ import annotations

import contextlib
import cProfile
import functools
import io
import json
import multiprocessing
import os
import platform
import pstats
import random
import sys
import threading
import time
import traceback
from collections import Counter
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/digest.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus
from bench.common import OUT_DIR, use_bench_database, warn_if_busy
from bench.generate import ANCHOR, BATCH, SEED, SPAN

SUBSCRIBERS = int(os.environ.get("BENCH_DIGEST_SUBSCRIBERS", "10000"))
PUBLIC_SHARE = float(os.environ.get("BENCH_DIGEST_PUBLIC", "0.3"))
WORKERS = int(os.environ.get("BENCH_DIGEST_WORKERS", "2"))
# The benchmark clock: the generated content ends here, so one week back from each
# subscriber's last slot before it is full of posts (the real clock may be far ahead).
NOW = ANCHOR
WINDOW = timedelta(days=7)
USER_PREFIX = "digest-"
PUBLIC_PREFIX = "bench-leser-"
PUBLIC_DOMAINS = [
    "web.example",
    "gmx.example",
    "t-online.example",
    "posteo.example",
    "planungsbuero-rhein.example",
    "hochschule-ruhr.example",
]
# cProfile around the first worker's whole send loop (slows it down; for finding hotspots).
PROFILE_WORKER = os.environ.get("BENCH_DIGEST_PROFILE", "") not in ("", "0")
TARGET_SECONDS = 60
MAIL_BACKEND = "bench.mailsink.CountingBackend"


def log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)


# --- Counting queries -------------------------------------------------------------------------


class QueryCounter:
    """An execute wrapper: queries and their time per phase. Outside a named phase a query
    counts under its verb (``select``: loading and locking deliveries; ``update``: marking)."""

    def __init__(self) -> None:
        self.phase = ""
        self.queries: Counter[str] = Counter()
        self.db_seconds: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()

    def __call__(self, execute, sql, params, many, context):
        key = self.phase or sql.lstrip().split(None, 1)[0].lower()
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries[key] += 1
            self.db_seconds[key] += time.perf_counter() - started

    def total(self) -> int:
        return sum(self.queries.values())

    def timed(self, phase: str, function):
        """``function`` with its time and queries booked under ``phase``."""

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            previous, self.phase = self.phase, phase
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[phase] += time.perf_counter() - started
                self.phase = previous

        return wrapper


# --- Subscribers ------------------------------------------------------------------------------


def reset(started: float) -> None:
    """Remove what an earlier run left: every digest subscription and delivery of the
    benchmark database (no other benchmark makes any) and the ``digest-…`` accounts."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from taggit.models import TaggedItem

    from accounts.models import User
    from forum.models import DigestDelivery, DigestSubscription

    with transaction.atomic():
        deliveries, _ = DigestDelivery.objects.all().delete()
        subscriptions, _ = DigestSubscription.objects.all().delete()
        ours = User.objects.filter(handle__startswith=USER_PREFIX)
        # Tags on users live in taggit's generic table: no cascade from the user.
        TaggedItem.objects.filter(
            content_type=ContentType.objects.get_for_model(User),
            object_id__in=ours.values("pk"),
        ).delete()
        users, _ = ours.delete()
    log(
        f"Zurückgesetzt: {subscriptions} Abos, {deliveries} Zustellungen, "
        f"{users} Zeilen der digest-Konten (mit Abhängigen)",
        started,
    )


def pick_sections(rng: random.Random, odds: dict[str, float], fallback: list[str]) -> list[str]:
    chosen = [section for section, p in odds.items() if rng.random() < p]
    return chosen or list(fallback)


def create_subscribers(started: float) -> dict:
    """Members (the generated ones plus new accounts) and public addresses, all due at NOW."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from taggit.models import Tag, TaggedItem

    from accounts.models import Organisation, User
    from forum.models import (
        PUBLIC_SECTIONS,
        Category,
        CategoryFollow,
        DigestSubscription,
        Level,
        Section,
        TagFollow,
        Thread,
        ThreadFollow,
    )
    from forum.services.digests import last_slot
    from forum.text import german_slug

    rng = random.Random(SEED + 7)
    # The members of make bench-data (not the accounts other benchmarks add).
    existing = list(User.objects.filter(date_joined__lte=ANCHOR - SPAN).order_by("pk"))
    n_public = round(SUBSCRIBERS * PUBLIC_SHARE)
    existing = existing[: SUBSCRIBERS - n_public]
    n_new = SUBSCRIBERS - n_public - len(existing)
    organisations = list(
        Organisation.objects.filter(pk__in={u.organisation_id for u in existing})
        .prefetch_related("domains")
        .order_by("pk")
    )
    domain_of = {o.pk: sorted(d.domain for d in o.domains.all())[0] for o in organisations}
    # Larger towns have more staff on the forum.
    org_weights = [rng.lognormvariate(0, 0.7) for _ in organisations]
    tag_ids = list(Tag.objects.order_by("pk").values_list("pk", flat=True))
    category_ids = list(Category.objects.order_by("pk").values_list("pk", flat=True))
    recent = list(
        Thread.objects.filter(last_activity_at__gte=NOW - 2 * WINDOW)
        .order_by("-last_activity_at")
        .values_list("pk", flat=True)[:400]
    )
    all_threads = list(Thread.objects.values_list("pk", flat=True))
    moderation = Group.objects.filter(name="Moderation").first()
    unusable = make_password(None)

    with transaction.atomic():
        users = []
        for i in range(1, n_new + 1):
            organisation = rng.choices(organisations, weights=org_weights)[0]
            name = corpus.person_name(rng)
            handle = f"{USER_PREFIX}{i:05d}"
            joined = NOW - timedelta(days=rng.uniform(10, 900))
            pending = rng.random() < 0.04
            suspended = not pending and rng.random() < 0.005
            users.append(
                User(
                    email=f"{german_slug(name, max_length=30)}.{i}@{domain_of[organisation.pk]}",
                    handle=handle,
                    display_name=name,
                    organisation=organisation,
                    job_title=rng.choice(corpus.JOB_TITLES),
                    membership=User.Membership.PENDING if pending else User.Membership.APPROVED,
                    membership_changed_at=joined,
                    date_joined=joined,
                    suspended_at=NOW - timedelta(days=3) if suspended else None,
                    password=unusable,
                )
            )
        users = User.objects.bulk_create(users, batch_size=BATCH)
        if moderation is not None:
            moderators = [u for u in users if rng.random() < 0.003]
            User.groups.through.objects.bulk_create(
                [User.groups.through(user_id=u.pk, group_id=moderation.pk) for u in moderators],
                batch_size=BATCH,
            )
        log(f"{len(users)} neue Mitglieder (digest-…)", started)

        levels = [Level.WATCHING, Level.NORMAL, Level.MUTED]
        tag_follows, category_follows, thread_follows, expertise = [], [], [], []
        user_type = ContentType.objects.get_for_model(User)
        for user in users:
            k = rng.choice([0, 0, 1, 2, 3, 4, 6, 8])
            tag_follows += [
                TagFollow(user=user, tag_id=t, level=rng.choices(levels, [3, 6, 1])[0])
                for t in rng.sample(tag_ids, k)
            ]
            k = rng.choice([0, 0, 1, 1, 2, 3])
            category_follows += [
                CategoryFollow(user=user, category_id=c, level=rng.choices(levels, [3, 6, 1])[0])
                for c in rng.sample(category_ids, k)
            ]
            k = rng.choice([0, 1, 2, 4, 6, 10])
            threads = {
                rng.choice(recent) if recent and rng.random() < 0.7 else rng.choice(all_threads)
                for _ in range(k)
            }
            thread_follows += [
                ThreadFollow(user=user, thread_id=t, level=rng.choices(levels, [14, 5, 1])[0])
                for t in sorted(threads)
            ]
            expertise += [
                TaggedItem(tag_id=t, content_type=user_type, object_id=user.pk)
                for t in rng.sample(tag_ids[:100], rng.randint(0, 3))
            ]
        TagFollow.objects.bulk_create(tag_follows, batch_size=BATCH)
        CategoryFollow.objects.bulk_create(category_follows, batch_size=BATCH)
        ThreadFollow.objects.bulk_create(thread_follows, batch_size=BATCH)
        TaggedItem.objects.bulk_create(expertise, batch_size=BATCH)
        log(
            f"{len(tag_follows)} Schlagwort-, {len(category_follows)} Themenfeld-, "
            f"{len(thread_follows)} Themen-Abos, {len(expertise)} Fachgebiete",
            started,
        )

        member_odds = {
            Section.QUESTIONS: 0.75,
            Section.EXPERIENCES: 0.55,
            Section.COLLECTIONS: 0.35,
            Section.HELP: 0.45,
            Section.FOLLOWED: 0.65,
            Section.EVENTS: 0.35,
        }
        public_odds = {
            Section.QUESTIONS: 0.85,
            Section.EXPERIENCES: 0.6,
            Section.COLLECTIONS: 0.4,
            Section.EVENTS: 0.4,
        }
        hours = [6, 7, 7, 7, 8, 8, 9, 12, 17]
        subscriptions = []

        def due(subscription: DigestSubscription) -> DigestSubscription:
            # The window ends at the last slot before the clock and spans one week.
            end = last_slot(subscription, NOW)
            subscription.window_start = end - WINDOW
            subscription.next_due_at = end
            subscription.confirmed_at = end - WINDOW - timedelta(days=rng.uniform(1, 300))
            return subscription

        for user in [*existing, *users]:
            daily = rng.random() < 0.35
            subscriptions.append(
                due(
                    DigestSubscription(
                        user=user,
                        frequency="daily" if daily else "weekly",
                        weekday=rng.randrange(7),
                        hour=rng.choice(hours),
                        sections=pick_sections(rng, member_odds, [Section.QUESTIONS]),
                        topics=rng.choices(["followed", "all"], [6, 4])[0],
                        paused_until=(NOW + timedelta(days=14)).date()
                        if rng.random() < 0.03
                        else None,
                    )
                )
            )
        for i in range(1, n_public + 1):
            daily = rng.random() < 0.15
            subscriptions.append(
                due(
                    DigestSubscription(
                        email=f"{PUBLIC_PREFIX}{i:05d}@{rng.choice(PUBLIC_DOMAINS)}",
                        frequency="daily" if daily else "weekly",
                        weekday=0 if rng.random() < 0.6 else rng.randrange(7),
                        hour=7 if rng.random() < 0.7 else rng.choice(hours),
                        sections=pick_sections(rng, public_odds, list(PUBLIC_SECTIONS)),
                        topics="all",
                        paused_until=(NOW + timedelta(days=14)).date()
                        if rng.random() < 0.01
                        else None,
                    )
                )
            )
        DigestSubscription.objects.bulk_create(subscriptions, batch_size=BATCH)
    members = len(existing) + len(users)
    mix = Counter(
        ("member" if s.user_id else "public", s.frequency, s.topics) for s in subscriptions
    )
    log(
        f"{len(subscriptions)} Abos: {members} Mitglieder, {n_public} öffentliche Adressen", started
    )
    return {
        "subscriptions": len(subscriptions),
        "members": members,
        "members_generated_by_bench_data": len(existing),
        "members_new": len(users),
        "members_pending": sum(1 for u in users if u.membership == User.Membership.PENDING),
        "members_suspended": sum(1 for u in users if u.suspended_at),
        "public": n_public,
        "paused": sum(1 for s in subscriptions if s.paused_until),
        "mix": {" ".join(k): v for k, v in sorted(mix.items())},
        "sections": dict(Counter(x for s in subscriptions for x in s.sections)),
        "tag_follows": len(tag_follows),
        "category_follows": len(category_follows),
        "thread_follows": len(thread_follows),
        "expertise_tags": len(expertise),
    }


# --- Measuring --------------------------------------------------------------------------------


def load_deliveries(ids: list[int]):
    """As ``digests_send`` loads them."""
    from forum.models import DigestDelivery

    return list(
        DigestDelivery.objects.filter(pk__in=ids, status=DigestDelivery.Status.PENDING)
        .select_related("subscription__user__organisation")
        .order_by("pk")
    )


def scaling(pending: list[int], started: float) -> list[dict]:
    """Build only (nothing is sent or written) for more and more digests: the queries of
    ``build_digests`` must stay the same."""
    from django.db import connection

    from forum.services.digests import build_digests

    build_digests(load_deliveries(pending[:5]), now=NOW)  # warm caches (content types)
    rows = []
    for n in sorted({min(n, len(pending)) for n in (200, 1000, len(pending))}):
        deliveries = load_deliveries(pending[:n])
        counter = QueryCounter()
        with connection.execute_wrapper(counter):
            built = counter.timed("build", build_digests)(deliveries, now=NOW)
        non_empty = [d for _, d in built if d.count]
        rows.append(
            {
                "digests": n,
                "queries": counter.queries["build"],
                "seconds": round(counter.seconds["build"], 3),
                "db_seconds": round(counter.db_seconds["build"], 3),
                "non_empty": len(non_empty),
                "items": sum(d.count for d in non_empty),
            }
        )
        log(
            f"Bauen (ohne Versand) von {n:>6} Digests: {rows[-1]['queries']} Abfragen, "
            f"{rows[-1]['seconds']:.2f} s",
            started,
        )
    return rows


def profile_batch(pending: list[int], batch: int) -> dict:
    """cProfile of building and rendering one batch (and serialising its mails)."""
    from django.db import connection

    from forum.services.digests import build_digests, render_digest

    deliveries = load_deliveries(pending[:batch])
    # Once before: the first mail imports the URLconf and loads the templates.
    for _delivery, digest in build_digests(deliveries[:20], now=NOW):
        if digest.count:
            render_digest(digest)
            break
    counter = QueryCounter()
    profile = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(counter):
        profile.enable()
        built = counter.timed("build", build_digests)(deliveries, now=NOW)
        rendered = 0
        for _delivery, digest in built:
            if digest.count:
                counter.timed("render", render_digest)(digest).message().as_bytes()
                rendered += 1
        profile.disable()
    seconds = time.perf_counter() - started
    out = {}
    for order in ("tottime", "cumulative"):
        text = io.StringIO()
        pstats.Stats(profile, stream=text).strip_dirs().sort_stats(order).print_stats(20)
        out[order] = text.getvalue()
    return {
        "digests": len(deliveries),
        "rendered": rendered,
        "seconds": round(seconds, 3),
        "build_seconds": round(counter.seconds["build"], 3),
        "render_seconds": round(counter.seconds["render"], 3),
        "queries": dict(counter.queries),
        "profile": out,
    }


def worker(index: int, ids: list[int], batch: int, barrier, results) -> None:
    """One sending process (started fresh: its own Django and database connection)."""
    try:
        import django

        django.setup()
        from django.db import connection
        from django.test.utils import override_settings

        from bench.mailsink import CountingBackend
        from forum.services import digests

        counter = QueryCounter()
        builds: list[dict] = []
        build = counter.timed("build", digests.build_digests)

        def build_and_record(deliveries, **kwargs):
            before, seconds = counter.queries["build"], counter.seconds["build"]
            built = build(deliveries, **kwargs)
            builds.append(
                {
                    "digests": len(deliveries),
                    "queries": counter.queries["build"] - before,
                    "seconds": round(counter.seconds["build"] - seconds, 3),
                }
            )
            return built

        # Time and count the parts of digests_send without changing what it does.
        digests.build_digests = build_and_record
        digests.render_digest = counter.timed("render", digests.render_digest)
        CountingBackend.send_messages = counter.timed("send", CountingBackend.send_messages)
        totals: Counter[str] = Counter()
        profile = cProfile.Profile() if PROFILE_WORKER and index == 0 else None
        with override_settings(EMAIL_BACKEND=MAIL_BACKEND), connection.execute_wrapper(counter):
            connection.ensure_connection()
            barrier.wait(timeout=600)
            started, cpu = time.perf_counter(), time.process_time()
            if profile:
                profile.enable()
            for i in range(0, len(ids), batch):
                result = digests.digests_send(ids[i : i + batch], now=NOW)
                totals.update(vars(result))
            if profile:
                profile.disable()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        profiled = {}
        if profile:
            for order in ("tottime", "cumulative"):
                text = io.StringIO()
                pstats.Stats(profile, stream=text).sort_stats(order).print_stats(30)
                profiled[order] = text.getvalue()
        results.put(
            {
                "worker": index,
                "deliveries": len(ids),
                "seconds": round(seconds, 3),
                "cpu_seconds": round(cpu, 3),
                "result": dict(totals),
                "queries": dict(counter.queries),
                "queries_total": counter.total(),
                "db_seconds": {k: round(v, 3) for k, v in counter.db_seconds.items()},
                "phase_seconds": {k: round(v, 3) for k, v in counter.seconds.items()},
                "batches": builds,
                "backend": {
                    "mails": CountingBackend.sent,
                    "bytes": CountingBackend.bytes,
                    "seconds": round(CountingBackend.seconds, 3),
                },
                "sample": CountingBackend.sample.decode("utf-8", "replace"),
                "profile": profiled,
            }
        )
    except BaseException:
        barrier.abort()
        results.put({"worker": index, "error": traceback.format_exc()})


def send_in_workers(pending: list[int], batch: int, started: float) -> tuple[float, list[dict]]:
    """Split the pending deliveries in WORKERS contiguous parts, one fresh process each."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WORKERS + 1)
    results = context.Queue()
    size = -(-len(pending) // WORKERS)
    processes = [
        context.Process(
            target=worker, args=(i, pending[i * size : (i + 1) * size], batch, barrier, results)
        )
        for i in range(WORKERS)
    ]
    for process in processes:
        process.start()
    with contextlib.suppress(threading.BrokenBarrierError):
        barrier.wait(timeout=600)  # broken when a worker failed to start: its report says why
    begin = time.perf_counter()
    reports = []
    for _ in processes:
        reports.append(results.get(timeout=1800))
        if "error" not in reports[-1]:
            log(f"Worker {reports[-1]['worker']} fertig", started)
    wall = time.perf_counter() - begin
    for process in processes:
        process.join()
    return wall, sorted(reports, key=lambda r: r["worker"])


# --- Report -----------------------------------------------------------------------------------


def summary(report: dict) -> str:
    workers = report["workers"]
    wall = report["send_wall_seconds"]
    sent = sum(w["result"].get("sent", 0) for w in workers)
    empty = sum(w["result"].get("empty", 0) for w in workers)
    mails = sum(w["backend"]["mails"] for w in workers)
    built = sum(b["digests"] for w in workers for b in w["batches"])
    claim = report["claim"]
    lines = [
        f"Datenbank {report['database']}, {len(workers)} Worker, Stapel {report['batch']}, "
        f"Uhr der Messung {report['clock']}",
        f"Abos {report['subscribers']['subscriptions']} "
        f"({report['subscribers']['members']} Mitglieder, {report['subscribers']['public']} "
        f"öffentlich)",
        f"Beanspruchen: {claim['seconds']:.2f} s, {claim['claimed']} fällig, "
        f"{claim['skipped']} pausiert/gesperrt, {claim['queries_total']} Abfragen "
        f"{claim['queries']} in {claim['db_seconds']:.2f} s",
        "",
        f"{'Worker':<8}{'Digests':>8}{'Zeit s':>8}{'CPU s':>7}{'bauen s':>9}{'rendern s':>10}"
        f"{'Backend s':>10}{'BEGIN s':>8}{'Rest s':>8}{'verschickt':>11}{'leer':>6}{'Abfr. bauen':>12}"
        f"{'SELECT':>8}{'UPDATE':>8}",
    ]
    for w in workers:
        phases = w["phase_seconds"]
        begin = w["db_seconds"].get("begin", 0.0)  # SQLite: waiting for the write lock
        rest = w["seconds"] - sum(phases.values()) - begin
        lines.append(
            f"{w['worker']:<8}{w['deliveries']:>8}{w['seconds']:>8.1f}{w['cpu_seconds']:>7.1f}"
            f"{phases.get('build', 0):>9.2f}{phases.get('render', 0):>10.2f}"
            f"{phases.get('send', 0):>10.2f}{begin:>8.2f}{rest:>8.2f}"
            f"{w['result'].get('sent', 0):>11}{w['result'].get('empty', 0):>6}"
            f"{w['queries'].get('build', 0):>12}{w['queries'].get('select', 0):>8}"
            f"{w['queries'].get('update', 0):>8}"
        )
    per_batch = sorted({b["queries"] for w in workers for b in w["batches"]})
    build_queries = sum(w["queries"].get("build", 0) for w in workers)
    lines += [
        "",
        f"Gesamt (parallel): {wall:.1f} s für {built} Digests, {sent} verschickt, {empty} leer; "
        f"{mails / wall:.0f} Mails/s an das Backend; Ziel < {TARGET_SECONDS} s: "
        f"{'erreicht' if wall < TARGET_SECONDS else 'VERFEHLT'}",
        f"Abfragen zum Bauen je Stapel: {per_batch} "
        f"({build_queries / max(built, 1):.3f} je Digest)",
        f"Schreiben je Digest: {report['writes_per_digest']}",
        "Bauen ohne Versand: "
        + ", ".join(
            f"{r['digests']} → {r['queries']} Abfragen / {r['seconds']:.2f} s"
            for r in report["scaling"]
        ),
    ]
    return "\n".join(lines)


def main() -> None:
    started = time.perf_counter()
    label = use_bench_database()
    os.environ["DJANGO_DEBUG"] = "false"  # as in production (no query log)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import OperationalError, connection
    from django.db.models import Count

    from forum.models import DigestDelivery, Thread
    from forum.services import digests

    print(
        f"Datenbank {label}; {SUBSCRIBERS} Abonnenten, {WORKERS} Worker; {os.cpu_count()} CPUs",
        flush=True,
    )
    load = warn_if_busy()
    try:
        call_command("migrate", interactive=False, verbosity=0)
        threads = Thread.objects.count()
    except OperationalError as exc:
        raise SystemExit(f"Keine Benchmarkdatenbank ({exc}): zuerst make bench-data.") from None
    if threads < 1000:
        raise SystemExit(f"Nur {threads} Themen in der Benchmarkdatenbank: zuerst make bench-data.")
    log(f"migriert; {threads} Themen", started)

    reset(started)
    subscribers = create_subscribers(started)

    counter = QueryCounter()
    with connection.execute_wrapper(counter):
        claim_started = time.perf_counter()
        claimed = digests.digests_claim(now=NOW)
        claim_seconds = time.perf_counter() - claim_started
    claim = {
        "seconds": round(claim_seconds, 3),
        "claimed": claimed.claimed,
        "skipped": claimed.skipped,
        "queries": dict(counter.queries),
        "queries_total": counter.total(),
        "db_seconds": round(sum(counter.db_seconds.values()), 3),
    }
    log(f"beansprucht: {claimed.claimed} fällig, {claimed.skipped} übersprungen", started)

    pending = digests.pending_delivery_ids()
    batch = digests.SEND_BATCH
    scaling_rows = scaling(pending, started)
    profiled = profile_batch(pending, batch)
    log(
        f"Profil eines Stapels: {profiled['digests']} gebaut, {profiled['rendered']} gerendert "
        f"in {profiled['seconds']:.2f} s (Abfragen {profiled['queries']})",
        started,
    )

    wall, reports = send_in_workers(pending, batch, started)
    errors = [r for r in reports if "error" in r]
    if errors:
        for r in errors:
            print(f"Worker {r['worker']} fehlgeschlagen:\n{r['error']}")
        raise SystemExit(1)

    statuses = dict(DigestDelivery.objects.values_list("status").annotate(n=Count("id")))
    sent = sum(w["result"].get("sent", 0) for w in reports)
    digested = sum(w["result"].get("sent", 0) + w["result"].get("empty", 0) for w in reports)
    selects = sum(w["queries"].get("select", 0) for w in reports)
    updates = sum(w["queries"].get("update", 0) for w in reports)
    batches = sum(len(w["batches"]) for w in reports)
    report = {
        "database": label,
        "clock": NOW.isoformat(),
        "batch": batch,
        "host": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "load_average_1m_before": round(load, 2),
        "subscribers": subscribers,
        "claim": claim,
        "scaling": scaling_rows,
        "profile_batch": profiled,
        "send_wall_seconds": round(wall, 3),
        "mails_per_second": round(sent / wall, 1),
        "target_seconds": TARGET_SECONDS,
        "writes_per_digest": {
            "select_lock": round((selects - batches) / max(digested, 1), 3),
            "update_mark": round(updates / max(digested, 1), 3),
            "select_load_per_batch": 1,
        },
        "statuses": statuses,
        "workers": [{k: v for k, v in w.items() if k != "sample"} for w in reports],
    }
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"digest-{label}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    sample = next((w["sample"] for w in reports if w["sample"]), "")
    (OUT_DIR / f"digest-{label}.eml").write_text(sample)
    print()
    print(summary(report))
    print()
    print("Profil eines Stapels (bauen + rendern), nach Eigenzeit:")
    print("\n".join(profiled["profile"]["tottime"].splitlines()[:32]))
    for w in reports:
        if w.get("profile"):
            print(f"\nProfil von Worker {w['worker']} (ganzer Versand), kumulativ:")
            print("\n".join(w["profile"]["cumulative"].splitlines()[:45]))
    print(f"Zustände: {statuses}")
    print(f"Ergebnisse: {out}")
    mails = sum(w["backend"]["mails"] for w in reports)
    if statuses.get("pending") or mails != sent or sent != statuses.get("sent", 0):
        print("Achtung: Zustände und Backend stimmen nicht überein.")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
