"""Render an e-mail from a template triple and send it.

``emails/<name>_subject.txt``, ``emails/<name>.txt`` and ``emails/<name>.html``; the subject
is one line, the plain-text part is the primary one and the HTML part is an alternative.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

logger = logging.getLogger(__name__)


def render_email(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    context = {"site_url": settings.SITE_URL, "forum_name": settings.FORUM_NAME, **context}
    subject = render_to_string(f"emails/{name}_subject.txt", context)
    subject = settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    return subject, text, html


def send_email(
    name: str, to: Iterable[str], context: dict[str, Any], *, language: str = "de"
) -> None:
    with translation.override(language):
        subject, text, html = render_email(name, context)
    message = EmailMultiAlternatives(subject, text, to=list(to))
    message.attach_alternative(html, "text/html")
    message.send()


def send_email_on_commit(
    name: str, to: Iterable[str], context: dict[str, Any], *, language: str = "de"
) -> None:
    """Send after the surrounding transaction commits; a failure is logged, not raised."""
    recipients = list(to)
    transaction.on_commit(
        lambda: send_email(name, recipients, context, language=language), robust=True
    )
