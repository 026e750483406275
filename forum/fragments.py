"""Cached HTML fragments of posts.

A post's head and body look the same to every reader, so they are rendered once and kept in
the cache under a key made of everything they show (key-based expiry): an edit, a deletion,
a renamed author or a new attachment yields a new key, so a stale fragment is never served
and nothing has to be invalidated by hand. Per-reader controls are rendered live around it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .models import Post

FRAGMENT_TIMEOUT = 7 * 24 * 3600
TEMPLATE = "forum/includes/post_content.html"


def _fingerprint(post: Post, *, accepted: bool, show_hidden: bool) -> str:
    author = post.author
    organisation = author.organisation if author is not None else None
    parts = [
        post.pk,
        post.created_at.isoformat(),
        post.number,
        post.thread_id,
        post.thread.slug,
        post.edited_at.isoformat() if post.edited_at else "",
        post.edit_count,
        post.is_deleted,
        post.is_hidden,
        post.is_held,
        show_hidden,
        accepted,
        author.pk if author else "",
        author.display_name if author else "",
        author.handle if author else "",
        author.is_active if author else "",
        # "nicht mehr aktiv" next to the name (accounts/turnover.py); erasure ends the name.
        bool(author.departed_at) if author else "",
        bool(author.erased_at) if author else "",
        organisation.pk if organisation else "",
        organisation.name if organisation else "",
        [(a.pk, a.alt_text) for a in post.attachments.all()] if post.has_attachments else [],
    ]
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def attach_content_html(
    posts: Iterable[Post], *, accepted: bool = False, show_hidden: bool = False
) -> None:
    """Set ``post.content_html`` on each post, from the cache or freshly rendered."""
    posts = list(posts)
    language = get_language() or "de"
    keys = {
        post.pk: f"post-content:{language}:{_fingerprint(post, accepted=accepted, show_hidden=show_hidden)}"
        for post in posts
    }
    found = cache.get_many(list(keys.values()))
    rendered = {}
    for post in posts:
        key = keys[post.pk]
        html = found.get(key)
        if html is None:
            html = render_to_string(
                TEMPLATE, {"post": post, "accepted": accepted, "show_hidden": show_hidden}
            )
            rendered[key] = html
        post.content_html = mark_safe(html)  # noqa: S308 (rendered by our own template)
    if rendered:
        cache.set_many(rendered, FRAGMENT_TIMEOUT)


ROW_TEMPLATE = "forum/includes/thread_row_content.html"


def _row_fingerprint(thread) -> str:
    profile = getattr(thread, "profile", None) if thread.kind == "experience" else None
    parts = [
        thread.pk,
        thread.created_at.isoformat(),
        thread.updated_at.isoformat(),
        thread.last_activity_at.isoformat(),
        thread.title,
        thread.slug,
        thread.kind,
        thread.post_count,
        thread.accepted_post_id,
        thread.is_pinned,
        thread.is_pinned_globally,
        thread.is_locked,
        thread.category.name,
        thread.category.slug,
        thread.organisation.name if thread.organisation_id else "",
        thread.last_poster.display_name if thread.last_poster_id else "",
        (profile.programme, profile.status) if profile else "",
    ]
    return hashlib.blake2b(repr(parts).encode(), digest_size=12).hexdigest()


def attach_row_html(threads) -> None:
    """Set ``thread.row_html`` for list rows; tags are loaded only for rows not cached."""
    from django.db.models import prefetch_related_objects

    threads = list(threads)
    language = get_language() or "de"
    keys = {t.pk: f"thread-row:{language}:{_row_fingerprint(t)}" for t in threads}
    found = cache.get_many(list(keys.values()))
    missing = [t for t in threads if keys[t.pk] not in found]
    if missing:
        prefetch_related_objects(missing, "tags")
    rendered = {}
    for thread in threads:
        html = found.get(keys[thread.pk])
        if html is None:
            html = render_to_string(ROW_TEMPLATE, {"thread": thread})
            rendered[keys[thread.pk]] = html
        thread.row_html = mark_safe(html)  # noqa: S308 (rendered by our own template)
    if rendered:
        cache.set_many(rendered, FRAGMENT_TIMEOUT)
