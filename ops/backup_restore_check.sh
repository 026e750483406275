#!/usr/bin/env bash
# Probe für Sicherung und Wiederherstellung an einer eigenen, wegwerfbaren Installation:
# befüllen (migrate, load_demo, ein Anhang), Fingerabdruck nehmen (Seiten, Anhang, Suche,
# Zeilenzahlen), ops/backup.sh, alles löschen, ops/restore.sh, Fingerabdruck vergleichen.
#
#   ops/backup_restore_check.sh
#       SQLite: eine Datenbankdatei und ein MEDIA_ROOT in einem temporären Ordner
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/backupcheck ops/backup_restore_check.sh
#       PostgreSQL: die Datenbank (Name muss mit "backupcheck" beginnen) wird gelöscht und neu
#       angelegt; MEDIA_ROOT wieder im temporären Ordner
#
# Weder var/forum.sqlite3 noch var/media noch eine Testdatenbank werden berührt.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PYTHON="${PYTHON:-$ROOT/.venv/bin/python}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/backupcheck.XXXXXX")"
KEEP="${BACKUPCHECK_KEEP:-0}"
DROP_DATABASE=""
cleanup() {
  if [ "$KEEP" = 1 ]; then echo "Arbeitsordner bleibt: $WORK"; return; fi
  rm -rf "$WORK"
  if [ -n "$DROP_DATABASE" ]; then
    PGOPTIONS="-c client_min_messages=warning" psql --quiet --no-psqlrc --dbname=postgres \
      -c "DROP DATABASE IF EXISTS \"$DROP_DATABASE\" WITH (FORCE)" || true
  fi
}
trap cleanup EXIT

# Isolation: everything the settings would otherwise take from var/ or the environment.
export MEDIA_ROOT="$WORK/media"
export DATABASE_URL="${DATABASE_URL:-sqlite:///$WORK/forum.sqlite3}"
export DATABASE_POOL=0
unset REDIS_URL EMAIL_URL EMAIL_HOST DJANGO_ENV
export FORUM_POSTS_PER_MINUTE=1000 FORUM_THREADS_PER_HOUR=1000 FORUM_HOLD_FIRST_POSTS=0

eval "$("$PYTHON" "$ROOT/ops/forumops.py" settings)"
case "$FORUM_DB_ENGINE" in
  sqlite)
    case "$FORUM_DB_NAME" in
      "$WORK"/*) ;;
      *) echo "SQLite-Datei außerhalb des Arbeitsordners: $FORUM_DB_NAME" >&2; exit 1 ;;
    esac
    ;;
  postgresql)
    case "$FORUM_DB_NAME" in
      backupcheck*) ;;
      *) echo "Die Probe löscht ihre Datenbank: der Name muss mit backupcheck beginnen." >&2; exit 1 ;;
    esac
    for var in PGHOST PGPORT PGUSER PGPASSWORD; do
      if [ -n "${!var}" ]; then export "${var?}"; else unset "$var"; fi
    done
    unset PGDATABASE
    DROP_DATABASE="$FORUM_DB_NAME"
    ;;
esac

step_started=0
step() { step_started=$(date +%s%N); printf '%s … ' "$1"; }
done_step() {
  local ms=$(( ($(date +%s%N) - step_started) / 1000000 ))
  printf '%d.%d s\n' $(( ms / 1000 )) $(( ms % 1000 / 100 ))
}

wipe() {
  if [ "$FORUM_DB_ENGINE" = sqlite ]; then
    rm -f "$FORUM_DB_NAME" "$FORUM_DB_NAME-wal" "$FORUM_DB_NAME-shm"
  else
    PGOPTIONS="-c client_min_messages=warning" psql --quiet --no-psqlrc --dbname=postgres --set=ON_ERROR_STOP=1 \
      -c "DROP DATABASE IF EXISTS \"$FORUM_DB_NAME\" WITH (FORCE)" \
      -c "CREATE DATABASE \"$FORUM_DB_NAME\""
  fi
  rm -rf "$MEDIA_ROOT"
}

echo "Probe auf $FORUM_DB_ENGINE ($FORUM_DB_NAME), Arbeitsordner $WORK"
total_started=$(date +%s)

step "Installation anlegen (migrate, load_demo, Anhang)"
wipe
"$PYTHON" "$ROOT/manage.py" migrate --noinput > "$WORK/populate.log"
"$PYTHON" "$ROOT/manage.py" load_demo >> "$WORK/populate.log"
"$PYTHON" "$ROOT/ops/check_site.py" populate >> "$WORK/populate.log"
done_step

step "Fingerabdruck vorher"
"$PYTHON" "$ROOT/ops/check_site.py" fingerprint > "$WORK/before.json"
done_step

step "Sicherung"
"$ROOT/ops/backup.sh" "$WORK/backups" > "$WORK/backup.log"
BACKUP="$(find "$WORK/backups" -mindepth 1 -maxdepth 1 -type d -name 'forum-backup-*' | head -n 1)"
[ -n "$BACKUP" ] || { echo "keine Sicherung entstanden" >&2; exit 1; }
done_step

step "Löschen"
wipe
if [ "$FORUM_DB_ENGINE" = sqlite ] && [ -e "$FORUM_DB_NAME" ]; then
  echo "Datenbank nicht gelöscht" >&2; exit 1
fi
done_step

step "Wiederherstellen"
"$ROOT/ops/restore.sh" "$BACKUP" > "$WORK/restore.log"
done_step

step "Fingerabdruck nachher"
"$PYTHON" "$ROOT/ops/check_site.py" fingerprint > "$WORK/after.json"
done_step

step "Zweites Zurückspielen ohne --force wird verweigert"
if "$ROOT/ops/restore.sh" "$BACKUP" > "$WORK/refused.log" 2>&1; then
  echo "FEHLER: restore.sh hat eine befüllte Installation ohne --force überschrieben" >&2
  exit 1
fi
grep -q -- "--force" "$WORK/refused.log"
done_step

"$PYTHON" - "$WORK/before.json" "$WORK/after.json" <<'PY'
import difflib
import json
import sys

before, after = (json.load(open(path)) for path in sys.argv[1:3])
problems = []
if not before["attachments"]:
    problems.append("kein Anhang im Fingerabdruck")
for key, page in before["pages"].items():
    if page["status"] != 200:
        problems.append(f"{key}: Status {page['status']} schon vor der Sicherung")
for section in ("pages", "attachments", "row_counts"):
    if before[section].keys() != after[section].keys():
        problems.append(f"{section}: andere Schlüssel")
        continue
    for key in before[section]:
        old, new = before[section][key], after[section][key]
        if old != new:
            problems.append(f"{section}: {key} weicht ab")
            if section == "pages":
                diff = difflib.unified_diff(
                    old["body"].splitlines(), new["body"].splitlines(), lineterm="", n=1
                )
                problems.extend("    " + line for line in list(diff)[:20])
if problems:
    print("FEHLER: Wiederherstellung weicht ab:")
    print("\n".join(problems))
    sys.exit(1)
searches = [k for k in before["pages"] if "/search/" in k]
print(
    f"OK: {len(before['pages'])} Seiten ({len(searches)} Suchergebnisse) gleich, "
    f"{len(before['attachments'])} Anhänge gleich (Datei und Download), "
    f"{len(before['row_counts'])} Tabellen mit {sum(before['row_counts'].values())} Zeilen gleich."
)
PY
echo "Gesamt $(( $(date +%s) - total_started )) s"
