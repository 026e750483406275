from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.translation import gettext as _

from forum.permissions import is_public_category, is_public_thread
from forum.selectors import POSTS_PER_PAGE

register = template.Library()

KIND_CLASSES = {
    "question": "badge--question",
    "experience": "badge--experience",
    "discussion": "badge--discussion",
    "announcement": "badge--announcement",
}


@register.simple_tag
def kind_badge(thread):
    return format_html(
        '<span class="badge {}">{}</span>',
        KIND_CLASSES.get(thread.kind, ""),
        thread.get_kind_display(),
    )


@register.simple_tag
def unread_link(thread):
    """ "N ungelesen", leading to the first unread post, for people who read the thread before."""
    last_read = getattr(thread, "last_read", None)
    if not last_read or last_read >= thread.last_number:
        return ""
    return format_html(
        '<a class="badge badge--unread thread-row__unread" href="{}">{}</a>',
        thread_entry_url(thread),
        _("%(n)s ungelesen") % {"n": thread.last_number - last_read},
    )


@register.simple_tag
def thread_rows(threads):
    """The rows of a thread list with their cached fragments attached (forum/fragments.py)."""
    from forum.fragments import attach_row_html

    threads = list(threads)
    attach_row_html(threads)
    return threads


@register.simple_tag
def thread_entry_url(thread):
    """Where a list row leads: the first unread post for people who read before."""
    url = thread.get_absolute_url()
    last_read = getattr(thread, "last_read", None)
    if last_read and last_read < thread.last_number:
        number = last_read + 1
        page = (number - 1) // POSTS_PER_PAGE + 1
        query = f"?seite={page}" if page > 1 else ""
        return f"{url}{query}#post-{number}"
    return url


@register.inclusion_tag("forum/includes/author_line.html")
def author_line(user, organisation=None):
    return {"author": user, "organisation": organisation or (user.organisation if user else None)}


@register.filter
def public_category(category) -> bool:
    """Whether a visitor may read the category: only then does the page announce its feed."""
    return is_public_category(category)


@register.filter
def public_thread(thread) -> bool:
    return is_public_thread(thread)


@register.filter
def audit_action(action: str) -> str:
    """The German name of an audit log action (the code stays visible in the log)."""
    from forum.services.audit import action_label

    return action_label(action)
