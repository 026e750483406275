"""Every rule about forum content, in one place.

``can_*`` for templates, ``check_*`` raising for enforcement, ``visible_*`` for lists.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.permissions import can_act_as_member, is_moderator

from .models import Category


def visible_categories(user, qs: QuerySet[Category] | None = None) -> QuerySet[Category]:
    qs = Category.objects.all() if qs is None else qs
    if is_moderator(user):
        return qs
    if can_act_as_member(user):
        return qs.exclude(visibility=Category.Visibility.MODERATORS)
    return qs.filter(visibility=Category.Visibility.PUBLIC)


def can_view_category(user, category: Category) -> bool:
    if category.visibility == Category.Visibility.PUBLIC:
        return True
    if category.visibility == Category.Visibility.MEMBERS:
        return can_act_as_member(user) or is_moderator(user)
    return is_moderator(user)


def check_view_category(user, category: Category) -> None:
    # Invisible is 404: the existence of a private category does not leak.
    if not can_view_category(user, category):
        raise Http404
