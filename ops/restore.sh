#!/usr/bin/env bash
# Stellt eine Sicherung von ops/backup.sh wieder her: Datenbank und hochgeladene Dateien.
#
#   ops/restore.sh [--force] SICHERUNGSORDNER
#
# Vorher Webserver und Task-Worker anhalten. Ohne --force wird nur in eine leere Installation
# zurückgespielt (keine Tabellen, keine Dateien in MEDIA_ROOT); mit --force werden Datenbank
# und MEDIA_ROOT ersetzt. Ablauf: Prüfsummen der Sicherung prüfen, Datenbank zurückspielen,
# Dateien zurückspielen und einzeln prüfen, `manage.py migrate --noinput` (für Sicherungen
# einer älteren Version), Suchindex nur neu aufbauen, wenn Themen ohne Suchdokument fehlen
# (der Index liegt in der Datenbank und kommt mit ihr zurück).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"

usage() { echo "Aufruf: $0 [--force] SICHERUNGSORDNER" >&2; exit 2; }

FORCE=0
BACKUP=""
while [ $# -gt 0 ]; do
  case "$1" in
    --force|--yes-overwrite) FORCE=1 ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) [ -z "$BACKUP" ] || usage; BACKUP="$1" ;;
  esac
  shift
done
[ -n "$BACKUP" ] || usage
BACKUP="$(cd "$BACKUP" && pwd)"

manifest() { sed -n "s/^$1: //p" "$BACKUP/MANIFEST"; }

# 1. Sicherung prüfen, bevor irgendetwas überschrieben wird
[ -f "$BACKUP/MANIFEST" ] && [ -f "$BACKUP/SHA256SUMS" ] \
  || { echo "Keine Sicherung (MANIFEST/SHA256SUMS fehlen): $BACKUP" >&2; exit 1; }
( cd "$BACKUP" && sha256sum --quiet --check SHA256SUMS ) \
  || { echo "Prüfsummen stimmen nicht: Sicherung beschädigt." >&2; exit 1; }

eval "$("$PYTHON" "$ROOT/ops/forumops.py" settings)"
BACKUP_ENGINE="$(manifest db_engine)"
DB_FILE="$(manifest db_file)"
if [ "$BACKUP_ENGINE" != "$FORUM_DB_ENGINE" ]; then
  echo "Die Sicherung ist von $BACKUP_ENGINE, eingestellt ist $FORUM_DB_ENGINE." >&2
  exit 1
fi
if [ "$FORUM_DB_ENGINE" = postgresql ]; then
  for var in PGHOST PGPORT PGUSER PGPASSWORD PGDATABASE; do
    if [ -n "${!var}" ]; then export "${var?}"; else unset "$var"; fi
  done
fi

STATE="$("$PYTHON" "$ROOT/ops/forumops.py" target-state)"
if [ "$STATE" != empty ] && [ "$FORCE" != 1 ]; then
  echo "Die Installation enthält Daten (Datenbank $FORUM_DB_NAME, Dateien in $FORUM_MEDIA_ROOT)." >&2
  echo "Zum Überschreiben: $0 --force $BACKUP" >&2
  exit 1
fi

echo "Stelle wieder her: $BACKUP"
echo "  Sicherung vom $(manifest created), Commit $(manifest git_commit), $(manifest media_files) Dateien"
started=$(date +%s)

# 2. Datenbank
case "$FORUM_DB_ENGINE" in
  sqlite)
    "$PYTHON" "$ROOT/ops/forumops.py" sqlite-restore "$BACKUP/$DB_FILE"
    ;;
  postgresql)
    # --clean --if-exists drops what the dump contains before creating it again; one
    # transaction, so a failure leaves the database as it was.
    pg_restore --clean --if-exists --no-owner --single-transaction --exit-on-error \
      --dbname="$PGDATABASE" "$BACKUP/$DB_FILE"
    ;;
esac

# 3. Hochgeladene Dateien: neben MEDIA_ROOT entpacken und prüfen, dann austauschen
MEDIA_PARENT="$(dirname "$FORUM_MEDIA_ROOT")"
mkdir -p "$MEDIA_PARENT"
NEW_MEDIA="$(mktemp -d "$MEDIA_PARENT/.media-restore.XXXXXX")"
trap 'rm -rf "$NEW_MEDIA"' EXIT
tar -C "$NEW_MEDIA" -xzf "$BACKUP/media.tar.gz"
# (sha256sum refuses an empty list: an empty MEDIA_ROOT has nothing to check.)
[ ! -s "$BACKUP/media.sha256" ] || ( cd "$NEW_MEDIA" && sha256sum --quiet --check "$BACKUP/media.sha256" ) \
  || { echo "Hochgeladene Dateien stimmen nicht mit media.sha256 überein." >&2; exit 1; }
chmod 755 "$NEW_MEDIA"
if [ -e "$FORUM_MEDIA_ROOT" ]; then
  OLD_MEDIA="$FORUM_MEDIA_ROOT.old-$$"
  mv "$FORUM_MEDIA_ROOT" "$OLD_MEDIA"
  mv "$NEW_MEDIA" "$FORUM_MEDIA_ROOT"
  rm -rf "$OLD_MEDIA"
else
  mv "$NEW_MEDIA" "$FORUM_MEDIA_ROOT"
fi
trap - EXIT

# 4. Schema auf den Stand dieses Codes bringen, Suchindex nur bei Bedarf
"$PYTHON" "$ROOT/manage.py" migrate --noinput
"$PYTHON" "$ROOT/ops/forumops.py" search-check

echo "Wiederhergestellt in $(( $(date +%s) - started )) s: Datenbank $FORUM_DB_NAME, $(manifest media_files) Dateien in $FORUM_MEDIA_ROOT."
