"""The site's protocol-level defences, checked over every URL the project routes.

(a) every URL refuses a POST without a CSRF token, except the two RFC 8058 one-click
    unsubscribe addresses; (b) ``check --deploy`` is clean with the production switch;
(c) every page, for every role, carries the security headers (Permissions-Policy too) and a
    strict CSP, has no inline script and loads nothing from another host; (d) uploads are
    judged by their content and served inert; (e) signing in changes the session key and
    signing out ends the old session; (f) no ``next`` (or ``weiter``) parameter leads off the
    site; (g) the rate limits bite, in German.

URLs come from Django's resolver, so a new view is crawled and CSRF-checked without touching
this file; its arguments come from ``_sample`` (real objects) or a placeholder (a 404 page,
which is a page too). The content is built once for the module and rolled back at its end.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve, reverse
from django.urls.exceptions import NoReverseMatch
from django.utils import timezone

from accounts import services as account_services
from accounts.models import User
from accounts.services import MODERATOR_PERMISSIONS
from forum.models import Attachment, Category, Kind, Notification, Post, Report, SitePage, Thread
from forum.services import collections, moderation, posts
from forum.services.posts import NewAttachment
from forum.services.suspension import member_suspend
from forum.uploads import check_upload
from tests.conftest import built_once
from tests.factories import (
    PASSWORD,
    CategoryFactory,
    activate_totp,
    make_member,
    make_moderator,
    make_thread,
    make_user,
)

pytestmark = pytest.mark.django_db

BASE_DIR = Path(settings.BASE_DIR)
REASON = "Verstoß gegen die Netiquette, siehe Nr. 2."
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
ROLES = ["visitor", "pending", "member", "suspended", "moderator", "staff"]
CSRF_REFUSED = b"csrf-refused-by-the-test"
# The only views that take a POST without our token: mail clients send RFC 8058's one-click
# unsubscribe from outside any session.
CSRF_EXEMPT = {"forum:digest_unsubscribe", "forum:notify_unsubscribe"}
OWN_HOSTS = {"testserver", urlsplit(settings.SITE_URL).netloc}


def csrf_failure(request, reason=""):
    """Stands in for CSRF_FAILURE_VIEW so that a CSRF refusal is told apart from any other 403."""
    return HttpResponse(CSRF_REFUSED, status=403)


# --- The content ------------------------------------------------------------------------------


@dataclass
class World:
    pk: dict[str, int]
    samples: dict[str, str]
    clients: dict[str, Client] = field(default_factory=dict)

    def user(self, role: str) -> User:
        return User.objects.get(pk=self.pk[role])


def _build_world() -> World:
    account_services.network_load_file(settings.NETWORK_FILE)
    public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
    moderator = make_moderator()
    activate_totp(moderator)
    member = make_member(email="jonas.becker@bochum.de", handle="jonas-becker")
    author = make_member(email="ben.koch@bochum.de", handle="ben-koch")
    pending = make_user(email="paul@posteo.de", handle="paul")
    suspended = make_member(email="sven.ott@bochum.de", handle="sven-ott")
    member_suspend(moderator, member=suspended, until=None, reason=REASON)
    staff = make_member(email="betrieb@bochum.de", handle="betrieb-bochum")
    User.objects.filter(pk=staff.pk).update(is_staff=True)
    activate_totp(staff)
    ours = Permission.objects.filter(content_type__app_label__in=["accounts", "forum"])
    staff.user_permissions.set(ours.exclude(codename__in=MODERATOR_PERMISSIONS))

    thread = make_thread(
        author, category=public, title="Leerstand in der Innenstadt", tags=["Leerstand"]
    )
    reply = posts.post_create(
        member,
        thread=thread,
        body="Siehe Anhang.",
        attachment=NewAttachment(SimpleUploadedFile("Bericht.pdf", PDF)),
    )
    attachment = reply.attachments.get()
    hidden = posts.post_create(member, thread=thread, body="Ein scharfer Ton.")
    moderation.post_hide(moderator, post=hidden, reason=REASON)
    notice = Notification.objects.filter(recipient=member, kind=Kind.MODERATION).latest("id")
    appeal = moderation.appeal_create(member, notification=notice, text="Das war sachlich.")
    collection = collections.collection_create(moderator, title="Leerstand gemeinsam angehen")
    entry = collections.collection_add_thread(moderator, collection=collection, thread=thread)
    # Posts of others for the report limit.
    for n in range(12):
        posts.post_create(author, thread=thread, body=f"Antwort Nummer {n}.")

    samples = {
        "thread": str(thread.pk),
        "thread_slug": thread.slug,
        "post": str(reply.pk),
        "attachment": str(attachment.pk),
        "attachment_name": attachment.original_name,
        "pending": str(pending.pk),
        "appeal": str(appeal.pk),
        "notification": str(notice.pk),
        "entry": str(entry.pk),
        "category": public.slug,
        "category_pk": str(public.pk),
        "tag": "leerstand",
        "organisation": "bochum",
        "collection": collection.slug,
        "page": SitePage.objects.values_list("slug", flat=True).first() or "impressum",
        "handle": member.handle,
    }
    people = {
        "moderator": moderator,
        "member": member,
        "pending": pending,
        "suspended": suspended,
        "staff": staff,
        "author": author,
    }
    world = World(pk={role: user.pk for role, user in people.items()}, samples=samples)
    world.pk["thread"] = thread.pk
    world.clients["visitor"] = Client()
    for role in ROLES[1:]:
        world.clients[role] = Client()
        world.clients[role].force_login(people[role])
    return world


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    media = tempfile.mkdtemp(prefix="protocol-media-")
    layer = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    with built_once(
        django_db_blocker, _build_world, MEDIA_ROOT=media, CHANNEL_LAYERS=layer
    ) as built:
        built.media = media
        yield built


@pytest.fixture(autouse=True)
def _media(world, settings):
    settings.MEDIA_ROOT = world.media
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


# --- Every URL the project routes ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    name: str  # namespaced, e.g. "forum:thread"
    route: str  # the pattern text, for choosing sample arguments
    kwargs: tuple[str, ...]


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            regex = pattern.pattern.regex
            yield Route(
                f"{namespace}{pattern.name}", prefix + str(pattern.pattern), tuple(regex.groupindex)
            )


def _site_routes() -> list[Route]:
    """The project's and allauth's URLs (the admin is crawled through its registry)."""
    return [r for r in _walk(get_resolver().url_patterns) if not r.name.startswith("admin:")]


def _sample(world: World, route: Route, name: str) -> str:
    """A real object's argument where there is one: pages render, not only 404."""
    s, path = world.samples, route.route
    if name == "pk":
        for prefix, key in [
            ("anhang/", "attachment"),
            ("mod/members/", "pending"),
            ("mod/einspruch/", "appeal"),
            ("notifications/", "notification"),
            ("collections/eintrag/", "entry"),
            ("beitrag/", "post"),
            ("mod/beitrag/", "post"),
        ]:
            if path.startswith(prefix):
                return s[key]
        return s["thread"]
    if name == "slug":
        for prefix, key in [
            ("t/", "thread_slug"),
            ("c/", "category"),
            ("feeds/c/", "category"),
            ("tags/", "tag"),
            ("feeds/tags/", "tag"),
            ("o/", "organisation"),
            ("feeds/o/", "organisation"),
            ("collections/", "collection"),
            ("seiten/", "page"),
        ]:
            if path.startswith(prefix):
                return s[key]
    if name == "handle":
        return s["handle"]
    if name == "name":
        return s["attachment_name"]
    return "x1"


