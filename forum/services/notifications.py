"""Notifications: the one writer, the triggers that call it, and marking read.

Rows are written inside the caller's transaction; the live push and instant e-mails follow
after commit. Nobody hears of their own action or of content they may not read, and a muted
thread, tag or category stays silent. Replies and "helpful" gather into one unread row per
thread ("5 neue Antworten in …").
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from forum.emails import send_email_on_commit
from forum.events import send_event, user_group
from forum.models import (
    DEFAULT_CHANNELS,
    Category,
    CategoryFollow,
    Channel,
    Kind,
    Level,
    Notification,
    NotificationPreference,
    Post,
    TagFollow,
    Thread,
    ThreadFollow,
)
from forum.models.notifications import COALESCING

UNREAD_CACHE = "notifications:unread:{}"
UNREAD_TIMEOUT = 3600
# "@handle schrieb in #12:" (and its English form) opens a quote made with the quote button.
_QUOTE_RE = re.compile(r"@([\w.-]+) (?:schrieb in|wrote in) #(\d+):")


# --- Reading what the writer needs -----------------------------------------------------------


def _moderator_ids(ids: Iterable[int]) -> set[int]:
    """Which of these people moderate, in one query (is_moderator for a whole list)."""
    permission = Permission.objects.filter(
        content_type__app_label="accounts", codename="moderate"
    ).first()
    ids = list(ids)
    if not ids:
        return set()
    condition = Q(is_superuser=True)
    if permission is not None:
        condition |= Q(groups__permissions=permission) | Q(user_permissions=permission)
    return set(
        User.objects.filter(pk__in=ids, is_active=True)
        .filter(condition)
        .values_list("pk", flat=True)
        .distinct()
    )


def _readers(users: list[User], thread: Thread | None) -> list[User]:
    """Those of ``users`` who may read the thread (all of them when there is no thread)."""
    users = [u for u in users if u.is_active]
    if thread is None:
        return users
    visibility = thread.category.visibility
    moderators = _moderator_ids(u.pk for u in users)
    if thread.is_hidden or visibility == Category.Visibility.MODERATORS:
        return [u for u in users if u.pk in moderators]
    if thread.is_held:  # waiting for approval: its author and the moderation
        return [u for u in users if u.pk in moderators or u.pk == thread.author_id]
    if visibility == Category.Visibility.MEMBERS:
        return [u for u in users if u.is_approved_member or u.pk in moderators]
    return users


def _channels(users: list[User], kind: str) -> dict[int, str]:
    chosen = dict(
        NotificationPreference.objects.filter(user__in=users, kind=kind).values_list(
            "user_id", "channel"
        )
    )
    default = DEFAULT_CHANNELS[Kind(kind)]
    return {u.pk: chosen.get(u.pk, default) for u in users}


# --- The writer -------------------------------------------------------------------------------


def notify(
    recipients: Iterable[User],
    *,
    kind: str,
    thread: Thread | None = None,
    post: Post | None = None,
    actor: User | None = None,
    reason: str = "",
    data: dict | None = None,
) -> list[Notification]:
    """Write (or gather into) one notification per recipient; push and mail after commit."""
    unique = {u.pk: u for u in recipients if u is not None}
    if actor is not None:
        unique.pop(actor.pk, None)
    users = _readers(list(unique.values()), thread)
    if not users:
        return []
    channels = _channels(users, kind)
    users = [u for u in users if channels[u.pk] != Channel.OFF]
    if not users:
        return []
    now = timezone.now()
    written: list[Notification] = []
    pending = {u.pk: u for u in users}
    if kind in COALESCING and thread is not None:
        existing = list(
            Notification.objects.select_for_update().filter(
                recipient__in=list(pending), kind=kind, thread=thread, read_at__isnull=True
            )
        )
        if existing:
            Notification.objects.filter(pk__in=[n.pk for n in existing]).update(
                count=F("count") + 1, post=post, actor=actor, updated_at=now
            )
            for notification in existing:
                notification.count += 1
                notification.post, notification.actor, notification.updated_at = post, actor, now
                pending.pop(notification.recipient_id, None)
            written += existing
    written += Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                kind=kind,
                thread=thread,
                post=post,
                actor=actor,
                reason=reason,
                data=data or {},
                updated_at=now,
            )
            for user in pending.values()
        ]
    )
    by_recipient = {n.recipient_id: n for n in written}
    _after_commit(by_recipient, users, channels)
    return written


def _forget_counts(ids: Iterable[int]) -> None:
    cache.delete_many([UNREAD_CACHE.format(pk) for pk in ids])


def _after_commit(by_recipient: dict[int, Notification], users, channels) -> None:
    ids = list(by_recipient)
    # Forget the cached counts now and again after commit: a page read in between may have
    # cached the old number.
    _forget_counts(ids)

    def push() -> None:
        _forget_counts(ids)
        counts = unread_counts(ids)
        for pk, notification in by_recipient.items():
            send_event(
                user_group(pk),
                "notification",
                {
                    "id": notification.pk,
                    "unread": counts.get(pk, 0),
                    "text": describe(notification),
                    "url": link(notification),
                    "updated": notification.updated_at.isoformat(),
                },
            )

    transaction.on_commit(push, robust=True)
    for user in users:
        if channels[user.pk] == Channel.EMAIL and user.email:
            notification = by_recipient[user.pk]
            send_email_on_commit(
                "notification",
                [user.email],
                {"user": user, "text": describe(notification), "url": link(notification)},
            )


# --- Texts and links --------------------------------------------------------------------------


def describe(notification: Notification) -> str:
    """One sentence for the bell, the centre, the live region and the e-mail."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    thread = notification.thread
    title = thread.title if thread is not None else notification.data.get("title", "")
    actor = notification.actor.display_name if notification.actor else _("Jemand")
    n = notification.count
    kind = notification.kind
    if kind == Kind.REPLY:
        if n == 1:
            return _("%(actor)s hat in „%(title)s“ geantwortet") % {"actor": actor, "title": title}
        return ngettext(
            "%(count)s neue Antwort in „%(title)s“",
            "%(count)s neue Antworten in „%(title)s“",
            n,
        ) % {"count": n, "title": title}
    if kind == Kind.NEW_THREAD:
        return _("Neues Thema von %(actor)s: „%(title)s“") % {"actor": actor, "title": title}
    if kind == Kind.MENTION:
        return _("%(actor)s hat Sie in „%(title)s“ erwähnt") % {"actor": actor, "title": title}
    if kind == Kind.QUOTE:
        return _("%(actor)s hat Ihren Beitrag in „%(title)s“ zitiert") % {
            "actor": actor,
            "title": title,
        }
    if kind == Kind.ACCEPTED:
        return _("Ihre Antwort in „%(title)s“ wurde als Lösung markiert") % {"title": title}
    if kind == Kind.HELPFUL:
        return ngettext(
            "%(count)s Person fand Ihren Beitrag in „%(title)s“ hilfreich",
            "%(count)s Personen fanden Ihre Beiträge in „%(title)s“ hilfreich",
            n,
        ) % {"count": n, "title": title}
    if kind == Kind.SUMMARY:
        return _("Für „%(title)s“ wurde ein Ergebnis festgehalten") % {"title": title}
    if kind == Kind.MEMBERSHIP:
        return _("Ihre Mitgliedschaft ist bestätigt: Sie können jetzt mitschreiben")
    if kind == Kind.MODERATION and notification.data.get("target") == "account":
        return _with_reason(_account_decision(notification.data), notification.reason)
    if kind == Kind.MODERATION and notification.data.get("target") == "thread":
        text = _("Ihr Thema „%(title)s“ wurde von der Moderation %(action)s.") % {
            "title": title,
            "action": notification.data.get("action", ""),
        }
        return _with_reason(text, notification.reason)
    if kind == Kind.MODERATION and notification.data.get("target") == "posts":
        text = _("Ihre Beiträge wurden von der Moderation %(action)s.") % {
            "action": notification.data.get("action", ""),
        }
        return _with_reason(text, notification.reason)
    if kind == Kind.MODERATION:
        text = _("Ihr Beitrag in „%(title)s“ wurde von der Moderation %(action)s.") % {
            "title": title,
            "action": notification.data.get("action", ""),
        }
        return _with_reason(text, notification.reason)
    if kind == Kind.REPORT:
        text = _("Ihre Meldung zu einem Beitrag in „%(title)s“ ist geprüft. %(outcome)s") % {
            "title": title,
            "outcome": notification.data.get("outcome", ""),
        }
        return _with_reason(text, notification.reason)
    if kind == Kind.APPEAL:
        text = _("Die Moderation hat Ihren Einspruch beantwortet (%(decision)s).") % {
            "decision": notification.data.get("decision", "")
        }
        return _with_reason(text, notification.reason)
    if kind == Kind.COLLECTION_UPDATE:
        if notification.data.get("event") == "published":
            return _("Die Sammlung „%(collection)s“ ist erschienen") % {
                "collection": notification.data.get("collection", "")
            }
        return _("Neu in der Sammlung „%(collection)s“: „%(title)s“") % {
            "collection": notification.data.get("collection", ""),
            "title": title,
        }
    if kind == Kind.COLLECTION:
        return _("Ihr Thema „%(title)s“ wurde in die Sammlung „%(collection)s“ aufgenommen") % {
            "title": title,
            "collection": notification.data.get("collection", ""),
        }
    return title


