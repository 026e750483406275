from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

from forum.services.posts import RATE_LIMITED


def next_url(request, default: str) -> str:
    """Where to go after a form: the posted ``weiter`` if it is a path on this site, else the
    default (a URL name). Never an outside address, never a view name from the request."""
    candidate = request.POST.get("weiter") or ""
    if candidate.startswith("/") and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(default)


def refusal_status(form, default: int = 400) -> int:
    """429 when a rate limit refused the write (the form comes back with what was typed)."""
    return 429 if form.has_error(NON_FIELD_ERRORS, RATE_LIMITED) else default
