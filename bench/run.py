"""Serve the app as in production and measure it with wrk (``make bench``).

Two uvicorn worker processes on loopback, DEBUG off, plain HTTP (not ``DJANGO_ENV=production``,
so there is no HTTPS redirect), static files through whitenoise, no page caching. Measured for
an anonymous reader and a signed-in member: page 1 of the 500-post thread, the category page
of that thread, the home page and the floor ``/_floor/`` (same middleware, one query, a tiny
template). Results: a table on stdout and ``var/bench/results-<db>.json``.

    python -m bench.run            (after python -m bench.generate)

Environment: ``DATABASE_URL`` (PostgreSQL; the database ``bench`` on that server is used),
``REDIS_URL`` (passed to the server), ``BENCH_DURATION`` seconds per measurement (10),
``BENCH_WARMUP`` seconds before each (2), ``BENCH_CONNECTIONS`` (16), ``BENCH_THREADS`` (2),
``BENCH_WORKERS`` (2), ``BENCH_PORT`` (8765).
"""

from __future__ import annotations

import http.client
import http.cookiejar
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: python bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    BASE_DIR,
    BENCH_EMAIL,
    BENCH_PASSWORD,
    OUT_DIR,
    bench_database_url,
    dataset_file,
    warn_if_busy,
)
from bench.search import measure_http
from bench.search import table as search_table

DURATION = int(os.environ.get("BENCH_DURATION", "10"))
WARMUP = int(os.environ.get("BENCH_WARMUP", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "16"))
THREADS = int(os.environ.get("BENCH_THREADS", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
PORT = int(os.environ.get("BENCH_PORT", "8765"))
HOST = "127.0.0.1"
READERS = ("anonymous", "member")
# Pages below this share of the floor's throughput are worth profiling.
FLOOR_SHARE_ALERT = 0.15


def server_command() -> list[str]:
    uvicorn = Path(sys.executable).parent / "uvicorn"
    return [
        str(uvicorn if uvicorn.exists() else shutil.which("uvicorn") or "uvicorn"),
        "config.asgi:application",
        "--host",
        HOST,
        "--port",
        str(PORT),
        "--workers",
        str(WORKERS),
        "--lifespan",
        "off",
        "--no-access-log",
        "--no-server-header",
        "--log-level",
        "warning",
    ]


def start_server(database_url: str, log_path: Path) -> subprocess.Popen:
    with socket.socket() as probe:
        if probe.connect_ex((HOST, PORT)) == 0:
            raise SystemExit(f"Port {PORT} ist belegt; BENCH_PORT=… wählt einen anderen.")
    env = dict(
        os.environ,
        DATABASE_URL=database_url,
        DJANGO_DEBUG="false",
        DJANGO_ENV="development",  # no HTTPS redirect on plain HTTP
        DJANGO_SETTINGS_MODULE="config.settings",
        LOG_LEVEL="WARNING",
    )
    log = log_path.open("w")
    process = subprocess.Popen(
        server_command(),
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as one below
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"Der Server ist beendet:\n{log_path.read_text()[-3000:]}")
        try:
            status, _body = get("/healthz")
            if status == 200:
                return process
        except OSError:
            pass
        time.sleep(0.3)
    stop_server(process)
    raise SystemExit(f"Der Server antwortet nicht:\n{log_path.read_text()[-3000:]}")


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def get(path: str, cookie: str = "") -> tuple[int, str]:
    """One GET without following redirects."""
    conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
    try:
        conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def login() -> str:
    """Sign in through allauth's form (urllib and a cookie jar); returns the Cookie header."""
    base = f"http://{HOST}:{PORT}"
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(f"{base}/accounts/login/", timeout=30) as response:
        html = response.read().decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if match is None:
        raise SystemExit("Kein CSRF-Token im Anmeldeformular gefunden.")
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": match.group(1), "login": BENCH_EMAIL, "password": BENCH_PASSWORD}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/login/", data=form, headers={"Referer": f"{base}/accounts/login/"}
    )
    with opener.open(request, timeout=30) as response:
        response.read()
    cookies = {c.name: c.value for c in jar}
    if "sessionid" not in cookies:
        raise SystemExit("Anmeldung fehlgeschlagen: kein sessionid-Cookie.")
    return "; ".join(
        f"{name}={cookies[name]}" for name in ("sessionid", "csrftoken") if name in cookies
    )


def check(path: str, reader: str, cookie: str) -> tuple[int, str]:
    """(size, problem): the page must answer 200 (no redirect to login or terms) to this reader."""
    status, body = get(path, cookie)
    if status != 200:
        return 0, f"status {status}"
    if path != "/_floor/":
        signed_in = 'action="/accounts/logout/"' in body
        if signed_in != (reader == "member"):
            return 0, "signed-in state wrong"
    return len(body.encode()), ""


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def wrk(path: str, cookie: str, seconds: int) -> dict:
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command.append(f"http://{HOST}:{PORT}{path}")
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    percentiles = {
        int(p): _ms(v, u)
        for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s|m)\s*$", output, re.M)
    }
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "requests_per_s": float(rps.group(1)) if rps else 0.0,
        "requests": int(total.group(1)) if total else 0,
        "p50_ms": percentiles.get(50),
        "p75_ms": percentiles.get(75),
        "p90_ms": percentiles.get(90),
        "p99_ms": percentiles.get(99),
        "non_2xx_3xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": dict(
            zip(("connect", "read", "write", "timeout"), map(int, errors.groups()), strict=True)
        )
        if errors
        else {},
        "wrk_output": output,
    }


