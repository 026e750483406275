"""Follow levels, bookmarks and read positions."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Model
from taggit.models import Tag

from accounts.models import User
from forum.models import (
    Bookmark,
    Category,
    CategoryFollow,
    Level,
    Post,
    ReadState,
    TagFollow,
    Thread,
    ThreadFollow,
)

_FOLLOW_MODELS: dict[type[Model], tuple[type[Model], str]] = {
    Thread: (ThreadFollow, "thread"),
    Tag: (TagFollow, "tag"),
    Category: (CategoryFollow, "category"),
}


def follow_set(actor: User, *, target: Thread | Tag | Category, level: str) -> str:
    """Set the person's level for a thread, tag or category. "normal" removes the row."""
    if level not in Level.values:
        raise ValueError(level)
    model, field = _FOLLOW_MODELS[type(target)]
    with transaction.atomic():
        if level == Level.NORMAL:
            model.objects.filter(user=actor, **{field: target}).delete()
        else:
            model.objects.update_or_create(user=actor, **{field: target}, defaults={"level": level})
    return level


def _auto_watch(actor: User, thread: Thread) -> None:
    """People watch threads they start or reply to, unless they chose a level themselves."""
    ThreadFollow.objects.get_or_create(
        user=actor, thread=thread, defaults={"level": Level.WATCHING}
    )


def bookmark_toggle(actor: User, *, thread: Thread, post: Post | None = None) -> bool:
    with transaction.atomic():
        deleted, _details = Bookmark.objects.filter(user=actor, thread=thread, post=post).delete()
        if deleted:
            return False
        Bookmark.objects.create(user=actor, thread=thread, post=post)
        return True


def read_mark(actor: User, *, thread: Thread, number: int) -> None:
    """Remember the highest post number seen; never moves backwards. At most two queries."""
    if not actor.is_authenticated:
        return
    moved = ReadState.objects.filter(user=actor, thread=thread, last_read_number__lt=number).update(
        last_read_number=number
    )
    if not moved:
        ReadState.objects.get_or_create(
            user=actor, thread=thread, defaults={"last_read_number": number}
        )
