"""Writes for the editable site pages and the accessibility feedback."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from forum.emails import send_email_on_commit
from forum.markdown import render_markdown
from forum.models import AccessibilityFeedback, SitePage


def site_page_save(*, slug: str, title: str, body: str) -> SitePage:
    """Create or update a page; its HTML is rendered once, here."""
    with transaction.atomic():
        page, _created = SitePage.objects.update_or_create(
            slug=slug, defaults={"title": title, "body": body, "body_html": render_markdown(body)}
        )
    return page


def accessibility_feedback_submit(
    user, *, message: str, page_url: str = "", contact_email: str = ""
) -> AccessibilityFeedback:
    """Store a reported barrier and tell the operators (after commit)."""
    with transaction.atomic():
        feedback = AccessibilityFeedback.objects.create(
            message=message.strip(),
            page_url=page_url.strip()[:500],
            contact_email=contact_email.strip(),
            user=user if getattr(user, "is_authenticated", False) else None,
        )
        recipients = [email for _name, email in settings.MANAGERS]
        if recipients:
            send_email_on_commit("accessibility_feedback", recipients, {"feedback": feedback})
    return feedback
