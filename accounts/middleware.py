from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from .permissions import needs_mfa
from .selectors import current_terms

TERMS_CACHE_KEY = "accounts:current-terms-version"
# Paths a person may use before accepting the current terms (to read them, to leave).
TERMS_EXEMPT_PREFIXES = (
    "/accounts/terms/",
    "/accounts/logout/",
    "/accounts/confirm-email/",
    # Whoever does not accept new terms may still take their data and delete the account.
    "/accounts/profile/daten/",
    "/accounts/profile/loeschen/",
    "/accounts/konto-geloescht/",
    "/static/",
    "/media/",
    "/healthz",
    "/i18n/",
    "/seiten/",
    "/feeds/",  # public content only, read by feed readers
    "/barrierefreiheit/",
    "/admin/",
)


def current_terms_version() -> tuple[int, str] | None:
    """The current terms (id, version), cached briefly: it is asked on every request."""
    cached = cache.get(TERMS_CACHE_KEY)
    if cached is None:
        terms = current_terms()
        cached = (terms.pk, terms.version) if terms else ()
        cache.set(TERMS_CACHE_KEY, cached, 60)
    return tuple(cached) or None


class TermsAcceptanceMiddleware:
    """A signed-in person must accept a newly published version before going on."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if user.is_authenticated and not request.path.startswith(TERMS_EXEMPT_PREFIXES):
            current = current_terms_version()
            if current and request.session.get("terms_accepted") != current[1]:
                if user.terms_acceptances.filter(terms_id=current[0]).exists():
                    request.session["terms_accepted"] = current[1]
                elif request.method in ("GET", "HEAD"):
                    url = reverse("accounts:terms")
                    nxt = request.get_full_path()
                    if url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
                        url += "?next=" + nxt
                    return redirect(url)
                else:
                    messages.warning(
                        request,
                        _("Bitte stimmen Sie zuerst den neuen Nutzungsbedingungen zu."),
                    )
                    return redirect("accounts:terms")
        return self.get_response(request)


class StaffRequireMFAMiddleware:
    """Operators reach the admin only with two-factor authentication set up."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/admin/") and needs_mfa(request.user):
            messages.warning(
                request,
                _(
                    "Bitte richten Sie zuerst die Zwei-Faktor-Authentifizierung ein. Sie ist "
                    "für die Verwaltung vorgeschrieben."
                ),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)