def _account_decision(data: dict) -> str:
    """A suspension or its lifting (forum/services/suspension.py), in the reader's language."""
    from django.utils.dateparse import parse_datetime
    from django.utils.translation import gettext as _

    from accounts.permissions import suspension_end_text

    if data.get("suspended") is False:
        return _("Die Moderation hat die Sperre Ihres Kontos aufgehoben.")
    if data.get("suspended"):
        until = parse_datetime(data["until"]) if data.get("until") else None
        if until is None:
            return _("Die Moderation hat Ihr Konto unbefristet gesperrt.")
        return _("Die Moderation hat Ihr Konto bis %(until)s gesperrt.") % {
            "until": suspension_end_text(until)
        }
    return f"{data.get('action', '')}."


def _with_reason(text: str, reason: str) -> str:
    from django.utils.translation import gettext as _

    return f"{text} {_('Begründung:')} {reason}" if reason else text


def link(notification: Notification) -> str:
    from django.urls import reverse

    if notification.kind == Kind.COLLECTION_UPDATE and notification.data.get("slug"):
        return reverse("forum:collection", kwargs={"slug": notification.data["slug"]})
    if notification.kind == Kind.APPEAL:
        return reverse("forum:notifications")
    if notification.thread_id is None:
        if notification.kind == Kind.MEMBERSHIP:
            return reverse("accounts:profile_edit")
        if notification.data.get("target") == "account":
            # The centre shows the whole statement of reasons (and the way to appeal).
            return reverse("forum:notifications")
        return "/"
    url = reverse("forum:thread_short", kwargs={"pk": notification.thread_id})
    if notification.post_id and notification.post is not None:
        return f"{url}?beitrag={notification.post.number}"
    return url


