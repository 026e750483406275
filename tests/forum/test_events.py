from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from icalendar import Calendar

from forum.models import Category
from tests.factories import CategoryFactory, make_thread


@pytest.fixture
def announcements(mfa_moderator):
    public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
    internal = CategoryFactory(visibility=Category.Visibility.MEMBERS)
    soon = timezone.now() + timedelta(days=7)
    make_thread(
        mfa_moderator,
        category=public,
        kind="announcement",
        title="Netzwerktreffen in Hamm",
        event_start=soon,
        event_place="Rathaus Hamm",
    )
    make_thread(
        mfa_moderator,
        category=internal,
        kind="announcement",
        title="Internes Werkstattgespräch",
        event_start=soon + timedelta(days=1),
    )
    make_thread(
        mfa_moderator,
        category=public,
        kind="announcement",
        title="Vergangene Werkstatt im Mai",
        event_start=timezone.now() - timedelta(days=30),
    )


@pytest.mark.django_db
class TestEvents:
    def test_the_events_page_lists_upcoming_visible_announcements(
        self, client, announcements, member
    ):
        html = client.get("/termine/").content.decode()
        assert (
            "Netzwerktreffen in Hamm" in html
            and "Internes" not in html
            and "Vergangene" not in html
        )
        client.force_login(member)
        assert "Internes Werkstattgespräch" in client.get("/termine/").content.decode()

    def test_the_subscription_is_valid_icalendar_with_public_events_only(
        self, client, announcements
    ):
        response = client.get("/termine.ics")
        assert response["Content-Type"].startswith("text/calendar")
        calendar = Calendar.from_ical(response.content)
        events = calendar.walk("VEVENT")
        assert [str(e["summary"]) for e in events] == ["Netzwerktreffen in Hamm"]
        assert str(events[0]["location"]) == "Rathaus Hamm"
        assert str(events[0]["uid"]).startswith("thread-")

    def test_a_single_event_downloads_as_ics(self, client, announcements):
        from forum.models import Thread

        thread = Thread.objects.get(title="Netzwerktreffen in Hamm")
        response = client.get(f"/t/{thread.pk}/termin.ics")
        assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
        internal = Thread.objects.get(title="Internes Werkstattgespräch")
        assert client.get(f"/t/{internal.pk}/termin.ics").status_code == 404
