"""Browser tests: a real Chromium against the real ASGI application (HTTP and WebSockets).

Run as a pytest process of its own (Playwright's sync API keeps an event loop running in
the test thread, so Django's async-safety check must be switched off here, and only here)::

    DJANGO_ALLOW_ASYNC_UNSAFE=true pytest tests/browser

The live server is channels' test server process (``DaphneProcess``, the one inside
``channels.testing.ChannelsLiveServerTestCase``), started once per session from a session
fixture. It is forked, so it inherits the settings of this process at start time: the
overrides below (file-based e-mail, isolated cache and channel-layer prefixes) apply to it.
Each test gets a transactional database (committed data is visible to the server process),
the seed data of the migrations restored (``serialized_rollback``) and the demo network.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.test.utils import override_settings
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

DEMO_PASSWORD = "Demo-Passwort-2026"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAST_PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
SCREENSHOT_DIR = Path(settings.BASE_DIR) / "var" / "screenshots"


# --- Database ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database of its own, so a concurrent `pytest tests` run does not collide.

    It also sets ``TEST["NAME"]`` explicitly, which the server process relies on.
    """
    db = settings.DATABASES["default"]
    test = db.setdefault("TEST", {})
    if db["ENGINE"] == "django.db.backends.sqlite3":
        test["NAME"] = str(Path(settings.BASE_DIR) / "var" / "test-browser.sqlite3")
    else:
        test["NAME"] = f"test_{db['NAME']}_browser"


# --- Live server ------------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    mail_dir: Path
    # The database as the migrations left it, for serialized_rollback (see below).
    serialized_contents: dict[str, str] = field(default_factory=dict)
    seen_mail: set[str] = field(default_factory=set)

    @property
    def netloc(self) -> str:
        return urlsplit(self.url).netloc

    def new_mails(self) -> list[EmailMessage]:
        """Messages the server wrote to its mail directory since the last call, oldest first."""
        files = sorted(self.mail_dir.glob("*.log"), key=lambda p: p.stat().st_mtime_ns)
        messages = []
        for path in files:
            if path.name in self.seen_mail:
                continue
            self.seen_mail.add(path.name)
            # The file backend writes each message followed by a line of 79 dashes.
            for chunk in path.read_bytes().split(b"\n" + b"-" * 79 + b"\n"):
                if chunk.strip():
                    messages.append(message_from_bytes(chunk, policy=policy.default))
        return messages


def _server_settings(mail_dir: Path) -> dict:
    """Overrides that must be in place before the server process is forked."""
    suffix = uuid.uuid4().hex[:8]
    overrides: dict = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        # Both processes must hash alike: users are created here and log in over there.
        "PASSWORD_HASHERS": FAST_PASSWORD_HASHERS,
        # No worker runs beside the server: its tasks (e-mails) run when enqueued.
        "TASKS": {
            "default": {
                "BACKEND": "tests.task_backends.RunAtOnceBackend",
                "QUEUES": ["default", "email"],
            }
        },
    }
    # With Redis, keep this run's cache (rate limits, used TOTP codes) and channel groups
    # apart from a development server that may use the same Redis.
    caches = {alias: dict(conf) for alias, conf in settings.CACHES.items()}
    if "redis" in caches["default"]["BACKEND"].lower():
        caches["default"]["KEY_PREFIX"] = f"forum-browsertest-{suffix}"
        overrides["CACHES"] = caches
    layers = {alias: dict(conf) for alias, conf in settings.CHANNEL_LAYERS.items()}
    if "redis" in layers["default"]["BACKEND"].lower():
        layers["default"]["CONFIG"] = {
            **layers["default"].get("CONFIG", {}),
            "prefix": f"forum-browsertest-{suffix}:",
        }
        overrides["CHANNEL_LAYERS"] = layers
    return overrides


# Playwright's sync API keeps an event loop running in this thread. From then on asgiref's
# thread-critical Local (Django's database connections) hands out the connections of the
# "async" storage: new DatabaseWrapper objects, without the `_test_serialized_contents` that
# `django_db_setup` attached to the first ones. Without them serialized_rollback silently
# restores nothing (and the flush re-runs post_migrate), so after the first test the terms
# of use, the moderators group and the site pages would be gone. The contents are therefore
# taken before the browser starts and given to whichever connection a test uses.


def _serialized_contents() -> dict[str, str]:
    from django.db import connections

    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }


@pytest.fixture
def _serialized_contents_for_this_connection(live_server_asgi):
    from django.db import connections

    for alias, contents in live_server_asgi.serialized_contents.items():
        if not hasattr(connections[alias], "_test_serialized_contents"):
            connections[alias]._test_serialized_contents = contents