# --- Unread counts and marking read -----------------------------------------------------------


def unread_counts(user_ids: list[int]) -> dict[int, int]:
    rows = (
        Notification.objects.filter(recipient__in=user_ids, read_at__isnull=True)
        .values("recipient")
        .annotate(n=Count("id"))
    )
    return {row["recipient"]: row["n"] for row in rows}


def unread_count(user) -> int:
    """The bell's number, cached per person until a notification changes."""
    if not user.is_authenticated:
        return 0
    key = UNREAD_CACHE.format(user.pk)
    value = cache.get(key)
    if value is None:
        value = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
        cache.set(key, value, UNREAD_TIMEOUT)
    return value


def notifications_mark_read(
    actor: User, *, ids: Iterable[int] | None = None, thread: Thread | None = None
) -> int:
    """Mark the person's own notifications read: some, those of a thread, or all. Every open
    tab hears of it, so the bells agree."""
    if not actor.is_authenticated:
        return 0
    qs = Notification.objects.filter(recipient=actor, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    if thread is not None:
        qs = qs.filter(thread=thread)
    changed = qs.update(read_at=timezone.now())
    if changed:
        _forget_counts([actor.pk])

        def push() -> None:
            cache.delete(UNREAD_CACHE.format(actor.pk))
            send_event(user_group(actor.pk), "notifications.read", {"unread": unread_count(actor)})

        transaction.on_commit(push, robust=True)
    return changed


def preferences_for(user) -> dict[str, str]:
    chosen = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "channel"))
    return {kind: chosen.get(kind, DEFAULT_CHANNELS[kind]) for kind in Kind.values}


def preferences_set(actor: User, *, channels: dict[str, str]) -> None:
    with transaction.atomic():
        for kind, channel in channels.items():
            if kind not in Kind.values or channel not in Channel.values:
                continue
            NotificationPreference.objects.update_or_create(
                user=actor, kind=kind, defaults={"channel": channel}
            )


# --- Triggers (called by the forum's services inside their transactions) ---------------------


def _muted_ids(thread: Thread) -> set[int]:
    """People who muted the thread, its category or one of its tags."""
    tag_ids = list(thread.tags.values_list("pk", flat=True))
    muted = set(
        ThreadFollow.objects.filter(thread=thread, level=Level.MUTED).values_list(
            "user_id", flat=True
        )
    )
    muted |= set(
        CategoryFollow.objects.filter(
            category_id=thread.category_id, level=Level.MUTED
        ).values_list("user_id", flat=True)
    )
    if tag_ids:
        muted |= set(
            TagFollow.objects.filter(tag_id__in=tag_ids, level=Level.MUTED).values_list(
                "user_id", flat=True
            )
        )
    return muted