def measure_reader(reader: str, cookie: str, pages: list[tuple[str, str]]) -> list[dict]:
    """All pages for one reader. The floor is measured first and last; the mean of both runs
    is the reference, which evens out a drift in machine load during the measurement."""
    rows: list[dict] = []
    floors: list[dict] = []
    for page, path in [*pages, ("floor", "/_floor/")]:
        size, problem = check(path, reader, cookie)
        if problem:
            print(f"  {page:<9} {reader:<10} FEHLER: {problem}", flush=True)
            rows.append({"page": page, "reader": reader, "path": path, "error": problem})
            continue
        if WARMUP:
            wrk(path, cookie, WARMUP)
        measured = wrk(path, cookie, DURATION)
        measured["load_average_1m"] = round(os.getloadavg()[0], 2)
        print(
            f"  {page:<9} {reader:<10} {measured['requests_per_s']:8.1f} req/s  "
            f"p50 {measured['p50_ms']:.1f} ms  p99 {measured['p99_ms']:.1f} ms  "
            f"{size / 1024:.0f} KiB  (load {measured['load_average_1m']})",
            flush=True,
        )
        if page == "floor":
            floors.append({"bytes": size, **measured})
        else:
            rows.append({"page": page, "reader": reader, "path": path, "bytes": size, **measured})
    if not floors:
        return rows
    floor = {
        key: round(sum(f[key] for f in floors) / len(floors), 2)
        for key in ("requests_per_s", "p50_ms", "p75_ms", "p90_ms", "p99_ms")
    }
    floor.update(
        page="floor",
        reader=reader,
        path="/_floor/",
        bytes=floors[0]["bytes"],
        requests=sum(f["requests"] for f in floors),
        non_2xx_3xx=sum(f["non_2xx_3xx"] for f in floors),
        socket_errors={},
        runs=floors,
    )
    rows.insert(0, floor)
    for row in rows:
        if "error" not in row:
            row["ratio_to_floor"] = round(row["requests_per_s"] / floor["requests_per_s"], 4)
    return rows


def git(*args: str) -> str:
    try:
        return subprocess.run(
            ["git", *args], cwd=BASE_DIR, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def migrate(database_url: str) -> None:
    """Apply migrations added since the data was generated (as a deployment would)."""
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=BASE_DIR,
        env=dict(os.environ, DATABASE_URL=database_url),
        check=True,
    )


def table(results: list[dict]) -> str:
    head = f"{'page':<10} {'reader':<10} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'ratio to floor':>15}"
    lines = [head, "-" * len(head)]
    for r in results:
        if r.get("error"):
            lines.append(f"{r['page']:<10} {r['reader']:<10} FEHLER: {r['error']}")
            continue
        ratio = r.get("ratio_to_floor", 0.0)
        flag = "  < 15 %" if ratio < FLOOR_SHARE_ALERT else ""
        if r["non_2xx_3xx"] or any(r["socket_errors"].values()):
            flag += f"  (non-2xx {r['non_2xx_3xx']}, errors {r['socket_errors']})"
        lines.append(
            f"{r['page']:<10} {r['reader']:<10} {r['requests_per_s']:>9.1f} "
            f"{r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f} {ratio:>15.3f}{flag}"
        )
    return "\n".join(lines)


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk fehlt: apt-get install wrk (oder make bench).")
    database_url, label = bench_database_url()
    try:
        dataset = json.loads(dataset_file(label).read_text())
    except FileNotFoundError:
        raise SystemExit(f"Keine Benchmarkdaten für {label}: zuerst make bench-data.") from None
    pages = [
        ("floor", "/_floor/"),
        ("thread", dataset["thread_url"]),
        ("category", dataset["category_url"]),
        ("home", "/"),
    ]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log_path = OUT_DIR / f"server-{label}.log"
    print(
        f"Datenbank {label}, Redis {'ja' if os.environ.get('REDIS_URL') else 'nein'}; "
        f"{WORKERS} uvicorn-Worker; wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}s "
        f"(Aufwärmen {WARMUP}s); {os.cpu_count()} CPUs",
        flush=True,
    )
    load = warn_if_busy()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    migrate(database_url)
    process = start_server(database_url, log_path)
    results: list[dict] = []
    try:
        cookies = {"anonymous": "", "member": login()}
        for reader in READERS:
            results += measure_reader(reader, cookies[reader], pages)
        print("Suchseite (eine Anfrage nach der anderen) …", flush=True)
        search_page = {reader: measure_http(get, cookies[reader]) for reader in READERS}
    finally:
        stop_server(process)
    server_errors = [
        line for line in log_path.read_text().splitlines() if "ERROR" in line or "Traceback" in line
    ]
    report = {
        "database": label,
        "redis": bool(os.environ.get("REDIS_URL")),
        "started_at": started_at,
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_uncommitted_files": len(git("status", "--porcelain").splitlines()),
        "host": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "server": {"command": " ".join(server_command()), "workers": WORKERS},
        "wrk": {
            "threads": THREADS,
            "connections": CONNECTIONS,
            "duration_s": DURATION,
            "warmup_s": WARMUP,
        },
        "dataset": dataset,
        "load_average_1m_before": round(load, 2),
        "server_error_lines": len(server_errors),
        "results": results,
        "search_page": search_page,
    }
    out = OUT_DIR / f"results-{label}.json"
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print()
    print(table(results))
    print()
    print(search_table(search_page, key="page"))
    print(f"\nErgebnisse: {out}")
    if server_errors:
        print(f"Achtung: {len(server_errors)} Fehlerzeilen im Serverprotokoll {log_path}")
    if any(r.get("error") for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