@pytest.fixture(scope="session")
def live_server_asgi(django_db_setup, django_db_blocker, tmp_path_factory):
    """The real ASGI application (config.asgi) in a forked Daphne process."""
    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess

    if multiprocessing.get_start_method() != "fork":
        pytest.fail("The live server must be forked to inherit the test settings.")
    mail_dir = tmp_path_factory.mktemp("mail")
    override = override_settings(**_server_settings(mail_dir))
    override.enable()
    # Fork while database access is allowed: the child keeps the state it was forked with.
    with django_db_blocker.unblock():
        # A forked child must not share this process's pooled PostgreSQL connections: two
        # processes on one socket collide (e.g. "prepared statement _pg3_0 already exists").
        from django.db import connections

        for connection in connections.all(initialized_only=True):
            if hasattr(connection, "close_pool"):
                connection.close_pool()
            else:
                connection.close()
        # Static files are served by whitenoise (with finders), as in the application.
        process = DaphneProcess("127.0.0.1", partial(make_application, static_wrapper=None))
        process.daemon = True
        process.start()
        if not process.ready.wait(timeout=30):
            process.terminate()
            detail = "" if process.errors.empty() else process.errors.get()[1]
            pytest.fail(f"The live server did not start.\n{detail}")
    server = LiveServer(
        url=f"http://127.0.0.1:{process.port.value}",
        mail_dir=mail_dir,
        serialized_contents=_serialized_contents(),
    )
    try:
        yield server
    finally:
        process.terminate()
        process.join(timeout=10)
        override.disable()


@pytest.fixture(autouse=True)
def _fast_passwords():
    """Replaces tests/conftest.py's fixture of that name, which changes the hashers in this
    process only, after the server was forked: the server could not check those hashes.
    Here the fast hasher is a server setting of the whole session (see _server_settings)."""


@pytest.fixture(autouse=True)
def _clear_cache():
    """Replaces tests/conftest.py's fixture of that name: with Redis, ``cache.clear()`` is
    FLUSHDB and would wipe the whole Redis database. Only this run's keys are deleted."""
    cache_clear()
    yield
    cache_clear()


def cache_clear() -> None:
    from django.core.cache import cache

    if hasattr(cache, "delete_pattern"):  # django-redis: honours KEY_PREFIX
        cache.delete_pattern("*")
    else:
        cache.clear()  # this process only; the server process keeps its own local memory


@pytest.fixture
def live(
    live_server_asgi,
    _serialized_contents_for_this_connection,  # must come before transactional_db
    transactional_db,
    django_db_serialized_rollback,
):
    """The live server with a fresh database holding the demo network.

    The database is transactional (committed, so the server process sees it) and flushed
    after each test; ``serialized_rollback`` restores what the data migrations seeded (terms
    of use, the moderators group, the site pages).
    """
    from accounts.selectors import current_terms
    from forum.models import SitePage
    from forum.services.demo import demo_load

    # What the data migrations seeded is there (see _serialized_contents above).
    assert current_terms() is not None, "the seeded terms of use are missing"
    assert SitePage.objects.filter(slug="barrierefreiheit").exists(), "site pages missing"
    demo_load()
    live_server_asgi.new_mails()  # forget mail of earlier tests
    return live_server_asgi


# --- Browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser(live_server_asgi) -> Browser:
    # Depends on the server so that it is forked before Playwright starts its threads.
    if os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE", "").lower() not in ("1", "true"):
        pytest.fail(
            "Run the browser tests as their own pytest process with "
            "DJANGO_ALLOW_ASYNC_UNSAFE=true (see Makefile: make test)."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """What the pages of one context did: requests to other hosts and console errors."""

    server_netloc: str
    foreign_requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    # Console messages that are expected, e.g. the failed load of a deliberate 404 page.
    expected_errors: list[str] = field(default_factory=list)

    def on_request(self, request) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != self.server_netloc:
            self.foreign_requests.append(f"{request.method} {request.url}")

    def on_console(self, message) -> None:
        if message.type == "error":
            location = message.location or {}
            self.console_errors.append(f"{message.text} ({location.get('url', '?')})")

    def on_page_error(self, error) -> None:
        self.console_errors.append(f"uncaught: {error}")

    def watch(self, page: Page) -> None:
        page.on("request", self.on_request)
        page.on("console", self.on_console)
        page.on("pageerror", self.on_page_error)

    def expect_console_error(self, text: str) -> None:
        """Allow console errors containing ``text`` (e.g. the 404 status of a 404 page)."""
        self.expected_errors.append(text)

    def unexpected_errors(self) -> list[str]:
        return [e for e in self.console_errors if not any(x in e for x in self.expected_errors)]

    def assert_clean(self) -> None:
        problems = []
        if self.foreign_requests:
            problems.append("Requests to other hosts:\n  " + "\n  ".join(self.foreign_requests))
        if errors := self.unexpected_errors():
            problems.append("Console errors:\n  " + "\n  ".join(errors))
        assert not problems, "\n".join(problems)


@pytest.fixture
def context(browser, live) -> BrowserContext:
    context = browser.new_context(
        locale="de-DE",
        timezone_id="Europe/Berlin",
        base_url=live.url,
        viewport={"width": 1280, "height": 900},
    )
    context.set_default_timeout(10_000)
    context.watch = PageWatch(server_netloc=live.netloc)
    context.on("page", context.watch.watch)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context) -> Page:
    return context.new_page()


