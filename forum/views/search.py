from __future__ import annotations

from django.shortcuts import render
from django.views.decorators.http import require_safe

from accounts.selectors import organisations_for_choice
from forum import selectors
from forum.forms import SearchForm
from forum.search import browse_threads, matching_collections, search_threads, similar_threads
from forum.selectors import ThreadFilters

FILTER_FIELDS = (
    "themenfeld",
    "schlagwort",
    "art",
    "organisation",
    "geloest",
    "programm",
    "stand",
    "von",
    "bis",
)


@require_safe
def search(request):
    form = SearchForm(
        request.GET or None,
        categories=list(selectors.categories_for(request.user)),
        organisations=list(organisations_for_choice().only("slug", "name")),
        user=request.user,
    )
    filters, raw, newest = ThreadFilters(), "", False
    if form.is_bound:
        form.is_valid()  # errors are shown; the valid filters still apply
        filters, raw, newest = form.filters(), form.cleaned_data.get("q", ""), form.newest_first
    threads = selectors.filter_threads(request.user, filters)
    parsed, page = search_threads(threads, raw, request.GET.get("seite"), newest=newest)
    collections = (
        matching_collections(request.user, parsed)
        if parsed and not filters.any_set() and request.GET.get("seite", "1") in ("", "1")
        else []
    )
    if page is None and filters.any_set():
        page = browse_threads(threads, request.GET.get("seite"))
    query = request.GET.copy()
    query.pop("seite", None)
    return render(
        request,
        "forum/search.html",
        {
            "form": form,
            "query": raw,
            "parsed": parsed,
            "page": page,
            "collections": collections,
            "querystring": query.urlencode(),
            "filters_open": bool(form.errors)
            or any(request.GET.get(name) for name in FILTER_FIELDS)
            or request.GET.get("sortierung") == "neu",
            # Only filters apply (no search word): say so instead of echoing "-wort".
            "browsing": page is not None and not parsed,
        },
    )


@require_safe
def similar(request):
    """Threads that may already answer a title being typed (the new-thread form asks, as
    progressive enhancement). An HTML fragment: empty when there is nothing to suggest."""
    title = request.GET.get("titel", "").strip()[:200]
    hits = []
    if len(title) >= 8:
        hits = similar_threads(selectors.filter_threads(request.user, ThreadFilters()), title)
    return render(request, "forum/includes/similar_threads.html", {"similar": hits})
