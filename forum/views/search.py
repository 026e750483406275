from __future__ import annotations

from django.shortcuts import render

from forum import selectors


def search(request):
    query = request.GET.get("q", "").strip()[:200]
    page = selectors.simple_search(request.user, query, request.GET.get("seite")) if query else None
    return render(
        request,
        "forum/search.html",
        {"query": query, "page": page, "querystring": f"q={query}" if query else ""},
    )
