"""Reads that pages need, with fixed query counts."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Category, SitePage
from .permissions import visible_categories


def categories_for(user) -> QuerySet[Category]:
    return visible_categories(user).order_by("position", "name")


def category_by_slug(slug: str) -> Category | None:
    return Category.objects.filter(slug=slug).first()


def site_page(slug: str) -> SitePage | None:
    return SitePage.objects.filter(slug=slug).first()
