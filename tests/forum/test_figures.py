"""Figures for the agency at /mod/figures/: the counts, who may see them, the CSV download."""

from __future__ import annotations

import csv
import datetime
import io
from contextlib import contextmanager
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from accounts.models import Organisation, OrganisationDomain
from forum.figures import figures_by_organisation_and_month
from forum.models import Category, Post, Thread
from forum.services.moderation import post_hide
from forum.services.posts import post_create, post_delete
from forum.services.threads import ProfileData, answer_accept
from tests.factories import CategoryFactory, make_member, make_moderator, make_thread

BERLIN = ZoneInfo("Europe/Berlin")
JANUARY, FEBRUARY = datetime.date(2025, 1, 1), datetime.date(2025, 2, 1)
RANGE = {"von": "2025-01", "bis": "2025-02"}


@contextmanager
def at(moment: datetime.datetime):
    """Everything written inside happens at ``moment`` (auto_now_add and the services' now)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def berlin(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2025, month, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def category(db):
    return CategoryFactory(visibility=Category.Visibility.MEMBERS)


@pytest.fixture
def people(network):
    return {
        "anna": make_member(email="anna.schmidt@bochum.de", handle="anna-schmidt"),
        "ben": make_member(email="ben.koch@bochum.de", handle="ben-koch"),
        "thomas": make_member(email="thomas.wagner@gelsenkirchen.de", handle="thomas-wagner"),
    }


@pytest.fixture
def activity(people, category, moderator):
    """Two months of activity of Bochum (anna, ben) and Gelsenkirchen (thomas)."""
    anna, ben, thomas = people["anna"], people["ben"], people["thomas"]
    with at(berlin(1, 10)):
        question = make_thread(anna, category=category, title="Wie finanzieren Sie Ankäufe?")
    with at(berlin(1, 11)):
        answer = post_create(thomas, thread=question, body="Mit einem Zwischenerwerbsfonds.")
        post_create(ben, thread=question, body="Über die Städtebauförderung.")
        post_create(ben, thread=question, body="Und ergänzend aus Eigenmitteln.")
        withdrawn = post_create(thomas, thread=question, body="Nehme ich zurück.")
        post_delete(thomas, post=withdrawn)
    with at(berlin(1, 20)):
        make_thread(
            thomas,
            category=category,
            kind="experience",
            title="Zwischennutzung eines Kaufhauses",
            profile=ProfileData(organisation_id=thomas.organisation_id, programme="efre"),
        )
    # 23:30 UTC on 31 January is half past midnight on 1 February in Berlin.
    with at(datetime.datetime(2025, 1, 31, 23, 30, tzinfo=datetime.UTC)):
        post_create(ben, thread=question, body="Nachtrag nach Mitternacht.")
    with at(berlin(2, 3)):
        answer_accept(anna, post=answer)  # solved in February, answered in January
        spam = post_create(thomas, thread=question, body="Werbung für ein Gutachterbüro.")
        post_hide(moderator, post=spam, reason="Werbung ist nicht erlaubt.")
        internal = CategoryFactory(visibility=Category.Visibility.MODERATORS)
        make_thread(moderator, category=internal, title="Interne Absprache zur Agenda")
    return people


def counts(row) -> dict[str, int]:
    return {name: getattr(row, name) for name in row.COUNTS}


def as_table(report) -> dict[tuple[str, str], dict[str, int]]:
    return {(r.organisation_name, r.month.strftime("%Y-%m")): counts(r) for r in report.rows}


@pytest.mark.django_db
class TestCounts:
    def test_two_organisations_over_two_months(self, activity):
        report = figures_by_organisation_and_month(first_month=JANUARY, last_month=FEBRUARY)
        assert as_table(report) == {
            # The deleted reply does not count; ben wrote twice and is one active member.
            ("Stadt Bochum", "2025-01"): {
                "threads": 1,
                "answers": 2,
                "accepted_answers": 0,
                "experience_reports": 0,
                "active_members": 2,
            },
            ("Stadt Gelsenkirchen", "2025-01"): {
                "threads": 1,
                "answers": 1,
                "accepted_answers": 0,
                "experience_reports": 1,
                "active_members": 1,
            },
            # Berlin's midnight, not UTC's, starts February.
            ("Stadt Bochum", "2025-02"): {
                "threads": 0,
                "answers": 1,
                "accepted_answers": 0,
                "experience_reports": 0,
                "active_members": 1,
            },
            # The accepted answer counts when the thread was solved; the hidden post and the
            # moderators' internal thread do not count at all.
            ("Stadt Gelsenkirchen", "2025-02"): {
                "threads": 0,
                "answers": 0,
                "accepted_answers": 1,
                "experience_reports": 0,
                "active_members": 0,
            },
        }
        assert [r.organisation_name for r in report.rows] == [
            "Stadt Bochum",
            "Stadt Gelsenkirchen",
            "Stadt Bochum",
            "Stadt Gelsenkirchen",
        ]
        assert [counts(t) for t in report.month_totals] == [
            {
                "threads": 2,
                "answers": 3,
                "accepted_answers": 0,
                "experience_reports": 1,
                "active_members": 3,
            },
            {
                "threads": 0,
                "answers": 1,
                "accepted_answers": 1,
                "experience_reports": 0,
                "active_members": 1,
            },
        ]
        # Over the range ben (active in both months) counts once: anna, ben, thomas.
        assert report.total.active_members == 3
        assert report.total.answers == 4

    def test_one_organisation_and_a_month_without_activity(self, activity):
        gelsenkirchen = Organisation.objects.get(slug="gelsenkirchen")
        report = figures_by_organisation_and_month(
            first_month=datetime.date(2024, 12, 1),
            last_month=JANUARY,
            organisation=gelsenkirchen,
        )
        assert as_table(report) == {
            ("Stadt Gelsenkirchen", "2025-01"): {
                "threads": 1,
                "answers": 1,
                "accepted_answers": 0,
                "experience_reports": 1,
                "active_members": 1,
            },
        }
        assert [t.month for t in report.month_totals] == [datetime.date(2024, 12, 1), JANUARY]
        assert counts(report.month_totals[0]) == dict.fromkeys(report.total.COUNTS, 0)

    def test_posts_of_deleted_accounts_count_without_an_organisation(self, activity):
        # What a deleted account leaves behind: its posts stay, without an author.
        Post.objects.filter(author=activity["ben"], created_at__month=1).update(author=None)
        report = figures_by_organisation_and_month(
            first_month=JANUARY, last_month=JANUARY, no_organisation_label="Ohne Organisation"
        )
        table = as_table(report)
        assert table[("Stadt Bochum", "2025-01")]["answers"] == 0
        assert table[("Ohne Organisation", "2025-01")] == {
            "threads": 0,
            "answers": 2,
            "accepted_answers": 0,
            "experience_reports": 0,
            "active_members": 0,  # nobody to count
        }
        assert report.rows[-1].organisation_name == "Ohne Organisation"
        assert report.total.answers == 3

    def test_posts_and_threads_waiting_for_approval_do_not_count(
        self, activity, category, settings
    ):
        before = as_table(
            figures_by_organisation_and_month(first_month=JANUARY, last_month=JANUARY)
        )
        settings.FORUM_HOLD_FIRST_POSTS = 5
        newcomer = make_member(email="cara.lang@gelsenkirchen.de", handle="cara-lang")
        question = Thread.objects.get(title="Wie finanzieren Sie Ankäufe?")
        with at(berlin(1, 25)):
            make_thread(newcomer, category=category, title="Eine Frage, die noch wartet")
            post_create(newcomer, thread=question, body="Eine Antwort, die noch wartet.")
        assert Thread.objects.filter(is_held=True).count() == 1
        assert Post.objects.filter(is_held=True).count() == 2
        after = figures_by_organisation_and_month(first_month=JANUARY, last_month=JANUARY)
        assert as_table(after) == before

    def test_organisations_without_activity_are_left_out(self, activity):
        report = figures_by_organisation_and_month(first_month=JANUARY, last_month=FEBRUARY)
        names = {r.organisation_name for r in report.rows}
        assert names == {"Stadt Bochum", "Stadt Gelsenkirchen"}
        assert Organisation.objects.count() > 20


@pytest.mark.django_db
class TestPage:
    def test_the_moderator_sees_the_tables_and_the_rules(self, mod_client, activity):
        page = mod_client.get("/mod/figures/", RANGE).content.decode()
        assert "<caption" in page and 'scope="row"' in page and 'scope="col"' in page
        assert "kern-table__cell--numeric" in page
        assert "Stadt Gelsenkirchen" in page and "Januar 2025" in page and "Gesamt" in page
        assert 'aria-current="page"' in page and "Kennzahlen" in page
        assert "/mod/figures.csv?von=2025-01&amp;bis=2025-02" in page
        assert "noch nicht freigegebene Beiträge" in page and "heute angehört" in page
        assert 'value="2025-01"' in page and 'value="2025-02"' in page

    def test_the_default_is_the_last_twelve_months(self, mod_client, activity):
        from django.utils import timezone

        today = timezone.localdate()
        page = mod_client.get("/mod/figures/").content.decode()
        assert f'value="{today:%Y-%m}"' in page
        first = datetime.date(today.year - 1, today.month, 1)
        first = datetime.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        assert f'value="{first:%Y-%m}"' in page

    @pytest.mark.parametrize(
        ("params", "field", "message"),
        [
            ({"von": "Januar", "bis": "2025-02"}, "von", "im Format JJJJ-MM"),
            ({"von": "2025-13", "bis": "2025-02"}, "von", "im Format JJJJ-MM"),
            ({"von": "2025-03", "bis": "2025-02"}, "bis", "liegt vor dem ersten"),
            ({"von": "2015-01", "bis": "2025-02"}, "bis", "höchstens 60 Monate"),
            ({"organisation": "atlantis"}, "organisation", "gibt es nicht"),
        ],
    )
    def test_bad_filters_get_a_message_next_to_the_field_and_keep_the_input(
        self, mod_client, activity, params, field, message
    ):
        response = mod_client.get("/mod/figures/", params)
        page = response.content.decode()
        assert response.status_code == 200
        assert message in page
        assert f'id="id_{field}-error"' in page and 'aria-invalid="true"' in page
        assert "<table" not in page and "/mod/figures.csv?" not in page
        if field != "organisation":
            assert f'value="{params[field]}"' in page
        # The CSV with the same filters leads back to the page that explains the error.
        csv_response = mod_client.get("/mod/figures.csv", params)
        assert csv_response.status_code == 302
        assert csv_response["Location"].startswith("/mod/figures/?")

    def test_german_month_notation_is_understood(self, mod_client, activity):
        page = mod_client.get("/mod/figures/", {"von": "01.2025", "bis": "2/2025"})
        assert 'value="2025-01"' in page.content.decode()
        assert "kern-error" not in page.content.decode()

    def test_the_query_count_does_not_grow_with_organisations_and_posts(
        self, mod_client, people, category, django_assert_max_num_queries
    ):
        with at(berlin(1, 10)):
            thread = make_thread(people["anna"], category=category, title="Ein erstes Thema")
        mod_client.get("/mod/figures/", RANGE)  # warm the per-process caches
        with django_assert_max_num_queries(20) as few:
            mod_client.get("/mod/figures/", RANGE)
        domains = (
            OrganisationDomain.objects.filter(active=True)
            .exclude(organisation__slug__in=["bochum", "innovationsagentur"])
            .select_related("organisation")
            .order_by("organisation__name")[:8]
        )
        for month in (1, 2):
            for n, domain in enumerate(domains):
                with at(berlin(month, 5 + n)):
                    writer = make_member(
                        email=f"person{month}@{domain.domain}", handle=f"p{month}-{n}"
                    )
                    make_thread(writer, category=category, title=f"Thema Nummer {month}-{n}")
                    post_create(writer, thread=thread, body="Eine Antwort.")
                    post_create(people["ben"], thread=thread, body="Noch eine Antwort.")
        with django_assert_max_num_queries(len(few.captured_queries)):
            response = mod_client.get("/mod/figures/", RANGE)
        page = response.content.decode()
        assert all(domain.organisation.name in page for domain in domains)
        report = figures_by_organisation_and_month(first_month=JANUARY, last_month=FEBRUARY)
        organisations = {domain.organisation_id for domain in domains}
        assert len(organisations) >= 5 and len(report.rows) == 2 + 2 * len(organisations)


@pytest.mark.django_db
class TestCsv:
    def test_excel_ready_csv_with_bom_semicolons_and_german_header(self, mod_client, activity):
        response = mod_client.get("/mod/figures.csv", RANGE)
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        assert (
            response["Content-Disposition"]
            == 'attachment; filename="kennzahlen-2025-01-bis-2025-02.csv"'
        )
        raw = response.content
        assert raw.startswith(b"\xef\xbb\xbf")
        text = raw.decode("utf-8-sig")
        assert text.splitlines()[0] == (
            "Organisation;Monat;Neue Themen;Antworten;Akzeptierte Antworten;"
            "Erfahrungsberichte;Aktive Mitglieder"
        )
        rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
        assert rows == [
            ["Stadt Bochum", "2025-01", "1", "2", "0", "0", "2"],
            ["Stadt Gelsenkirchen", "2025-01", "1", "1", "0", "1", "1"],
            ["Stadt Bochum", "2025-02", "0", "1", "0", "0", "1"],
            ["Stadt Gelsenkirchen", "2025-02", "0", "0", "1", "0", "0"],
        ]

    def test_the_organisation_filter_applies_to_the_csv(self, mod_client, activity):
        text = mod_client.get(
            "/mod/figures.csv", {**RANGE, "organisation": "gelsenkirchen"}
        ).content.decode("utf-8-sig")
        organisations = {line.split(";")[0] for line in text.splitlines()[1:]}
        assert organisations == {"Stadt Gelsenkirchen"}

    @pytest.mark.parametrize("start", ["=", "+", "-", "@"])
    def test_organisation_names_cannot_become_formulas(self, mod_client, activity, start):
        name = f'{start}HYPERLINK("https://example.org","Klick")'
        Organisation.objects.filter(slug="gelsenkirchen").update(name=name)
        text = mod_client.get("/mod/figures.csv", RANGE).content.decode("utf-8-sig")
        cells = [row[0] for row in csv.reader(io.StringIO(text), delimiter=";")][1:]
        assert f"'{name}" in cells
        assert not any(cell.startswith(start) for cell in cells)


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/mod/figures/", "/mod/figures.csv"])
def test_only_moderators_with_two_factor_get_the_figures(client, member, url, network):
    visitor = client.get(url)
    assert visitor.status_code == 302 and visitor["Location"].startswith("/accounts/login/")
    client.force_login(member)
    assert client.get(url).status_code == 403
    client.force_login(make_moderator(email="m2@agentur.example.org", handle="m-zwei"))
    without_2fa = client.get(url)
    assert without_2fa.status_code == 302 and "/accounts/2fa/" in without_2fa["Location"]


@pytest.mark.django_db
def test_the_figures_are_read_only(mod_client):
    assert mod_client.post("/mod/figures/", RANGE).status_code == 405
    assert mod_client.post("/mod/figures.csv", RANGE).status_code == 405
