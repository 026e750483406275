"""Fill the benchmark database with a large, deterministic forum (``make bench-data``).

200 members in 20 organisations, 10 categories, 2,000 threads with 40,000 posts of about 600
characters of German Markdown, a few hundred tags, and one public thread of 500 posts. The
database is reset first: SQLite uses ``var/bench.sqlite3`` (the demo database stays as it is);
with ``DATABASE_URL`` set, the PostgreSQL database ``bench`` is dropped and created again.

Rows are bulk-inserted (the services would take far too long for 40,000 posts); everything the
services keep consistent is set here too: post numbers 1..n, ``Thread.post_count``,
``last_activity_at`` and ``last_poster``, watches of everyone who wrote in a thread, confirmed
e-mail addresses, approved memberships and the current terms accepted.

    python -m bench.generate        (or: python bench/generate.py)

Environment: ``BENCH_SEED`` (default 2026), ``BENCH_BODY_POOL`` (how many distinct post bodies
are rendered with forum.markdown.render_markdown; default 40000, i.e. every post its own text;
a smaller pool is reused and generates faster).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

if __package__ in (None, ""):  # run as a script: python bench/generate.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import corpus
from bench.common import (
    BENCH_EMAIL,
    BENCH_HANDLE,
    BENCH_NAME,
    BENCH_PASSWORD,
    OUT_DIR,
    SQLITE_FILE,
    dataset_file,
    use_bench_database,
)

SEED = int(os.environ.get("BENCH_SEED", "2026"))
BODY_POOL = int(os.environ.get("BENCH_BODY_POOL", "40000"))
N_MEMBERS = 200
N_ORGANISATIONS = 20
N_THREADS = 2000
N_POSTS = 40000
BIG_THREAD_POSTS = 500
N_TAGS = 300
# A fixed "now" keeps the data identical between runs.
ANCHOR = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SPAN = timedelta(days=730)
BATCH = 500


def log(message: str, started: float) -> None:
    print(f"[{time.perf_counter() - started:6.1f} s] {message}", flush=True)


def reset_database(label: str) -> None:
    """A fresh, empty benchmark database (never the developer's)."""
    if label == "sqlite":
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{SQLITE_FILE}{suffix}").unlink(missing_ok=True)
        return
    import psycopg

    parts = urlsplit(os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@contextlib.contextmanager
def explicit_timestamps(*fields):
    """Let bulk_create store the given auto_now_add fields as set (history in the past)."""
    saved = [(f, f.auto_now_add) for f in fields]
    for field in fields:
        field.auto_now_add = False
    try:
        yield
    finally:
        for field, value in saved:
            field.auto_now_add = value


def spread(rng: random.Random, start: datetime, end: datetime, count: int) -> list[datetime]:
    """``count`` ascending moments from ``start`` (the first) to at most ``end``."""
    seconds = max((end - start).total_seconds(), 60.0)
    offsets = sorted(rng.uniform(60, seconds) for _ in range(count - 1))
    return [start] + [start + timedelta(seconds=s) for s in offsets]


def generate(started: float) -> dict:
    from allauth.account.models import EmailAddress
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.contenttypes.models import ContentType
    from django.db import transaction
    from taggit.models import TaggedItem

    from accounts.models import Organisation, TermsAcceptance, User
    from accounts.selectors import current_terms
    from accounts.services import network_load_file
    from forum.markdown import render_markdown
    from forum.models import Category, Post, ProjectProfile, Reaction, Thread, ThreadFollow
    from forum.services.tags import tags_get_or_create
    from forum.text import german_slug

    rng = random.Random(SEED)

    # Render a pool of distinct bodies once; the 40,000 posts reuse them.
    bodies = [corpus.post_body(rng) for _ in range(BODY_POOL)]
    html = [render_markdown(body) for body in bodies]
    average = sum(map(len, bodies)) / len(bodies)
    log(f"{len(bodies)} Texte gerendert (Ø {average:.0f} Zeichen Markdown)", started)

    with transaction.atomic():
        network_load_file(settings.NETWORK_FILE)
        # The 17 municipalities first, then district governments: all have e-mail domains.
        organisations = sorted(
            Organisation.objects.prefetch_related("domains").exclude(domains=None).distinct(),
            key=lambda o: (o.kind != Organisation.Kind.MUNICIPALITY, o.slug),
        )[:N_ORGANISATIONS]
        domain_of = {o.pk: sorted(d.domain for d in o.domains.all())[0] for o in organisations}
        bochum = next(o for o in organisations if o.slug == "bochum")
        log(f"Netzwerk geladen, {len(organisations)} Organisationen genutzt", started)

        # --- Members -------------------------------------------------------------------------
        password = make_password(BENCH_PASSWORD)  # one hash for everyone: hashing is slow
        users = [
            User(
                email=BENCH_EMAIL,
                handle=BENCH_HANDLE,
                display_name=BENCH_NAME,
                organisation=bochum,
                job_title="Stadtplanungsamt, Lastmessung",
                membership=User.Membership.APPROVED,
                membership_changed_at=ANCHOR - SPAN,
                date_joined=ANCHOR - SPAN,
                password=password,
            )
        ]
        for i in range(N_MEMBERS):
            organisation = organisations[i % len(organisations)]
            name = corpus.person_name(rng)
            handle = f"{german_slug(name, max_length=24)}-{i + 1}"
            joined = ANCHOR - SPAN - timedelta(days=rng.uniform(0, 200))
            users.append(
                User(
                    email=f"{handle}@{domain_of[organisation.pk]}",
                    handle=handle,
                    display_name=name,
                    organisation=organisation,
                    job_title=rng.choice(corpus.JOB_TITLES),
                    membership=User.Membership.APPROVED,
                    membership_changed_at=joined,
                    date_joined=joined,
                    password=password,
                )
            )
        users = User.objects.bulk_create(users, batch_size=BATCH)
        EmailAddress.objects.bulk_create(
            [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
            batch_size=BATCH,
        )
        terms = current_terms()
        if terms is not None:
            TermsAcceptance.objects.bulk_create(
                [TermsAcceptance(user=u, terms=terms, accepted_at=u.date_joined) for u in users],
                batch_size=BATCH,
            )
        else:
            print("Warnung: keine veröffentlichten Nutzungsbedingungen gefunden.")
        log(f"{len(users)} Mitglieder (bestätigt, Bedingungen akzeptiert)", started)

        # --- Categories and tags -------------------------------------------------------------
        categories = Category.objects.bulk_create(
            [
                Category(name=n, slug=s, visibility=v, description=d, position=i)
                for i, (n, s, v, d) in enumerate(corpus.CATEGORIES)
            ]
        )
        tags = tags_get_or_create(corpus.tag_names(N_TAGS))
        tag_by_name = {t.name: t for t in tags}
        log(f"{len(categories)} Themenfelder, {len(tags)} Schlagwörter", started)

        # --- Threads -------------------------------------------------------------------------
        # How many posts each thread gets: the big one 500, the others at least one, the rest
        # spread with a long tail (a few busy threads, many short ones).
        others = N_THREADS - 1
        weights = [rng.lognormvariate(0, 0.9) for _ in range(others)]
        extra = Counter(
            rng.choices(range(others), weights=weights, k=N_POSTS - BIG_THREAD_POSTS - others)
        )
        counts = [BIG_THREAD_POSTS] + [1 + extra[i] for i in range(others)]
        # Some members write much more than others.
        activity = [rng.lognormvariate(0, 1.0) for _ in users]
        kinds = [Thread.Kind.QUESTION, Thread.Kind.DISCUSSION, Thread.Kind.EXPERIENCE]

        threads: list[Thread] = []
        post_plan: list[list[tuple[User, datetime]]] = []
        for index, count in enumerate(counts):
            if index == 0:
                category, kind, title = (
                    categories[0],
                    Thread.Kind.DISCUSSION,
                    corpus.BIG_THREAD_TITLE,
                )
                start, end = ANCHOR - timedelta(days=120), ANCHOR - timedelta(hours=1)
            else:
                category = rng.choices(categories, weights=corpus.CATEGORY_WEIGHTS)[0]
                kind = rng.choices(kinds, weights=[50, 30, 20])[0]
                title = corpus.thread_title(rng)
                start = ANCHOR - SPAN + timedelta(seconds=rng.uniform(0, SPAN.total_seconds()))
                end = min(ANCHOR - timedelta(hours=2), start + timedelta(days=rng.uniform(1, 120)))
            authors = rng.choices(users, weights=activity, k=count)
            moments = spread(rng, start, end, count)
            if index == 0:
                moments[-1] = end
            post_plan.append(list(zip(authors, moments, strict=True)))
            threads.append(
                Thread(
                    category=category,
                    kind=kind,
                    title=title,
                    slug=german_slug(title),
                    author=authors[0],
                    organisation_id=authors[0].organisation_id,
                    created_at=moments[0],
                    last_activity_at=moments[-1],
                    last_poster=authors[-1],
                    post_count=count,
                    last_number=count,
                    is_pinned=index in (1, 2),
                    is_pinned_globally=index in (1, 2),
                )
            )
        with explicit_timestamps(Thread._meta.get_field("created_at")):
            threads = Thread.objects.bulk_create(threads, batch_size=BATCH)
        log(f"{len(threads)} Themen", started)

        # --- Posts ---------------------------------------------------------------------------
        posts: list[Post] = []
        reactors: list[list[User]] = []
        for thread, plan in zip(threads, post_plan, strict=True):
            for number, (author, moment) in enumerate(plan, 1):
                body = len(posts) % len(bodies)  # bodies are random: no need to pick
                liked = []
                if rng.random() < 0.12:
                    liked = [u for u in rng.sample(users, rng.randint(1, 3)) if u.pk != author.pk]
                reactors.append(liked)
                posts.append(
                    Post(
                        thread=thread,
                        number=number,
                        author=author,
                        body=bodies[body],
                        body_html=html[body],
                        created_at=moment,
                        helpful_count=len(liked),
                        client_token=uuid.UUID(int=rng.getrandbits(128), version=4),
                    )
                )
        with explicit_timestamps(Post._meta.get_field("created_at")):
            posts = Post.objects.bulk_create(posts, batch_size=BATCH)
        log(f"{len(posts)} Beiträge", started)

        Reaction.objects.bulk_create(
            [
                Reaction(post=p, user=u)
                for p, liked in zip(posts, reactors, strict=True)
                for u in liked
            ],
            batch_size=BATCH,
        )
        # Everyone who wrote in a thread watches it (as the services' auto-watch does).
        watching = sorted({(p.author.pk, p.thread.pk) for p in posts})
        ThreadFollow.objects.bulk_create(
            [ThreadFollow(user_id=u, thread_id=t, level="watching") for u, t in watching],
            batch_size=BATCH,
        )

        # Accepted answers on some questions; project profiles on experience reports.
        first_post_index = 0
        solved: list[Thread] = []
        profiles: list[ProjectProfile] = []
        for thread in threads:
            if thread.kind == Thread.Kind.QUESTION and thread.post_count > 1 and rng.random() < 0.4:
                answer = posts[first_post_index + rng.randrange(1, thread.post_count)]
                thread.accepted_post, thread.solved_at = answer, answer.created_at
                solved.append(thread)
            if thread.kind == Thread.Kind.EXPERIENCE:
                begin = date(rng.randint(2019, 2025), rng.randint(1, 12), 1)
                profiles.append(
                    ProjectProfile(
                        thread=thread,
                        organisation_id=thread.organisation_id,
                        programme=rng.choice(ProjectProfile.Programme.values),
                        programme_detail=f"Programmjahr {begin.year}",
                        start_month=begin,
                        end_month=date(begin.year + rng.randint(1, 4), begin.month, 1),
                        budget_eur=rng.randrange(50_000, 5_000_000, 10_000),
                        funding_share_pct=rng.choice([50, 60, 70, 80, 90]),
                        status=rng.choice(ProjectProfile.Status.values),
                        partners="Eigentümerstandortgemeinschaft, Quartiersmanagement",
                        results=rng.choice(corpus.SENTENCES),
                        lessons_learned=rng.choice(corpus.SENTENCES),
                        contact=thread.author.display_name,
                    )
                )
            first_post_index += thread.post_count
        Thread.objects.bulk_update(solved, ["accepted_post", "solved_at"], batch_size=BATCH)
        ProjectProfile.objects.bulk_create(profiles, batch_size=BATCH)

        # --- Tags on threads, expertise on members ----------------------------------------
        thread_type = ContentType.objects.get_for_model(Thread)
        user_type = ContentType.objects.get_for_model(User)
        tagged = []
        for index, thread in enumerate(threads):
            if index == 0:
                chosen = [
                    tag_by_name[n]
                    for n in (
                        "Zwischennutzung",
                        "Verfügungsfonds",
                        "Leerstandsmanagement",
                        "Ladenlokal",
                    )
                ]
            else:
                chosen = rng.sample(tags, rng.choice([0, 1, 2, 2, 3, 3, 4, 5]))
            tagged += [
                TaggedItem(tag=t, content_type=thread_type, object_id=thread.pk) for t in chosen
            ]
        for user in users:
            for tag in rng.sample(tags[:100], rng.randint(0, 3)):
                tagged.append(TaggedItem(tag=tag, content_type=user_type, object_id=user.pk))
        TaggedItem.objects.bulk_create(tagged, batch_size=BATCH)
        log(
            f"{len(solved)} gelöste Fragen, {len(profiles)} Steckbriefe, "
            f"{len(watching)} Beobachtungen, {len(tagged)} Verschlagwortungen",
            started,
        )

    # Bulk inserts bypass the signals that keep the search index: build it as the command does.
    from forum.search.documents import rebuild

    search_started = time.perf_counter()
    indexed = rebuild()
    search_seconds = time.perf_counter() - search_started
    log(f"Suchindex: {indexed} Themen in {search_seconds:.1f} s", started)

    big = threads[0]
    return {
        "search_index_seconds": round(search_seconds, 1),
        "seed": SEED,
        "thread_id": big.pk,
        "thread_url": big.get_absolute_url(),
        "thread_posts": big.post_count,
        "category_slug": categories[0].slug,
        "category_url": categories[0].get_absolute_url(),
        "category_threads": sum(1 for t in threads if t.category_id == categories[0].pk),
        "login_email": BENCH_EMAIL,
        "login_password": BENCH_PASSWORD,
        "counts": {
            "members": len(users),
            "organisations": len(organisations),
            "categories": len(categories),
            "public_categories": sum(1 for c in categories if c.visibility == "public"),
            "threads": len(threads),
            "posts": len(posts),
            "tags": len(tags),
            "distinct_bodies": len(bodies),
        },
    }


def finish(label: str) -> None:
    """Statistics as a long-running PostgreSQL would have them; an empty terms cache."""
    from django.core.cache import cache
    from django.db import connection

    from accounts.middleware import TERMS_CACHE_KEY

    if label == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    cache.delete(TERMS_CACHE_KEY)


def main() -> None:
    started = time.perf_counter()
    label = use_bench_database()
    reset_database(label)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    log(f"Datenbank {label} neu angelegt und migriert", started)
    info = generate(started)
    finish(label)
    seconds = time.perf_counter() - started
    info.update(database=label, generation_seconds=round(seconds, 1))
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    dataset_file(label).write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    print(f"\nFertig in {seconds:.1f} s ({label}).")
    print(f"Thema mit {info['thread_posts']} Beiträgen: http://127.0.0.1:8000{info['thread_url']}")
    print(f"Themenfeld: http://127.0.0.1:8000{info['category_url']}")
    print(f"Anmeldung: {BENCH_EMAIL} / {BENCH_PASSWORD}")
    print(f"Beschreibung: {dataset_file(label)}")


if __name__ == "__main__":
    main()
