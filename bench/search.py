"""Search latency on the generated data (part of ``make bench``; alone: ``python -m bench.search``).

Two figures per database, for a fixed set of realistic German queries (single words, inflected
and compound forms, abbreviations, phrases, exclusions, OR, a long question, a very common
word), each run ``BENCH_SEARCH_REPEAT`` times (default 20) after one warm-up pass:

* ``search``: the search itself in this process, as the page runs it: count, one page of 20
  ranked hits with their rows, tags and highlighted snippets (``forum.search.search_threads``);
* ``page`` (only from ``bench.run``): the whole ``/search/?q=…`` page over HTTP from the
  production-like server, one request at a time.

Both are reported as median and p95 over all samples, for a visitor and the signed-in member.
Results: ``var/bench/search-<db>.json``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as a script: python bench/search.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_EMAIL, OUT_DIR, use_bench_database

REPEAT = int(os.environ.get("BENCH_SEARCH_REPEAT", "20"))

QUERIES = [
    "Verfügungsfonds",
    "Förderanträge",
    "ISEK",
    "Brachfläche",
    "Maßnahme",
    "Zwischennutzung Innenstadt",
    '"Immobilien- und Standortgemeinschaft"',
    "Leerstand -Kaufhausleerstand",
    "Dachbegrünung OR Fassadenbegrünung",
    "Schwammstadt Starkregen",
    "Verwendungsnachweis Mittelabruf",
    "Sanierungssatzung Ausgleichsbeträge",
    "StBauF",
    "Wie stellen wir einen Förderantrag für den Rückbau in der Innenstadt?",
    "Zechenbrache Altlasten",
    "Quartiersmanagement",
    "Stadt",
    "Bürgerbeteiligung digital",
]


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))
    return ordered[index]


def summary(samples: list[float]) -> dict:
    return {
        "samples": len(samples),
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
    }


def measure_http(get, cookie: str) -> dict:
    """The /search/ page over HTTP, sequentially (``get`` from bench.run)."""
    samples, per_query = [], {}
    for query in QUERIES:
        path = "/search/?" + urlencode({"q": query})
        status, _ = get(path, cookie)
        if status != 200:
            raise SystemExit(f"{path} antwortet {status}")
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            get(path, cookie)
            times.append((time.perf_counter() - started) * 1000)
        samples += times
        per_query[query] = round(statistics.median(times), 2)
    return {**summary(samples), "per_query_median_ms": per_query}


def measure_inprocess() -> dict:
    import django

    django.setup()
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection

    from accounts.models import User
    from forum.search import search_threads
    from forum.selectors import ThreadFilters, filter_threads

    readers = {
        "anonymous": AnonymousUser(),
        "member": User.objects.get(email=BENCH_EMAIL),
    }
    results = {}
    for reader, user in readers.items():
        samples, per_query, hits = [], {}, {}
        for query in QUERIES:

            def run(query=query, user=user):
                _, page = search_threads(filter_threads(user, ThreadFilters()), query, 1)
                return page.paginator.count, list(page.object_list)

            count, _ = run()  # warm-up: caches, lexicon, prepared statements
            hits[query] = count
            times = []
            for _ in range(REPEAT):
                started = time.perf_counter()
                run()
                times.append((time.perf_counter() - started) * 1000)
            samples += times
            per_query[query] = round(statistics.median(times), 2)
        results[reader] = {**summary(samples), "per_query_median_ms": per_query, "hits": hits}
    results["database"] = connection.vendor
    return results


def table(results: dict, key: str = "search") -> str:
    lines = [f"{'Suche':<8} {'Leser':<10} {'Median':>9} {'p95':>9} {'max':>9}"]
    for reader in ("anonymous", "member"):
        r = results[reader]
        lines.append(
            f"{key:<8} {reader:<10} {r['median_ms']:>7.1f}ms {r['p95_ms']:>7.1f}ms "
            f"{r['max_ms']:>7.1f}ms"
        )
    return "\n".join(lines)


def main() -> None:
    label = use_bench_database()
    print(
        f"Suche auf {label}: {len(QUERIES)} Anfragen × {REPEAT} Wiederholungen je Leser", flush=True
    )
    results = measure_inprocess()
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"search-{label}.json"
    results["queries"] = QUERIES
    results["repeat"] = REPEAT
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(table(results))
    print("\nTreffer je Anfrage (Mitglied):")
    for query, count in results["member"]["hits"].items():
        median = results["member"]["per_query_median_ms"][query]
        print(f"  {count:>5}  {median:>7.1f} ms  {query}")
    print(f"\nErgebnisse: {out}")


if __name__ == "__main__":
    main()
