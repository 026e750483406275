"""Announcements with a date as iCalendar (RFC 5545), built with the icalendar package."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from icalendar import Calendar, Event

from .models import Thread

EVENT_DEFAULT_DURATION = timedelta(hours=2)


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", "-//Stadtumbau-Forum//Termine//DE")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    return calendar


def _event(thread: Thread) -> Event:
    event = Event()
    host = settings.SITE_URL.split("://", 1)[-1]
    event.add("uid", f"thread-{thread.pk}@{host}")
    event.add("summary", thread.title)
    event.add("dtstart", thread.event_start)
    event.add("dtend", thread.event_start + EVENT_DEFAULT_DURATION)
    event.add("dtstamp", thread.created_at)
    if thread.event_place:
        event.add("location", thread.event_place)
    url = settings.SITE_URL + thread.get_absolute_url()
    event.add("url", url)
    event.add("description", url)
    return event


def calendar_for(threads: Iterable[Thread], name: str) -> bytes:
    calendar = _calendar(name)
    for thread in threads:
        if thread.event_start:
            calendar.add_component(_event(thread))
    return calendar.to_ical()
