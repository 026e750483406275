"""Render an e-mail from a template triple and hand it to the e-mail task.

``emails/<name>_subject.txt``, ``emails/<name>.txt`` and ``emails/<name>.html``; the subject
is one line, the plain-text part is the primary one and the HTML part is an alternative.

A message is rendered where its facts are at hand (inside the service's transaction) and
travels to the worker as plain strings (``Message``, JSON-safe); the task in forum/tasks.py
only talks to the mail server and retries when that fails. No web request waits for SMTP.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.message import make_msgid
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


class Message(TypedDict):
    """A rendered e-mail as the e-mail task receives it (only JSON types)."""

    subject: str
    text: str
    html: str
    to: list[str]
    from_email: str
    headers: dict[str, str]


def render_email(name: str, context: dict[str, Any]) -> tuple[str, str, str]:
    context = {"site_url": settings.SITE_URL, "forum_name": settings.FORUM_NAME, **context}
    subject = render_to_string(f"emails/{name}_subject.txt", context)
    subject = settings.EMAIL_SUBJECT_PREFIX + " ".join(subject.split())
    text = render_to_string(f"emails/{name}.txt", context)
    html = render_to_string(f"emails/{name}.html", context)
    return subject, text, html


def compose(
    name: str,
    to: Iterable[str],
    context: dict[str, Any],
    *,
    language: str = "de",
    headers: dict[str, str] | None = None,
) -> Message:
    """Render the template triple now, into a message the e-mail task can send later."""
    with translation.override(language):
        subject, text, html = render_email(name, context)
    return _message(subject, text, html, list(to), settings.DEFAULT_FROM_EMAIL, headers or {})


def _message(subject, text, html, to, from_email, headers) -> Message:
    # A fixed Message-ID: should a worker die after the server took the message and the task
    # run again (tasks_reap), the copy is recognisably the same message to mail systems.
    headers = {"Message-ID": make_msgid(domain=_msgid_domain()), **headers}
    return Message(
        subject=subject, text=text, html=html, to=to, from_email=from_email, headers=headers
    )


def _msgid_domain() -> str:
    from urllib.parse import urlsplit

    return urlsplit(settings.SITE_URL).hostname or "localhost"


def message_from_email(email: EmailMessage) -> Message:
    """The same for a message someone else rendered (allauth's adapter)."""
    html = ""
    for content, mimetype in getattr(email, "alternatives", []):
        if mimetype == "text/html":
            html = str(content)
    text = str(email.body)
    if email.content_subtype == "html" and not html:
        html, text = text, ""
    return _message(
        str(email.subject),
        text,
        html,
        list(email.to),
        str(email.from_email or settings.DEFAULT_FROM_EMAIL),
        {str(k): str(v) for k, v in (email.extra_headers or {}).items()},
    )


def deliver(message: Message, *, connection=None) -> None:
    """Send through the configured backend; raises what SMTP raises (the task decides)."""
    email = EmailMultiAlternatives(
        message["subject"],
        message["text"],
        message["from_email"],
        message["to"],
        headers=message["headers"],
        connection=connection or get_connection(),
    )
    if message["html"]:
        if message["text"]:
            email.attach_alternative(message["html"], "text/html")
        else:
            email.body, email.content_subtype = message["html"], "html"
    email.send()


def enqueue_on_commit(message: Message) -> None:
    """Give the message to the e-mail task once the surrounding transaction commits (at once
    outside a transaction). A failure to enqueue is logged, not raised."""
    from forum.tasks import send_email

    transaction.on_commit(lambda: send_email.enqueue(message), robust=True)


def send_email_on_commit(
    name: str,
    to: Iterable[str],
    context: dict[str, Any],
    *,
    language: str = "de",
    headers: dict[str, str] | None = None,
) -> None:
    """Render now from the objects in hand, send from the task queue after commit."""
    recipients = [address for address in to if address]
    if recipients:
        enqueue_on_commit(compose(name, recipients, context, language=language, headers=headers))