def _users(ids: Iterable[int]) -> list[User]:
    ids = list(ids)
    return list(User.objects.filter(pk__in=ids)) if ids else []


def on_post_created(post: Post, *, mentioned: list[User], is_first: bool) -> None:
    """A new post: quotes, mentions, then replies to watchers (each person hears once)."""
    thread = post.thread
    author = post.author
    muted = _muted_ids(thread)
    told: set[int] = set(muted)
    if author is not None:
        told.add(author.pk)
    quoted = _quoted_authors(post)
    if quoted:
        notify(
            [u for u in quoted if u.pk not in told],
            kind=Kind.QUOTE,
            thread=thread,
            post=post,
            actor=author,
        )
        told |= {u.pk for u in quoted}
    mentions = [u for u in mentioned if u.pk not in told]
    if mentions:
        notify(mentions, kind=Kind.MENTION, thread=thread, post=post, actor=author)
        told |= {u.pk for u in mentions}
    if is_first:
        _new_thread(thread, post, told)
        return
    watchers = ThreadFollow.objects.filter(thread=thread, level=Level.WATCHING).exclude(
        user_id__in=told
    )
    notify(
        _users(watchers.values_list("user_id", flat=True)),
        kind=Kind.REPLY,
        thread=thread,
        post=post,
        actor=author,
    )


def _new_thread(thread: Thread, post: Post, told: set[int]) -> None:
    tag_ids = list(thread.tags.values_list("pk", flat=True))
    watchers = set(
        CategoryFollow.objects.filter(
            category_id=thread.category_id, level=Level.WATCHING
        ).values_list("user_id", flat=True)
    )
    if tag_ids:
        watchers |= set(
            TagFollow.objects.filter(tag_id__in=tag_ids, level=Level.WATCHING).values_list(
                "user_id", flat=True
            )
        )
    notify(
        _users(watchers - told), kind=Kind.NEW_THREAD, thread=thread, post=post, actor=post.author
    )


def _quoted_authors(post: Post) -> list[User]:
    numbers = {int(m.group(2)) for m in _QUOTE_RE.finditer(post.body)}
    if not numbers:
        return []
    ids = (
        Post.objects.filter(thread_id=post.thread_id, number__in=numbers, author__isnull=False)
        .exclude(pk=post.pk)
        .values_list("author_id", flat=True)
    )
    return _users(set(ids))


def on_mentions_added(post: Post, users: list[User], actor: User) -> None:
    """An edit that mentions someone new tells them (the others heard already)."""
    if users:
        muted = _muted_ids(post.thread)
        notify(
            [u for u in users if u.pk not in muted],
            kind=Kind.MENTION,
            thread=post.thread,
            post=post,
            actor=actor,
        )


def on_summary_added(thread: Thread, *, actor: User) -> None:
    """Everyone following the thread (watching or normal) hears that it has a result."""
    followers = ThreadFollow.objects.filter(
        thread=thread, level__in=[Level.WATCHING, Level.NORMAL]
    ).values_list("user_id", flat=True)
    ids = set(followers) | ({thread.author_id} if thread.author_id else set())
    notify(_users(ids - _muted_ids(thread)), kind=Kind.SUMMARY, thread=thread, actor=actor)


def on_moderated(
    post: Post, *, actor: User, action: str, reason: str = "", audit: int | None = None
) -> None:
    """A moderator changed someone's content: they hear what and why (and may appeal the
    decision recorded as audit entry ``audit``)."""
    if post.author is not None:
        data = {"action": str(action)}
        if audit:
            data["audit"] = audit
        notify(
            [post.author],
            kind=Kind.MODERATION,
            thread=post.thread,
            post=post,
            actor=actor,
            reason=reason,
            data=data,
        )


def on_thread_moderated(
    thread: Thread, *, actor: User, action: str, reason: str, audit: int | None = None
) -> None:
    """A moderator locked, pinned or moved someone's thread: its author hears what and why."""
    if thread.author is not None:
        data = {"action": action, "target": "thread"}
        if audit:
            data["audit"] = audit
        notify(
            [thread.author],
            kind=Kind.MODERATION,
            thread=thread,
            actor=actor,
            reason=reason,
            data=data,
        )


def on_membership_approved(user: User, *, actor: User) -> None:
    notify([user], kind=Kind.MEMBERSHIP, actor=actor)


def on_collected(thread: Thread, *, collection_title: str, actor: User) -> None:
    """The collections (issue 6) call this when a thread joins a published collection."""
    if thread.author is not None:
        notify(
            [thread.author],
            kind=Kind.COLLECTION,
            thread=thread,
            actor=actor,
            data={"collection": collection_title},
        )
