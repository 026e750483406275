"""ops/backup_restore_check.sh: back up, wipe and restore a populated installation.

The script works on its own throw-away installation, never on the test database or on
var/forum.sqlite3: on SQLite (the default) a database file and MEDIA_ROOT in a temporary
folder; when the test run uses PostgreSQL (DATABASE_URL), a database ``backupcheck_<pid>`` on
the same server, dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "ops" / "backup_restore_check.sh"


def _check_environment(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "MEDIA_ROOT", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env["PYTHON"] = sys.executable
    env["TMPDIR"] = str(tmp_path)
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        # Same server and credentials as the test run, a database of the check's own.
        parts = urlsplit(url)
        env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/backupcheck_{os.getpid()}"))
    return env


@pytest.mark.skipif(sys.platform == "win32", reason="shell scripts")
def test_restored_installation_matches_the_backed_up_one(tmp_path):
    result = subprocess.run(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env=_check_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK: 10 Seiten (6 Suchergebnisse) gleich, 1 Anhänge gleich" in result.stdout
    assert "Zweites Zurückspielen ohne --force wird verweigert" in result.stdout