@pytest.fixture
def watch(context) -> PageWatch:
    return context.watch


# --- Helpers ----------------------------------------------------------------------------------


def login(
    page: Page,
    email: str,
    password: str = DEMO_PASSWORD,
    *,
    totp_secret: str = "",
    on_code_step: Callable[[Page], None] | None = None,
) -> None:
    """Sign in through the real form, with the second step when the account uses TOTP.

    ``on_code_step(page)`` runs on the page that asks for the code (e.g. an axe check).
    """
    page.goto("/accounts/login/")
    form = page.locator('form:has(input[name="login"])')
    form.locator('input[name="login"]').fill(email)
    form.locator('input[name="password"]').fill(password)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    if totp_secret:
        assert "/accounts/2fa/authenticate/" in page.url, f"no second step: {page.url}"
        if on_code_step is not None:
            on_code_step(page)
        form = page.locator('form:has(input[name="code"])')
        form.locator('input[name="code"]').fill(totp_code(totp_secret))
        # The form also shows a "cancel" button that belongs to a logout form (form="…").
        with page.expect_navigation():
            form.locator('button[type="submit"]:not([form])').click()
    assert "/accounts/login/" not in page.url, f"login failed: {page.url}"
    assert "/accounts/2fa/" not in page.url, f"second factor failed: {page.url}"


def totp_code(secret: str) -> str:
    """The current code, computed with allauth's own helpers.

    allauth accepts only the current period (``MFA_TOTP_TOLERANCE`` is 0), so a code is
    never taken from the last two seconds of a period: it could expire on its way.
    """
    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    period = app_settings.TOTP_PERIOD
    left = period - time.time() % period
    if left < 2:
        time.sleep(left + 0.1)
    counter = int(time.time()) // period
    return format_hotp_value(hotp_value(secret, counter))


def totp_activate(user) -> str:
    """Give a user a TOTP authenticator, as if they had set it up; returns the secret."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def axe_check(page: Page, url: str) -> None:
    """Run axe-core (WCAG 2.1 A and AA rules) on the page; fail with a readable list."""
    page.add_script_tag(url=f"{url}/static/vendor/axe-core/axe.min.js")
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(' '), html: n.html, summary: n.failureSummary,
                })),
            }));
        }""",
        AXE_TAGS,
    )
    if violations:
        lines = [f"axe: {len(violations)} violation(s) on {page.url}"]
        for v in violations:
            lines.append(f"- {v['id']} [{v['impact']}]: {v['help']} ({v['helpUrl']})")
            for node in v["nodes"]:
                lines.append(f"    at {node['target']}: {node['html'][:200]}")
                if node["summary"]:
                    summary = node["summary"].replace("\n", "\n      ")
                    lines.append(f"      {summary}")
        pytest.fail("\n".join(lines), pytrace=False)


# --- Helpers as fixtures (test modules do not import conftest) -------------------------------


@pytest.fixture
def axe(live):
    return partial(axe_check, url=live.url)


@pytest.fixture
def sign_in():
    """``sign_in(page, email, password=DEMO_PASSWORD, *, totp_secret="", on_code_step=None)``"""
    return login


@pytest.fixture
def totp():
    """``totp.activate(user) -> secret`` and ``totp.code(secret) -> str``."""
    return SimpleNamespace(activate=totp_activate, code=totp_code)


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    return SCREENSHOT_DIR


@pytest.fixture
def new_context(browser, live, context):
    """``new_context()``: another browser (own cookies), watched like the first."""
    made: list[BrowserContext] = []

    def make() -> BrowserContext:
        other = browser.new_context(
            locale="de-DE",
            timezone_id="Europe/Berlin",
            base_url=live.url,
            viewport={"width": 1280, "height": 900},
        )
        other.set_default_timeout(10_000)
        other.watch = type(context.watch)(server_netloc=live.netloc)  # conftest's PageWatch
        other.on("page", other.watch.watch)
        made.append(other)
        return other

    yield make
    for other in made:
        other.close()
