"""Signed links in e-mails: manage a digest, unsubscribe from a digest section or a kind of
notification mail, confirm a public digest address. They work without logging in, expire, and
are refused when tampered with. A digest link also carries a piece of the subscription's
secret, so rotating the secret revokes every link sent so far."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

SALT = "forum.mail-link"
# Unsubscribe and manage links must outlive a long holiday; confirmation links are short.
LINK_MAX_AGE = timedelta(days=180)
CONFIRM_MAX_AGE = timedelta(days=7)


class LinkExpired(Exception):
    """The link was genuine but is too old."""


class LinkInvalid(Exception):
    """The link was changed, cut off or revoked."""


@dataclass(frozen=True)
class Link:
    purpose: str  # "digest" (manage/unsubscribe), "confirm", "notify"
    subject: int  # subscription id (digest, confirm) or user id (notify)
    scope: str = ""  # a digest section, "*" for all, or a notification kind
    check: str = ""  # a piece of the subscription secret


def _dumps(link: Link) -> str:
    return signing.dumps(
        [link.purpose, link.subject, link.scope, link.check], salt=SALT, compress=False
    )


def read(token: str, *, purpose: str) -> Link:
    max_age = CONFIRM_MAX_AGE if purpose == "confirm" else LINK_MAX_AGE
    try:
        data = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except signing.BadSignature as exc:
        raise LinkInvalid from exc
    if not isinstance(data, list) or len(data) != 4 or data[0] != purpose:
        raise LinkInvalid
    return Link(*data)


def _check(subscription) -> str:
    return subscription.secret[:10]


def verify_subscription(link: Link, subscription) -> None:
    if subscription is None or link.check != _check(subscription):
        raise LinkInvalid


def digest_token(subscription, scope: str = "*") -> str:
    return _dumps(Link("digest", subscription.pk, scope, _check(subscription)))


def confirm_token(subscription) -> str:
    return _dumps(Link("confirm", subscription.pk, "", _check(subscription)))


def notify_token(user, kind: str) -> str:
    return _dumps(Link("notify", user.pk, kind, ""))


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def digest_manage_url(subscription) -> str:
    return absolute(reverse("forum:digest_manage", kwargs={"token": digest_token(subscription)}))


def digest_unsubscribe_url(subscription, scope: str = "*") -> str:
    token = digest_token(subscription, scope)
    return absolute(reverse("forum:digest_unsubscribe", kwargs={"token": token}))


def confirm_url(subscription) -> str:
    token = confirm_token(subscription)
    return absolute(reverse("forum:digest_confirm", kwargs={"token": token}))


def notify_unsubscribe_url(user, kind: str) -> str:
    token = notify_token(user, kind)
    return absolute(reverse("forum:notify_unsubscribe", kwargs={"token": token}))


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail clients offer "unsubscribe" and POST to the link."""
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