def _url(world: World, route: Route) -> str | None:
    kwargs = {name: _sample(world, route, name) for name in route.kwargs}
    try:
        return reverse(route.name, kwargs=kwargs)
    except NoReverseMatch:
        return None


def _admin_urls() -> list[str]:
    urls = [reverse("admin:index")]
    for model in admin.site._registry:
        meta = model._meta
        urls.append(reverse("admin:app_list", kwargs={"app_label": meta.app_label}))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        urls.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return sorted(set(urls))


def test_every_site_route_gets_a_url(world):
    """The crawl below covers every named route (a pattern it cannot fill would be skipped)."""
    missing = [r.name for r in _site_routes() if _url(world, r) is None]
    assert not missing
    assert len(_site_routes()) > 100


# --- (a) CSRF on every form ---------------------------------------------------------------------


@pytest.mark.parametrize("role", ["member", "moderator", "staff"])
def test_every_url_refuses_a_post_without_csrf_token(world, role, settings):
    settings.CSRF_FAILURE_VIEW = "tests.security.test_protocol.csrf_failure"
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user(role))
    exempt, unguarded = set(), []
    targets = [(r.name, _url(world, r)) for r in _site_routes()]
    targets += [("admin", url) for url in _admin_urls()]
    for name, url in targets:
        view = resolve(url.split("?")[0]).func
        if getattr(view, "csrf_exempt", False):
            exempt.add(name)
            continue
        response = client.post(url, {"body": "Ohne Token.", "reason": REASON})
        if not (response.status_code == 403 and response.content == CSRF_REFUSED):
            unguarded.append((name, url, response.status_code))
    assert not unguarded
    assert exempt == CSRF_EXEMPT


