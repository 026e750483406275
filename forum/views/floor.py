"""The benchmark floor (bench/README.md): the same middleware, one query, a tiny template.

Rendered without the request, so no context processor runs: what a real page costs above
this is the page's own work (queries, context processors, templates).
"""

from __future__ import annotations

from django.http import HttpResponse
from django.template.loader import render_to_string

from forum.models import Category


def floor(request):
    html = render_to_string("forum/floor.html", {"category_count": Category.objects.count()})
    return HttpResponse(html)
