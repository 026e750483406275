"""What the generator and the runner share: which database the benchmark uses, and paths.

The benchmark never touches the developer's database: with SQLite it uses its own file
``var/bench.sqlite3``; with PostgreSQL (``DATABASE_URL`` set) it keeps host and credentials
and uses the database ``bench``, or the one named in the URL if that name starts with
``bench`` (``benchdigest``: a second benchmark database beside a running one).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
OUT_DIR = VAR_DIR / "bench"
SQLITE_FILE = VAR_DIR / "bench.sqlite3"
BENCH_DB_NAME = "bench"

BENCH_EMAIL = "bench@bochum.de"
BENCH_PASSWORD = "Bench-Passwort-2026"
BENCH_HANDLE = "bench-mitglied"
BENCH_NAME = "Berta Bench"


def bench_database_url() -> tuple[str, str]:
    """(DATABASE_URL for the benchmark, label "sqlite" or "postgresql")."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url or url.startswith("sqlite"):
        return f"sqlite:///{SQLITE_FILE}", "sqlite"
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        raise SystemExit(f"Nur SQLite und PostgreSQL werden unterstützt, nicht {parts.scheme!r}.")
    name = parts.path.lstrip("/")
    if not name.startswith(BENCH_DB_NAME):
        name = BENCH_DB_NAME
    return urlunsplit(parts._replace(path=f"/{name}")), "postgresql"


def use_bench_database() -> str:
    """Point this process (and its children) at the benchmark database; returns the label."""
    url, label = bench_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return label


def dataset_file(label: str) -> Path:
    return OUT_DIR / f"dataset-{label}.json"


def warn_if_busy() -> float:
    """Print a warning when the machine is already loaded; returns the 1-minute load."""
    load = os.getloadavg()[0]
    if load > 0.5 * (os.cpu_count() or 1):
        print(
            f"Achtung: Last {load:.1f} vor der Messung; andere Prozesse verfälschen das Ergebnis."
        )
    return load
