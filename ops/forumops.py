"""Small helpers for ops/backup.sh and ops/restore.sh.

They read the *effective* Django settings (DATABASE_URL, MEDIA_ROOT and their defaults), so the
shell scripts back up and restore exactly what the site uses, and they copy SQLite databases
through SQLite's online backup API: a WAL database copied with ``cp`` may miss committed pages
still in the ``-wal`` file or catch a half-written checkpoint.

    python ops/forumops.py settings             shell assignments: FORUM_DB_ENGINE, FORUM_MEDIA_ROOT, …
    python ops/forumops.py sqlite-backup DST    online copy of the site's database into DST
    python ops/forumops.py sqlite-restore SRC   replace the site's database with SRC (site stopped)
    python ops/forumops.py target-state         "empty" or "populated": may a restore write here?
    python ops/forumops.py search-check         rebuild the search index if threads lack documents
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def _database() -> dict:
    from django.conf import settings

    return settings.DATABASES["default"]


def _engine() -> str:
    engine = _database()["ENGINE"]
    if engine == "django.db.backends.sqlite3":
        return "sqlite"
    if engine == "django.db.backends.postgresql":
        return "postgresql"
    raise SystemExit(f"Nicht unterstützte Datenbank: {engine}")


def print_settings() -> None:
    """Shell assignments for eval; the PG* names are what pg_dump and psql read."""
    from django.conf import settings

    db = _database()
    values = {
        "FORUM_DB_ENGINE": _engine(),
        "FORUM_DB_NAME": str(db["NAME"]),
        "FORUM_MEDIA_ROOT": str(Path(settings.MEDIA_ROOT).resolve()),
    }
    if values["FORUM_DB_ENGINE"] == "postgresql":
        values |= {
            "PGHOST": db.get("HOST") or "",
            "PGPORT": str(db.get("PORT") or ""),
            "PGUSER": db.get("USER") or "",
            "PGPASSWORD": db.get("PASSWORD") or "",
            "PGDATABASE": db["NAME"],
        }
    for key, value in values.items():
        print(f"{key}={shlex.quote(value)}")


def sqlite_backup(destination: Path) -> None:
    """Copy the live database page by page inside one read transaction (consistent even while
    the site writes), then make the copy a single self-contained file (no WAL)."""
    # Read-write open: a read-only connection cannot create the -shm file of a WAL database.
    source = sqlite3.connect(_database()["NAME"], timeout=30)
    target = sqlite3.connect(destination)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")
        result = target.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise SystemExit(f"Sicherung fehlerhaft (integrity_check): {result}")
    finally:
        target.close()
        source.close()


def sqlite_restore(source_path: Path) -> None:
    """Write the backup next to the database, then swap it in. The stale -wal/-shm files of
    the old database must go first: SQLite would otherwise replay them into the new one."""
    name = Path(_database()["NAME"])
    name.parent.mkdir(parents=True, exist_ok=True)
    partial = name.with_name(name.name + ".restore-partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    target = sqlite3.connect(partial)
    try:
        source.backup(target)
        result = target.execute("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            raise SystemExit(f"Sicherung fehlerhaft (integrity_check): {result}")
    finally:
        target.close()
        source.close()
    for suffix in ("-wal", "-shm", "-journal"):
        name.with_name(name.name + suffix).unlink(missing_ok=True)
    partial.replace(name)


def target_state() -> str:
    """ "populated" when the database has any table or MEDIA_ROOT holds any file."""
    from django.conf import settings
    from django.db import connection

    media = Path(settings.MEDIA_ROOT)
    if media.exists() and any(p.is_file() for p in media.rglob("*")):
        return "populated"
    if _engine() == "sqlite":
        name = Path(_database()["NAME"])
        if not name.exists() or name.stat().st_size == 0:
            return "empty"
    return "populated" if connection.introspection.table_names() else "empty"


def search_check() -> None:
    """The search index lives in the database (SQLite: an FTS5 table in the same file;
    PostgreSQL: the search document table), so it comes back with it. Only threads without a
    document (a backup from before the index, or a migration that added threads) need work."""
    from forum.search.documents import rebuild, search_index_incomplete

    if search_index_incomplete():
        print(f"Suchindex neu aufgebaut: {rebuild()} Themen.")
    else:
        print("Suchindex vollständig (mit der Datenbank wiederhergestellt).")


def main(argv: list[str]) -> None:
    if not argv:
        raise SystemExit(__doc__)
    _setup_django()
    command, *rest = argv
    if command == "settings":
        print_settings()
    elif command == "sqlite-backup":
        sqlite_backup(Path(rest[0]))
    elif command == "sqlite-restore":
        sqlite_restore(Path(rest[0]))
    elif command == "target-state":
        print(target_state())
    elif command == "search-check":
        search_check()
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
