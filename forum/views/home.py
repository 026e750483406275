from __future__ import annotations

from django.http import Http404
from django.shortcuts import render

from forum import selectors
from forum.permissions import check_view_category


def home(request):
    return render(
        request, "forum/home.html", {"categories": selectors.categories_for(request.user)}
    )


def category_list(request):
    return render(
        request, "forum/category_list.html", {"categories": selectors.categories_for(request.user)}
    )


def category_detail(request, slug: str):
    category = selectors.category_by_slug(slug)
    if category is None:
        raise Http404
    check_view_category(request.user, category)
    return render(request, "forum/category_detail.html", {"category": category})
