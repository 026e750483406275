"""The notification centre, preferences, and the catch-up endpoint the live client polls."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from forum.models import Channel, Kind, Notification, Thread
from forum.services import notifications as service
from forum.views.safety import next_url as _next

PER_PAGE = 30
CATCH_UP_LIMIT = 50
CURSOR_MARGIN = timedelta(seconds=10)


@login_required
@require_safe
def centre(request):
    qs = (
        Notification.objects.filter(recipient=request.user)
        .select_related("thread", "post", "actor")
        .order_by("-updated_at", "-id")
    )
    show = request.GET.get("zeige", "")
    if show == "ungelesen":
        qs = qs.filter(read_at__isnull=True)
    kind = request.GET.get("art", "")
    if kind in Kind.values:
        qs = qs.filter(kind=kind)
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("seite"))
    items = [(n, service.describe(n), service.link(n)) for n in page.object_list]
    query = request.GET.copy()
    query.pop("seite", None)
    return render(
        request,
        "forum/notifications.html",
        {
            "page": page,
            "items": items,
            "show": show,
            "kind": kind,
            "kinds": Kind.choices,
            "querystring": query.urlencode(),
        },
    )


@login_required
@require_POST
def mark_read(request):
    """Mark one, a thread's or all notifications read (form posts from the centre)."""
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()]
    thread_id = request.POST.get("thema", "")
    if ids:
        service.notifications_mark_read(request.user, ids=ids)
    elif thread_id.isdigit():
        thread = get_object_or_404(Thread, pk=int(thread_id))
        service.notifications_mark_read(request.user, thread=thread)
    elif request.POST.get("alle") == "1":
        changed = service.notifications_mark_read(request.user)
        messages.success(request, _("Alle Benachrichtigungen sind als gelesen markiert."))
        if not changed:
            messages.info(request, _("Es gab keine ungelesenen Benachrichtigungen."))
    if request.headers.get("X-Requested-With") == "fetch":
        return JsonResponse({"unread": service.unread_count(request.user)})
    return redirect(_next(request, "forum:notifications"))


@login_required
def preferences(request):
    current = service.preferences_for(request.user)
    if request.method == "POST":
        chosen = {
            kind: request.POST.get(kind, current[kind])
            for kind in Kind.values
            if request.POST.get(kind) in Channel.values
        }
        service.preferences_set(request.user, channels=chosen)
        messages.success(request, _("Ihre Benachrichtigungseinstellungen sind gespeichert."))
        return redirect("forum:notification_preferences")
    rows = [(value, label, current[value]) for value, label in Kind.choices]
    return render(
        request,
        "forum/notification_preferences.html",
        {"rows": rows, "channels": Channel.choices},
    )


@require_safe
def catch_up(request):
    """What changed since the client's cursor: the reconnect and polling endpoint.

    ``?seit=<ISO time>`` (the ``cursor`` of the previous answer); without it the unread count,
    the last seconds' items and a fresh cursor. Visitors get an empty answer, never an error.
    """
    user = request.user
    now = timezone.now()
    if not user.is_authenticated:
        return JsonResponse({"unread": 0, "items": [], "cursor": now.isoformat()})
    # Without a cursor (a page just opened), the recent overlap comes along so that the client
    # knows it without announcing it again.
    since = _parse_time(request.GET.get("seit", "")) or now - CURSOR_MARGIN
    items = []
    # The cursor trails the clock: a notification is stamped inside a transaction that commits
    # a moment later (and app servers' clocks differ a little), so a cursor of "now" could
    # pass over it for good. The overlap is re-sent; the client skips what it already has.
    cursor = now - CURSOR_MARGIN
    if since is not None:
        changed = list(
            Notification.objects.filter(recipient=user, updated_at__gt=since)
            .select_related("thread", "post", "actor")
            .order_by("updated_at", "id")[:CATCH_UP_LIMIT]
        )
        items = [
            {
                "id": n.pk,
                "text": service.describe(n),
                "url": service.link(n),
                "read": n.is_read,
                "updated": n.updated_at.isoformat(),
            }
            for n in changed
        ]
        if len(changed) == CATCH_UP_LIMIT:
            cursor = min(cursor, changed[-1].updated_at)  # more to fetch: continue there
    return JsonResponse(
        {"unread": service.unread_count(user), "items": items, "cursor": cursor.isoformat()}
    )


def _parse_time(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace(" ", "+"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else timezone.make_aware(parsed)
