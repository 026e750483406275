from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from forum import selectors
from forum.selectors import ThreadFilters

VIEWS = ("themen", "beitraege", "lesezeichen", "folgen")


@login_required
def mine(request):
    """My threads, my posts, my bookmarks and what I follow."""
    view = request.GET.get("ansicht", "themen")
    if view not in VIEWS:
        view = "themen"
    context = {"view": view, "querystring": f"ansicht={view}"}
    number = request.GET.get("seite")
    if view == "themen":
        # Threads started by the person, through the same list as everywhere else.
        filters = ThreadFilters(author_id=request.user.pk, sort="neu")
        context["page"] = selectors.thread_list(request.user, filters, number)
    elif view == "beitraege":
        context["page"] = selectors.my_posts(request.user, number)
    elif view == "lesezeichen":
        context["page"] = selectors.my_bookmarks(request.user, number)
    else:
        context.update(selectors.my_follows(request.user))
    return render(request, "forum/mine.html", context)
