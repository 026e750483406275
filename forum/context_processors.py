from __future__ import annotations

from django.urls import NoReverseMatch, reverse


class _UrlMap(dict):
    """Argument-free URLs of the page chrome, reversed once per process.

    The header and footer link to about twenty named URLs on every page; reversing them each
    time was a measurable share of a page's rendering. A name that does not resolve (an area
    not built yet) gives "" so templates can leave the link out.
    """

    def __missing__(self, name: str) -> str:
        try:
            if name.startswith("page_"):  # urls.page_leichte_sprache → /seiten/leichte-sprache/
                url = reverse("forum:page", kwargs={"slug": name[5:].replace("_", "-")})
            else:
                url = reverse(name.replace("__", ":"))
        except NoReverseMatch:
            url = ""
        self[name] = url
        return url


URLS = _UrlMap()


def urls(request) -> dict:
    return {"urls": URLS}


def notifications(request) -> dict:
    """The bell's unread number (cached per person; see services.notifications.unread_count)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    from django.utils.functional import SimpleLazyObject

    from forum.services.notifications import unread_count

    return {"unread_notifications": SimpleLazyObject(lambda: unread_count(user))}
