#!/usr/bin/env bash
# Sichert Datenbank und hochgeladene Dateien (MEDIA_ROOT) in ein Verzeichnis mit Zeitstempel:
#
#   ops/backup.sh [ZIELORDNER]        Standard: var/backups
#
# Inhalt von forum-backup-<UTC-Zeit>/:
#   database.sqlite3 | database.pgdump   SQLite: Online-Sicherung (Backup-API, auch bei WAL und
#                                        laufendem Betrieb konsistent); PostgreSQL: pg_dump -Fc
#   media.tar.gz                         alle hochgeladenen Dateien
#   media.sha256                         Prüfsumme jeder hochgeladenen Datei
#   MANIFEST                             Datum, Git-Commit, Datenbank, Anzahl Dateien
#   SHA256SUMS                           Prüfsummen der Teile (ops/restore.sh prüft sie zuerst)
#
# Die Datenbank wird vor den Dateien gesichert: eine Datei, die dazwischen hochgeladen wird,
# liegt dann höchstens verwaist in der Sicherung, nie fehlt eine Datei, auf die die Datenbank
# verweist. Datenbank und Ablage kommen aus den Einstellungen (DATABASE_URL, MEDIA_ROOT).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
DEST_PARENT="${1:-$ROOT/var/backups}"

eval "$("$PYTHON" "$ROOT/ops/forumops.py" settings)"

STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
NAME="forum-backup-$STAMP"
mkdir -p "$DEST_PARENT"
DEST_PARENT="$(cd "$DEST_PARENT" && pwd)"
# Written under a hidden name and renamed when complete: a half-written backup never looks
# like a usable one.
WORK="$DEST_PARENT/.$NAME.partial"
rm -rf "$WORK"
mkdir -m 700 "$WORK"
trap 'rm -rf "$WORK"' EXIT

started=$(date +%s)

# 1. Datenbank
case "$FORUM_DB_ENGINE" in
  sqlite)
    "$PYTHON" "$ROOT/ops/forumops.py" sqlite-backup "$WORK/database.sqlite3"
    DB_FILE=database.sqlite3
    ;;
  postgresql)
    # Empty values are unset so that libpq falls back to its defaults (socket, ~/.pgpass).
    for var in PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE; do
      if [ -n "${!var}" ]; then export "${var?}"; else unset "$var"; fi
    done
    pg_dump --format=custom --no-owner --file="$WORK/database.pgdump"
    DB_FILE=database.pgdump
    ;;
esac

# 2. Hochgeladene Dateien (ein fehlender MEDIA_ROOT ist eine leere Ablage)
mkdir -p "$FORUM_MEDIA_ROOT"
( cd "$FORUM_MEDIA_ROOT" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum ) \
  > "$WORK/media.sha256"
MEDIA_COUNT=$(wc -l < "$WORK/media.sha256" | tr -d ' ')
tar -C "$FORUM_MEDIA_ROOT" -czf "$WORK/media.tar.gz" .

# 3. Manifest und Prüfsummen
COMMIT="$(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo unbekannt)"
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  COMMIT="$COMMIT (mit lokalen Änderungen)"
fi
{
  echo "format: 1"
  echo "created: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "host: $(hostname)"
  echo "git_commit: $COMMIT"
  echo "db_engine: $FORUM_DB_ENGINE"
  echo "db_file: $DB_FILE"
  echo "media_files: $MEDIA_COUNT"
} > "$WORK/MANIFEST"
( cd "$WORK" && sha256sum "$DB_FILE" media.tar.gz media.sha256 MANIFEST > SHA256SUMS )

mv "$WORK" "$DEST_PARENT/$NAME"
trap - EXIT
echo "Sicherung: $DEST_PARENT/$NAME ($FORUM_DB_ENGINE, $MEDIA_COUNT Dateien, $(du -sh "$DEST_PARENT/$NAME" | cut -f1), $(( $(date +%s) - started )) s)"
