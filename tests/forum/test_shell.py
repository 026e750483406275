"""The German shell: pages, headers, errors, health, categories and their visibility."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import path

from forum.models import AccessibilityFeedback, Category, SitePage
from tests.factories import CategoryFactory

PAGES = [
    "/",
    "/c/",
    "/o/",
    "/o/bochum/",
    "/accounts/login/",
    "/accounts/signup/",
    "/barrierefreiheit/",
]


@pytest.mark.django_db
class TestShell:
    @pytest.mark.parametrize("url", PAGES)
    def test_every_page_is_german_with_landmarks_and_a_strict_csp(self, client, network, url):
        response = client.get(url)
        assert response.status_code == 200
        html = response.content.decode()
        assert '<html lang="de"' in html
        assert 'href="#inhalt"' in html and '<main id="inhalt"' in html
        assert "<header" in html and "<footer" in html and 'aria-label="Hauptnavigation"' in html
        for label in ("Aktuelles", "Themenfelder"):
            assert f">{label}</a>" in html
        for label in (
            "Impressum",
            "Datenschutz",
            "Erklärung zur Barrierefreiheit",
            "Leichte Sprache",
        ):
            assert label in html
        assert 'aria-live="polite"' in html
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        # Nothing loaded from another host (links to other sites are fine, loads are not).
        loaded = re.findall(r'\ssrc="([^"]+)"', html) + re.findall(
            r'<link[^>]*\shref="([^"]+)"', html
        )
        loaded += re.findall(r'\saction="([^"]+)"', html)
        assert loaded
        for attr in loaded:
            assert not re.match(r"^(https?:)?//", attr) or attr.startswith(settings.SITE_URL), attr
        assert "<script>" not in html and " onclick=" not in html and "style=" not in html

    def test_every_main_navigation_link_leads_somewhere(self, client, db):
        html = client.get("/").content.decode()
        nav = html[html.index('aria-label="Hauptnavigation"') :]
        nav = nav[: nav.index("</nav>")]
        links = re.findall(r'href="([^"]+)"', nav)
        assert len(links) >= 2
        for link in links:
            assert client.get(link).status_code == 200, link

    def test_the_browser_language_does_not_switch_the_forum_to_english(self, client, db):
        html = client.get("/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
        assert '<html lang="de"' in html and "Aktuelles aus dem Netzwerk" in html

    def test_the_language_switcher_switches_to_english(self, client, db):
        response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
        assert response.status_code == 302
        html = client.get("/").content.decode()
        assert '<html lang="en"' in html

    @pytest.mark.parametrize("slug", ["impressum", "datenschutz", "leichte-sprache", "netiquette"])
    def test_legal_pages_exist_and_are_editable_content(self, client, db, slug):
        page = SitePage.objects.get(slug=slug)
        assert client.get(f"/seiten/{slug}/").status_code == 200
        from forum.services.pages import site_page_save

        site_page_save(slug=slug, title=page.title, body="Neuer **Text** <script>alert(1)</script>")
        html = client.get(f"/seiten/{slug}/").content.decode()
        assert "Neuer <strong>Text</strong>" in html and "alert(1)" not in html

    def test_accessibility_feedback_is_stored_and_bad_input_is_kept(
        self, client, db, settings, mailoutbox, django_capture_on_commit_callbacks
    ):
        settings.MANAGERS = [("Betrieb", "betrieb@example.org")]
        response = client.post(
            "/barrierefreiheit/",
            {"page_url": "/o/bochum/", "message": "", "contact_email": "kaputt"},
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Bitte beschreiben Sie die Barriere." in html and 'value="/o/bochum/"' in html
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                "/barrierefreiheit/",
                {"page_url": "/o/bochum/", "message": "Kontrast zu schwach", "contact_email": ""},
            )
        assert response.status_code == 302
        assert AccessibilityFeedback.objects.get().message == "Kontrast zu schwach"
        assert mailoutbox[-1].to == ["betrieb@example.org"]

    def test_german_404(self, client, db):
        response = client.get("/gibt-es-nicht/")
        assert response.status_code == 404
        assert "Seite nicht gefunden" in response.content.decode()


def _boom(request):
    raise RuntimeError("kaputt")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF="tests.forum.test_shell", DEBUG=False)
def test_a_server_error_shows_a_german_page_without_a_trace(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Technischer Fehler" in html and "Traceback" not in html and "kaputt" not in html


@pytest.mark.django_db
class TestCategoryVisibility:
    @pytest.fixture
    def categories(self):
        return {
            v: CategoryFactory(slug=f"c-{v}", name=f"Kategorie {v}", visibility=v)
            for v in Category.Visibility.values
        }

    def _visible(self, client):
        html = client.get("/c/").content.decode()
        return {v for v in Category.Visibility.values if f"Kategorie {v}" in html}

    def test_visitors_see_public_only_and_private_is_404(self, client, categories):
        assert self._visible(client) == {"public"}
        assert client.get("/c/c-members/").status_code == 404
        assert client.get("/c/c-moderators/").status_code == 404

    def test_members_see_members_categories(self, client, member, categories):
        client.force_login(member)
        assert self._visible(client) == {"public", "members"}
        assert client.get("/c/c-moderators/").status_code == 404

    def test_pending_people_see_public_only(self, client, network, categories):
        from tests.factories import make_user

        client.force_login(make_user(email="p@example.com", handle="pending"))
        assert self._visible(client) == {"public"}

    def test_moderators_see_everything(self, mod_client, categories):
        assert self._visible(mod_client) == {"public", "members", "moderators"}


@pytest.mark.django_db
class TestHealth:
    def test_healthy(self, client):
        response = client.get("/healthz")
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok"}

    def test_a_broken_channel_layer_answers_503(self, client, settings):
        settings.CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
            }
        }
        from channels.layers import channel_layers

        channel_layers.backends.clear()
        try:
            response = client.get("/healthz")
        finally:
            channel_layers.backends.clear()
        assert response.status_code == 503
        assert json.loads(response.content)["channel_layer"] == "error"


@pytest.mark.django_db
class TestQueryCounts:
    def test_the_organisation_page_does_not_grow_with_members(
        self, client, member, django_assert_max_num_queries
    ):
        from tests.factories import make_member

        client.force_login(member)
        client.get("/o/bochum/")  # warm caches (terms, session)
        with django_assert_max_num_queries(12) as few:
            client.get("/o/bochum/")
        for i in range(8):
            make_member(email=f"person{i}@bochum.de", handle=f"person-{i}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = client.get("/o/bochum/")
        assert response.content.decode().count('class="author-line"') == 9

    def test_the_member_directory_does_not_grow_with_members(
        self, client, member, django_assert_max_num_queries
    ):
        from tests.factories import make_member

        client.force_login(member)
        client.get("/u/")
        with django_assert_max_num_queries(12) as few:
            client.get("/u/")
        for i in range(8):
            make_member(email=f"person{i}@bochum.de", handle=f"person-{i}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get("/u/")

    def test_the_moderation_queue_does_not_grow_with_pending_people(
        self, mod_client, network, django_assert_max_num_queries
    ):
        from tests.factories import make_user

        make_user(email="p0@example.com", handle="p-0")
        mod_client.get("/mod/members/")
        with django_assert_max_num_queries(20) as few:
            mod_client.get("/mod/members/")
        for i in range(1, 8):
            make_user(email=f"p{i}@example.com", handle=f"p-{i}")
        with django_assert_max_num_queries(len(few.captured_queries)):
            mod_client.get("/mod/members/")


def test_check_deploy_is_clean_with_production_variables(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_ENV": "production",
        "SECRET_KEY": "x" * 20 + "-Produktions-Geheimnis-" + "y" * 30,
        "ALLOWED_HOSTS": "forum.example.org",
        "SITE_URL": "https://forum.example.org",
        "DATABASE_URL": f"sqlite:///{tmp_path}/prod.sqlite3",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env={"PATH": "/usr/bin:/bin", "DJANGO_ENV": "production"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
