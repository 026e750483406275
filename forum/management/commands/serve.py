"""``make run``: the ASGI server and a task worker side by side, stopped together.

Each child runs in its own session so that Ctrl+C reaches only this launcher, which then asks
both to finish (SIGTERM: the server closes its connections, the worker completes its current
task) and kills what is still running after a grace period. On Linux the children also die
with the launcher should it be killed outright. If either child ends on its own (say, the
port is taken), the other is stopped too and its exit code is passed on.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

GRACE_SECONDS = 15


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass  # not Linux: Ctrl+C and SIGTERM still stop both


class Command(BaseCommand):
    help = (
        "Startet den Server (HTTP und WebSockets) und einen Worker für Hintergrundaufgaben "
        "(E-Mails); Strg+C beendet beide."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--no-worker", action="store_true", help="nur den Server, ohne Task-Worker"
        )

    def handle(self, *args, host: str, port: int, no_worker: bool, **options):
        python = sys.executable
        commands = {
            "Server": [
                python,
                "-m",
                "uvicorn",
                "config.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--ws",
                "websockets-sansio",
                "--lifespan",
                "off",
                "--no-server-header",
            ],
        }
        if not no_worker:
            commands["Worker"] = [
                python,
                str(Path(settings.BASE_DIR) / "manage.py"),
                "db_worker",
                "--queue-name",
                "*",
                "--no-reload",
            ]
        stopping: list[int] = []

        def stop(signum, _frame) -> None:
            stopping.append(signum)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        children = {
            # Our own interpreter and fixed arguments (host and port are parsed options).
            name: subprocess.Popen(  # noqa: S603
                command,
                cwd=settings.BASE_DIR,
                start_new_session=True,
                preexec_fn=_die_with_parent,  # the launcher has no threads
            )
            for name, command in commands.items()
        }
        if "Worker" in children:
            self.stdout.write(f"Task-Worker läuft (Prozess {children['Worker'].pid}).")
        ended = None
        while not stopping and ended is None:
            time.sleep(0.2)
            ended = next((n for n, c in children.items() if c.poll() is not None), None)
        if ended is not None:
            self.stderr.write(f"{ended} hat sich beendet; stoppe die übrigen Prozesse.")
        self._stop(children)
        if ended is not None and children[ended].returncode:
            sys.exit(children[ended].returncode)

    def _stop(self, children: dict[str, subprocess.Popen]) -> None:
        for child in children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        for name, child in children.items():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} reagiert nicht, wird beendet.")
                child.kill()
                child.wait()
