from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from forum import selectors
from forum.calendar import calendar_for
from forum.models import Thread
from forum.views.threads import _get_thread


def _ics(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def events(request):
    return render(request, "forum/events.html", {"events": selectors.upcoming_events(request.user)})


def events_ics(request):
    """The iCal subscription: public announcements only (calendar apps do not sign in)."""
    threads = selectors.upcoming_events(AnonymousUser())
    response = _ics(
        calendar_for(threads, _("Termine im Stadtumbau-Forum")), "stadtumbau-termine.ics"
    )
    response.headers["Content-Disposition"] = 'inline; filename="stadtumbau-termine.ics"'
    return response


def thread_ics(request, pk: int):
    thread = _get_thread(request, pk)
    if thread.kind != Thread.Kind.ANNOUNCEMENT or not thread.event_start:
        raise Http404
    return _ics(calendar_for([thread], thread.title), f"termin-{thread.pk}.ics")