def test_the_csrf_refusal_is_a_german_page(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("member"))
    response = client.post(f"/t/{world.pk['thread']}/antworten/", {"body": "Ohne Token."})
    assert response.status_code == 403
    assert 'lang="de"' in response.content.decode()
    assert not Post.objects.filter(body="Ohne Token.").exists()


def test_the_one_click_unsubscribe_is_exempt_because_its_token_is_in_the_url(world):
    """Exempt, yet without a valid signed token it changes nothing."""
    response = Client(enforce_csrf_checks=True).post("/digest/abmelden/gefaelscht/")
    assert response.status_code in (400, 404)


# --- (b) check --deploy --------------------------------------------------------------------------


def test_check_deploy_is_clean_in_production():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "DJANGO_DEBUG", "SQLITE_TEST_NAME"}
    }
    env.update(
        DJANGO_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="forum.example.org",
        SITE_URL="https://forum.example.org",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


# --- (c) Headers, CSP and no third-party host on every page --------------------------------------

RESOURCE_ATTRIBUTES = {
    "script": ("src",),
    "img": ("src", "srcset"),
    "iframe": ("src",),
    "frame": ("src",),
    "source": ("src", "srcset"),
    "video": ("src", "poster"),
    "audio": ("src",),
    "embed": ("src",),
    "object": ("data",),
    "input": ("src",),
    "use": ("href", "xlink:href"),
    "image": ("href", "xlink:href"),
}
LOADING_LINKS = {"stylesheet", "icon", "preload", "modulepreload", "prefetch", "manifest"}


class Resources(HTMLParser):
    """Every address a page makes the browser load (not the links a person may follow)."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.stylesheets: list[str] = []
        self.inline_scripts = 0

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "script" and not values.get("src"):
            self.inline_scripts += 1
        for name in RESOURCE_ATTRIBUTES.get(tag, ()):
            for part in (values.get(name) or "").split(","):
                if part.strip():
                    self.urls.append(part.strip().split()[0])
        if tag == "link" and set((values.get("rel") or "").lower().split()) & LOADING_LINKS:
            self.urls.append(values.get("href") or "")
            if "stylesheet" in (values.get("rel") or ""):
                self.stylesheets.append(values.get("href") or "")
        if values.get("style") and "url(" in values["style"]:
            self.urls.extend(re.findall(r"url\(\s*['\"]?([^'\")]+)", values["style"]))


def _foreign(url: str) -> bool:
    parts = urlsplit(url.strip())
    if parts.scheme in ("data", "blob"):
        return False
    return bool(parts.netloc) and parts.netloc not in OWN_HOSTS


def _header_problems(response) -> list[str]:
    problems = []
    csp = response.headers.get("Content-Security-Policy", "")
    directives = {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}
    script = directives.get("script-src", directives.get("default-src", []))
    if not csp:
        problems.append("no CSP")
    elif "'unsafe-inline'" in script or "'unsafe-eval'" in script or not script:
        problems.append(f"script-src {script}")
    for values in directives.values():
        problems += [f"CSP host {v}" for v in values if "." in v and _foreign(f"//{v}")]
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if response.headers.get("Referrer-Policy") not in (
        "same-origin",
        "strict-origin",
        "no-referrer",
    ):
        problems.append("Referrer-Policy")
    framing = response.headers.get("X-Frame-Options") == "DENY"
    if not (framing or directives.get("frame-ancestors") == ["'none'"]):
        problems.append("framing allowed")
    if response.headers.get("Cross-Origin-Opener-Policy") != "same-origin":
        problems.append("COOP")
    allowed = response.headers.get("Permissions-Policy", "")
    if any(f"{feature}=()" not in allowed for feature in ("camera", "microphone", "geolocation")):
        problems.append(f"Permissions-Policy {allowed!r}")
    return problems


def _crawl_urls(world: World, role: str) -> list[str]:
    # /healthz (JSON for the load balancer) closes the database connection to test it, which
    # would end the transaction this module's content lives in.
    urls = [_url(world, r) for r in _site_routes() if r.name != "healthz"]
    urls += ["/gibt-es-nicht/", f"/t/{world.pk['thread']}/?beitrag=2", "/search/?q=Leerstand"]
    if role == "staff":
        urls += _admin_urls()
    return urls


@pytest.mark.parametrize("role", ROLES)
def test_every_page_has_security_headers_and_loads_nothing_from_elsewhere(world, role):
    client = world.clients[role]
    problems, pages, stylesheets = [], 0, set()
    for url in _crawl_urls(world, role):
        response = client.get(url)
        if response.status_code >= 500:
            problems.append((url, response.status_code))
            continue
        if "text/html" not in response.headers.get("Content-Type", ""):
            if response.headers.get("X-Content-Type-Options") != "nosniff":
                problems.append((url, "no nosniff"))
            continue
        pages += 1
        problems += [(url, p) for p in _header_problems(response)]
        parser = Resources()
        parser.feed(response.content.decode())
        problems += [(url, u) for u in parser.urls if _foreign(u)]
        if parser.inline_scripts:
            problems.append((url, f"{parser.inline_scripts} inline scripts"))
        stylesheets.update(parser.stylesheets)
    for sheet in stylesheets:  # fonts and images the stylesheets pull in
        response = Client().get(sheet)
        assert response.status_code == 200, sheet
        css = b"".join(response.streaming_content).decode("utf-8", "replace")
        for found in re.findall(r"(?:url\(|@import)\s*['\"]?([^'\")\s;]+)", css):
            if _foreign(found):
                problems.append((sheet, found))
    assert pages > 30
    assert not problems


@pytest.mark.parametrize(
    ("role", "url", "status"),
    [
        ("visitor", "/gibt-es-nicht/", 404),
        ("member", "/mod/", 403),
        ("visitor", "/t/999999/", 404),
    ],
)
def test_error_pages_are_german_and_carry_the_headers(world, role, url, status):
    response = world.clients[role].get(url)
    assert response.status_code == status
    assert not _header_problems(response)
    assert 'lang="de"' in response.content.decode()


# --- (d) Uploads judged by content, served inert -------------------------------------------------


def _zip(**members: str) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


REFUSED_UPLOADS = {
    "html_as_png": ("bild.png", b"<!doctype html><script>alert(1)</script>"),
    "svg_as_png": ("bild.png", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'),
    "svg": ("bild.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>'),
    "exe_as_png": ("bild.png", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
    "exe_as_pdf": ("bericht.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
    "zip_as_pdf": ("bericht.pdf", _zip(**{"a.txt": "hallo"})),
    "zip_as_docx": ("bericht.docx", _zip(**{"a.txt": "hallo"})),
    "pdf_as_png": ("bild.png", PDF),
    "double_extension_exe": ("bericht.pdf.exe", PDF),
    "double_extension_html": ("bericht.pdf.html", PDF),
    "php_as_png": ("shell.php.png", b"<?php system($_GET['c']); ?>"),
    "script_name": ("install.sh", b"#!/bin/sh\nrm -rf /\n"),
    "javascript": ("app.js", b"alert(1)"),
    "no_extension": ("bericht", PDF),
    "empty": ("leer.pdf", b""),
}


@pytest.mark.parametrize("name", list(REFUSED_UPLOADS))
def test_an_upload_is_refused_by_its_content(name):
    filename, content = REFUSED_UPLOADS[name]
    with pytest.raises(ValidationError) as refused:
        check_upload(SimpleUploadedFile(filename, content))
    assert refused.value.messages[0].startswith(("Der Inhalt", "Dateien vom Typ", "Die Datei"))


def test_a_refused_upload_keeps_the_typed_reply(world):
    client = world.clients["member"]
    body = f"Mein langer Text, der nicht verloren gehen darf {uuid.uuid4()}."
    response = client.post(
        f"/t/{world.pk['thread']}/antworten/",
        {
            "body": body,
            "client_token": str(uuid.uuid4()),
            "attachment": SimpleUploadedFile("bild.png", b"<html><script>1</script></html>"),
        },
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Der Inhalt der Datei passt nicht zur Endung" in page
    assert body in page
    assert not Post.objects.filter(body=body).exists()


@pytest.mark.parametrize(
    ("filename", "content", "inline"),
    [
        # Bytes after a genuine signature are not looked at: a PNG with HTML appended (or a PDF
        # that is also a page) is accepted, and served so that no browser treats it as a page.
        ("polyglot.png", PNG + b"<html><script>alert(1)</script></html>", True),
        ("polyglot.pdf", PDF + b"<html><script>alert(1)</script></html>", False),
        ('<script>alert(1)</script>".pdf', PDF, False),
    ],
)
def test_accepted_files_are_served_inert(world, filename, content, inline):
    member = world.user("member")
    thread = Thread.objects.get(pk=world.pk["thread"])
    upload = NewAttachment(SimpleUploadedFile(filename, content), alt_text="Ein Bild")
    post = posts.post_create(member, thread=thread, body="Anhang.", attachment=upload)
    attachment = Attachment.objects.get(post=post)
    assert not set('<>"/\\') & set(attachment.original_name)
    response = world.clients["visitor"].get(attachment.get_absolute_url())
    assert response.status_code == 200
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("inline" if inline else "attachment")
    assert response.headers["Content-Type"] in ("image/png", "application/pdf")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


# --- (e) Session fixation --------------------------------------------------------------------


def _login(client: Client, email: str, **extra):
    return client.post("/accounts/login/", {"login": email, "password": PASSWORD, **extra})


def test_signing_in_changes_the_session_key_and_signing_out_ends_it(world):
    client = Client()
    session = client.session  # a session planted before signing in (a fixation attempt)
    session["gepflanzt"] = True
    session.save()
    planted = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = planted

    response = _login(client, "jonas.becker@bochum.de")
    assert response.status_code == 302
    signed_in = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert signed_in != planted
    assert not client.session.exists(planted)
    assert client.get("/mein-bereich/").status_code == 200

    assert client.post("/accounts/logout/").status_code == 302
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = signed_in
    response = replay.get("/mein-bereich/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_admin_has_no_password_form_of_its_own(world):
    """/admin/login/ would sign an operator in without the second factor and without
    allauth's rate limits: it only sends people to the site's sign-in."""
    client = Client()
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/admin/"
    response = client.post("/admin/login/", {"username": "betrieb@bochum.de", "password": PASSWORD})
    assert settings.SESSION_COOKIE_NAME not in client.cookies or not client.session.get(
        "_auth_user_id"
    )
    member = world.clients["member"].get("/admin/login/")
    assert member.status_code == 403


# --- (f) Open redirects ----------------------------------------------------------------------

EVIL = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/",
    "/\\evil.example",
    "\\\\evil.example",
    "/\\/evil.example",
    "///evil.example",
    "https:/\\evil.example",
    "http:evil.example",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    " //evil.example",
    "\t//evil.example",
    "%2F%2Fevil.example",
    "//evil.example@testserver",
    "https://testserver.evil.example",
]


def _stays_on_site(location: str) -> bool:
    stripped = location.strip()
    if stripped.startswith(("//", "/\\", "\\")):
        return False
    parts = urlsplit(stripped)
    if parts.scheme not in ("", "http", "https"):
        return False
    return not parts.netloc or parts.netloc in OWN_HOSTS


def _redirects(world: World) -> list[tuple[str, object]]:
    """(name, request) pairs: each request takes an address to go to next."""
    member = "jonas.becker@bochum.de"

    def login(target):
        client = Client()
        return _login(client, member, next=target)

    def login_page(target):
        return Client().get("/accounts/login/", {"next": target})

    def logout(target):
        client = Client()
        client.force_login(world.user("member"))
        return client.post("/accounts/logout/", {"next": target})

    def language(target):
        return Client().post("/i18n/setlang/", {"language": "en", "next": target})

    def language_referer(target):
        return Client().post("/i18n/setlang/", {"language": "en"}, HTTP_REFERER=target)

    def terms(target):
        return world.clients["member"].post("/accounts/terms/", {"accept": "on", "next": target})

    def admin_login(target):
        return world.clients["staff"].get("/admin/login/", {"next": target})

    def signup(target):
        return Client().get("/accounts/signup/", {"next": target})

    def thread_short(target):
        return Client().get(f"/t/{world.pk['thread']}/", {"beitrag": target})

    def mark_read(target):  # forms inside the site say where to go on with ?weiter=
        return world.clients["member"].post("/notifications/gelesen/", {"weiter": target})

    return [
        ("mark_read_weiter", mark_read),
        ("login", login),
        ("login_page", login_page),
        ("logout", logout),
        ("language", language),
        ("language_referer", language_referer),
        ("terms", terms),
        ("admin_login", admin_login),
        ("signup", signup),
        ("thread_short", thread_short),
    ]


@pytest.mark.parametrize("via", [name for name, _ in _redirects(World({}, {}))])
def test_no_next_parameter_leads_off_the_site(world, via):
    request = dict(_redirects(world))[via]
    for target in EVIL:
        response = request(target)
        assert response.status_code in (200, 302, 301), (target, response.status_code)
        if response.status_code in (301, 302):
            assert _stays_on_site(response["Location"]), (target, response["Location"])
        else:  # a page that carries ?next= on in a form: never as a link off the site
            page = response.content.decode()
            assert f'href="{target}' not in page and f'action="{target}' not in page


# --- (g) Rate limits ------------------------------------------------------------------------


def _assert_429(response) -> None:
    assert response.status_code == 429
    page = response.content.decode()
    assert "Zu viele Versuche" in page
    assert not _header_problems(response)


def test_failed_sign_ins_are_limited_in_german(world, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "3/m/ip"}
    client = Client()
    for _ in range(3):
        assert (
            client.post("/accounts/login/", {"login": "x@bochum.de", "password": "f"}).status_code
            == 200
        )
    _assert_429(client.post("/accounts/login/", {"login": "x@bochum.de", "password": "f"}))
    # The limit stops the right password too: no one signs in past it.
    _assert_429(_login(client, "jonas.becker@bochum.de"))
    assert not client.session.get("_auth_user_id")


def test_signups_are_limited_in_german(world, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    client = Client()
    for n in range(2):
        client.post(
            "/accounts/signup/",
            {"email": f"neu{n}@posteo.de", "password1": PASSWORD, "password2": PASSWORD},
        )
    before = User.objects.count()
    _assert_429(
        client.post(
            "/accounts/signup/",
            {"email": "neu9@posteo.de", "password1": PASSWORD, "password2": PASSWORD},
        )
    )
    assert User.objects.count() == before


def test_posting_is_limited_and_keeps_the_text(world, settings):
    settings.FORUM_POSTS_PER_MINUTE = 2
    client, thread = world.clients["member"], world.pk["thread"]
    # The member wrote two posts while the world was built: as far as the limit knows, just now.
    Post.objects.filter(author_id=world.pk["member"]).update(created_at=timezone.now())
    body = f"Noch eine Antwort, die erhalten bleibt {uuid.uuid4()}."
    response = client.post(
        f"/t/{thread}/antworten/", {"body": body, "client_token": str(uuid.uuid4())}
    )
    assert response.status_code == 429  # the thread page, with the form as it was sent
    page = response.content.decode()
    assert "Sie haben in der letzten Minute schon mehrere Beiträge geschrieben" in page
    assert body in page
    assert not Post.objects.filter(body=body).exists()


def test_starting_threads_is_limited_and_keeps_the_text(world, settings):
    settings.FORUM_THREADS_PER_HOUR = 1
    client = Client()
    client.force_login(world.user("author"))
    # The author started a thread while the world was built: as far as the limit knows, now.
    Thread.objects.filter(author_id=world.pk["author"]).update(created_at=timezone.now())
    title = "Ein zweites Thema in dieser Stunde"
    response = client.post(
        "/t/neu/",
        {
            "category": world.samples["category_pk"],
            "kind": Thread.Kind.DISCUSSION,
            "title": title,
            "body": "Ein Text, der erhalten bleibt.",
            "tags": "",
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 429
    page = response.content.decode()
    assert "schon viele Themen begonnen" in page
    assert title in page and "Ein Text, der erhalten bleibt." in page
    assert not Thread.objects.filter(title=title).exists()


def test_reporting_is_limited(world):
    client = world.clients["member"]
    others = list(
        Post.objects.filter(author_id=world.pk["author"], number__gt=1).order_by("id")[:11]
    )
    assert len(others) == 11
    for post in others[:10]:
        response = client.post(f"/beitrag/{post.pk}/melden/", {"reason": Report.Reason.SPAM})
        assert response.status_code == 302
    response = client.post(f"/beitrag/{others[10].pk}/melden/", {"reason": Report.Reason.SPAM})
    assert response.status_code == 429
    assert (
        "Sie haben in der letzten Stunde schon viele Beiträge gemeldet" in response.content.decode()
    )
    assert Report.objects.filter(reporter_id=world.pk["member"]).count() == 10
