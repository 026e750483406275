"""Where one request's time goes, for the benchmark pages (in-process, Django's test client).

For each page and reader: the queries (count and time), the time in the view, in template
rendering (without the queries that run inside it), and the rest (middleware, URL resolving,
response handling); then the hottest functions of the project and overall (cProfile), and, when pyinstrument is
importable (it is not a dependency: ``pip install pyinstrument`` or put it on PYTHONPATH), its
sampled call tree, which is not skewed by the profiler's own overhead.

    python -m bench.profile_pages [page ...]      pages: floor thread category home (default: all)

Uses the benchmark database (``make bench-data``). ``BENCH_PROFILE_RUNS`` (default 30)
requests per page are timed after one warm-up request (which fills any caches); the median
is reported. ``BENCH_PROFILE_TOP`` (default 15) rows of cProfile output.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/profile_pages.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BASE_DIR, BENCH_EMAIL, dataset_file, use_bench_database

RUNS = int(os.environ.get("BENCH_PROFILE_RUNS", "30"))
TOP = int(os.environ.get("BENCH_PROFILE_TOP", "15"))


class Meter:
    """Accumulates time spent in queries, in the view and in template rendering."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.sql = 0.0
        self.sql_in_template = 0.0
        self.queries: list[tuple[float, str]] = []
        self.view = 0.0
        self.template = 0.0
        self._template_depth = 0

    def query(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - start
            self.sql += elapsed
            if self._template_depth:
                self.sql_in_template += elapsed
            self.queries.append((elapsed, sql))


@contextmanager
def instrumented(meter: Meter):
    """Wrap views (via BaseHandler.make_view_atomic) and the outermost template render."""
    from django.core.handlers.base import BaseHandler
    from django.db import connection
    from django.template.backends.django import Template

    original_atomic = BaseHandler.make_view_atomic
    original_render = Template.render

    def make_view_atomic(self, view):
        wrapped = original_atomic(self, view)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return wrapped(*args, **kwargs)
            finally:
                meter.view += time.perf_counter() - start

        return timed

    def render(self, *args, **kwargs):
        meter._template_depth += 1
        start = time.perf_counter()
        try:
            return original_render(self, *args, **kwargs)
        finally:
            meter._template_depth -= 1
            if not meter._template_depth:
                meter.template += time.perf_counter() - start

    BaseHandler.make_view_atomic = make_view_atomic
    Template.render = render
    try:
        with connection.execute_wrapper(meter.query):
            yield
    finally:
        BaseHandler.make_view_atomic = original_atomic
        Template.render = original_render


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def measure(client, path: str, meter: Meter) -> dict:
    response = client.get(path)  # warm-up: caches, template loader, connection
    if response.status_code != 200:
        raise SystemExit(f"{path}: Status {response.status_code}")
    rows = []
    for _ in range(RUNS):
        meter.reset()
        start = time.perf_counter()
        client.get(path)
        total = time.perf_counter() - start
        rows.append(
            {
                "total": total,
                "sql": meter.sql,
                "queries": len(meter.queries),
                "view": meter.view,
                "template": meter.template,
                "template_without_sql": meter.template - meter.sql_in_template,
                "outside_view": total - meter.view,
                "slowest": sorted(meter.queries, reverse=True)[:3],
            }
        )
    median = statistics.median(r["total"] for r in rows)
    typical = min(rows, key=lambda r: abs(r["total"] - median))
    return {
        "total_ms": _ms(median),
        "queries": typical["queries"],
        "sql_ms": _ms(statistics.median(r["sql"] for r in rows)),
        "view_ms": _ms(statistics.median(r["view"] for r in rows)),
        "template_ms": _ms(statistics.median(r["template"] for r in rows)),
        "template_python_ms": _ms(statistics.median(r["template_without_sql"] for r in rows)),
        "outside_view_ms": _ms(statistics.median(r["outside_view"] for r in rows)),
        "slowest_queries": [(_ms(t), sql[:300]) for t, sql in typical["slowest"]],
        "bytes": len(response.content),
    }


def hot_functions(client, path: str) -> tuple[str, str]:
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(RUNS):
        client.get(path)
    profiler.disable()
    project = io.StringIO()
    stats = pstats.Stats(profiler, stream=project)
    stats.sort_stats("cumulative").print_stats(rf"^{BASE_DIR}/(?!\.venv)", TOP)
    overall = io.StringIO()
    pstats.Stats(profiler, stream=overall).sort_stats("tottime").print_stats(TOP)
    return project.getvalue(), overall.getvalue()


def call_tree(client, path: str) -> str:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return ""
    profiler = Profiler(interval=0.0002)
    profiler.start()
    for _ in range(RUNS):
        client.get(path)
    profiler.stop()
    return profiler.output_text(unicode=True, color=False, show_all=False)


def main() -> None:
    label = use_bench_database()
    import django

    django.setup()
    from django.test import Client

    from accounts.models import User

    dataset = json.loads(dataset_file(label).read_text())
    pages = {
        "floor": "/_floor/",
        "thread": dataset["thread_url"],
        "category": dataset["category_url"],
        "home": "/",
        "search": "/search/?q=Verf%C3%BCgungsfonds",
    }
    wanted = sys.argv[1:] or list(pages)
    member = User.objects.get(email=BENCH_EMAIL)
    clients = {"anonymous": Client(HTTP_HOST="127.0.0.1")}
    clients["member"] = Client(HTTP_HOST="127.0.0.1")
    clients["member"].force_login(member, backend="django.contrib.auth.backends.ModelBackend")
    meter = Meter()
    summary = {}
    for page in wanted:
        for reader, client in clients.items():
            with instrumented(meter):
                result = measure(client, pages[page], meter)
            summary[f"{page}/{reader}"] = result
            print(f"\n=== {page} ({pages[page]}), {reader} ===")
            print(
                f"total {result['total_ms']} ms | {result['queries']} queries, "
                f"{result['sql_ms']} ms SQL | view {result['view_ms']} ms | "
                f"template {result['template_ms']} ms (Python {result['template_python_ms']} ms) "
                f"| outside the view (middleware, handler) {result['outside_view_ms']} ms "
                f"| {result['bytes']} bytes"
            )
            for ms, sql in result["slowest_queries"]:
                print(f"  {ms:7.2f} ms  {sql}")
            project, overall = hot_functions(client, pages[page])
            print(f"--- project code, cumulative ({RUNS} requests) ---")
            print(project[project.find("   ncalls") :].rstrip())
            print(f"--- all code, own time ({RUNS} requests) ---")
            print(overall[overall.find("   ncalls") :].rstrip())
            tree = call_tree(client, pages[page])
            if tree:
                print(f"--- pyinstrument ({RUNS} requests) ---")
                print(tree.rstrip())
    out = BASE_DIR / "var" / "bench" / f"profile-{label}.json"
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    print(f"\n{out}")


if __name__ == "__main__":
    main()
