"""Notifications: the one writer, the triggers that call it, and marking read.

Rows are written inside the caller's transaction; the live push and instant e-mails follow
after commit. Nobody hears of their own action or of content they may not read, and a muted
thread, tag or category stays silent. Replies and "helpful" gather into one unread row per
thread ("5 neue Antworten in …").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from accounts.models import User
from forum.emails import enqueue_on_commit
from forum.events import send_event, user_group
from forum.models import (
    DEFAULT_CHANNELS,
    Category,
    CategoryFollow,
    Channel,
    EmailWindow,
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
    # Instant e-mails: one task per event; it decides, under the window's lock, whether the
    # event goes out at once or waits for the thread's window to end (instant_mail_event).
    mailed = [
        by_recipient[user.pk].pk
        for user in users
        if channels[user.pk] == Channel.EMAIL and user.email and user.pk in by_recipient
    ]
    if mailed:
        from forum.tasks import notification_mail

        def enqueue() -> None:
            for pk in mailed:
                notification_mail.enqueue(pk)

        transaction.on_commit(enqueue, robust=True)


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
    if kind == Kind.ANSWER:
        if n == 1:
            return _("%(actor)s hat Ihre Frage „%(title)s“ beantwortet") % {
                "actor": actor,
                "title": title,
            }
        return ngettext(
            "%(count)s neue Antwort auf Ihre Frage „%(title)s“",
            "%(count)s neue Antworten auf Ihre Frage „%(title)s“",
            n,
        ) % {"count": n, "title": title}
    if kind == Kind.NEW_THREAD:
        return _("Neues Thema von %(actor)s: „%(title)s“") % {"actor": actor, "title": title}
    if kind == Kind.MENTION and notification.data.get("stand_in"):
        return _stand_in_mention(notification.data, actor=actor, title=title)
    if kind == Kind.MENTION:
        return _("%(actor)s hat Sie in „%(title)s“ erwähnt") % {"actor": actor, "title": title}
    if kind == Kind.TURNOVER:
        return _turnover(notification.data)
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


def _date_text(value: str | None) -> str:
    """„31.12.2026“ from an ISO date kept in a notification's data."""
    from django.utils import formats
    from django.utils.dateparse import parse_date

    day = parse_date(value) if value else None
    return formats.date_format(day, "SHORT_DATE_FORMAT") if day else ""


def _stand_in_mention(data: dict, *, actor: str, title: str) -> str:
    """A mention that reached someone on behalf of an absent or departed colleague."""
    from django.utils.translation import gettext as _

    values = {"actor": actor, "title": title, "name": data.get("name", "")}
    if data.get("stand_in") == "successor":
        return (
            _(
                "%(actor)s hat %(name)s in „%(title)s“ erwähnt – %(name)s ist nicht mehr aktiv, "
                "Sie sind die Nachfolge"
            )
            % values
        )
    return _(
        "%(actor)s hat %(name)s in „%(title)s“ erwähnt – Sie vertreten %(name)s bis %(until)s"
    ) % {
        **values,
        "until": _date_text(data.get("until")),
    }


def _turnover(data: dict) -> str:
    """A successor's or deputy's notice (accounts/turnover.py)."""
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    name = data.get("name", "")
    event = data.get("event")
    if event == "successor":
        questions = data.get("questions") or []
        parts = [
            ngettext(
                "%(count)s offene Frage",
                "%(count)s offene Fragen",
                len(questions),
            )
            % {"count": len(questions)},
            ngettext(
                "%(count)s gefolgtes Thema, Schlagwort oder Themenfeld",
                "%(count)s gefolgte Themen, Schlagwörter und Themenfelder",
                data.get("follows", 0),
            )
            % {"count": data.get("follows", 0)},
        ]
        text = _(
            "%(name)s ist nicht mehr aktiv. Sie übernehmen als Nachfolge %(questions)s und "
            "%(follows)s."
        ) % {"name": name, "questions": parts[0], "follows": parts[1]}
        if questions:
            titles = ", ".join(f"„{title}“" for _pk, title in questions[:5])
            more = len(questions) - 5
            if more > 0:
                titles += " " + _("und %(count)s weitere") % {"count": more}
            text = _("%(text)s Fragen: %(titles)s") % {"text": text, "titles": titles}
        return text
    if event == "deputy_cleared":
        return _("Sie sind nicht mehr als Vertretung von %(name)s eingetragen.") % {"name": name}
    return _(
        "Sie vertreten %(name)s bis %(until)s: Erwähnungen von %(name)s erreichen bis dahin "
        "auch Sie."
    ) % {"name": name, "until": _date_text(data.get("until"))}


def _with_reason(text: str, reason: str) -> str:
    from django.utils.translation import gettext as _

    return f"{text} {_('Begründung:')} {reason}" if reason else text


def link(notification: Notification) -> str:
    from django.urls import reverse

    if notification.kind == Kind.COLLECTION_UPDATE and notification.data.get("slug"):
        return reverse("forum:collection", kwargs={"slug": notification.data["slug"]})
    if notification.kind == Kind.APPEAL:
        return reverse("forum:notifications")
    if notification.kind == Kind.TURNOVER:
        # A successor finds the list of questions in the centre; a deputy, the colleague.
        if notification.data.get("event") == "successor" or not notification.data.get("handle"):
            return reverse("forum:notifications")
        return reverse("accounts:profile", kwargs={"handle": notification.data["handle"]})
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


# --- Instant e-mails -------------------------------------------------------------------------
#
# Kinds set to "e-mail at once" are mailed per person and thread in windows: the first event
# goes out at once and opens a window (EmailWindow); whatever happens in that thread until the
# window ends is gathered into one mail sent then (forum/tasks.py runs both steps). A row's
# ``data["mailed"]`` holds how many of its events (``count``) were mailed already, so a task that
# runs twice, or a window that closes while another opens, never mails an event twice.

# Decisions about one's own content or account are transactional: their mails carry no
# unsubscribe header (a mail gathering them with other kinds offers to stop the other kind).
TRANSACTIONAL = frozenset({Kind.MODERATION, Kind.APPEAL})
# Older unmailed events are stale (a worker was down for a day, or the kind was switched to
# e-mail later): they stay in the notification centre and are not mailed.
MAIL_MAX_AGE = timedelta(days=1)


@dataclass(frozen=True)
class MailEvent:
    kind: str
    text: str
    url: str  # absolute, to the exact post where there is one


def mail_window() -> timedelta:
    return timedelta(minutes=settings.FORUM_INSTANT_MAIL_WINDOW_MINUTES)


def instant_mail_event(notification_id: int) -> str:
    """One event (a notification written or gathered into) for someone who wants e-mail at
    once. Without an open window for its thread, mail this event now and open one; with one,
    leave it to the window's end. Idempotent; returns what it did."""
    from forum.tasks import notification_window_close

    now = timezone.now()
    notification = (
        Notification.objects.filter(pk=notification_id).select_related("recipient").first()
    )
    if notification is None:
        return "gone"
    recipient = notification.recipient
    with transaction.atomic():
        if notification.thread_id is None or notification.kind in TRANSACTIONAL:
            # A decision about the person (statement of reasons, answer to an appeal) goes out
            # at once, never held back in a thread's window.
            return _mail_pending(recipient, now=now, only=notification.pk)
        window = (
            EmailWindow.objects.select_for_update()
            .filter(recipient=recipient, thread_id=notification.thread_id, sent_at__isnull=True)
            .first()
        )
        if window is not None and window.due_at > now:
            return "gathered"
        overdue = window is not None
        if overdue:
            # Its end has passed but its task has not run yet (or was lost): what it gathered
            # goes out now, with this event, in the mail that opens the next window.
            window.sent_at = now
            window.save(update_fields=["sent_at"])
        try:
            with transaction.atomic():
                window = EmailWindow.objects.create(
                    recipient=recipient,
                    thread_id=notification.thread_id,
                    opened_at=now,
                    due_at=now + mail_window(),
                )
        except IntegrityError:
            return "gathered"  # another worker opened the window a moment ago
        if overdue:
            outcome = _mail_pending(recipient, now=now, thread_id=notification.thread_id)
        else:
            outcome = _mail_pending(recipient, now=now, only=notification.pk, first=True)
            if outcome == "nothing":
                # Nothing went out (on leave, or the kind is no longer mailed): no window
                # holds back the next mail about this thread.
                window.delete()
                return outcome
        window_id, due_at = window.pk, window.due_at
        transaction.on_commit(
            lambda: notification_window_close.using(run_after=due_at).enqueue(window_id),
            robust=True,
        )
    return outcome


def instant_mail_window_close(window_id: int) -> str:
    """The window's end: mail what gathered in it as one message. Runs once per window, however
    many workers try (the row is locked and marked sent in the same transaction)."""
    from forum.tasks import notification_window_close

    now = timezone.now()
    with transaction.atomic():
        window = (
            EmailWindow.objects.select_for_update(of=("self",))
            .filter(pk=window_id)
            .select_related("recipient")
            .first()
        )
        if window is None or window.sent_at is not None:
            return "done"
        if window.due_at > now:  # started early: wait for the end
            due_at = window.due_at
            transaction.on_commit(
                lambda: notification_window_close.using(run_after=due_at).enqueue(window_id),
                robust=True,
            )
            return "early"
        window.sent_at = now
        window.save(update_fields=["sent_at"])
        return _mail_pending(window.recipient, now=now, thread_id=window.thread_id)


def _on_leave(user: User) -> bool:
    from forum.models import DigestSubscription

    return DigestSubscription.objects.filter(
        user=user, paused_until__gte=timezone.localdate()
    ).exists()


def _mail_pending(
    recipient: User,
    *,
    now,
    thread_id: int | None = None,
    only: int | None = None,
    first: bool = False,
) -> str:
    """Mail the recipient's unmailed events of one thread, or those of the notification
    ``only`` (with ``first``: just its earliest unmailed one), as one message after commit, and
    mark them mailed. Inside a transaction."""
    rows = Notification.objects.select_for_update(of=("self",)).filter(
        recipient=recipient, read_at__isnull=True, updated_at__gte=now - MAIL_MAX_AGE
    )
    rows = rows.filter(pk=only) if only is not None else rows.filter(thread_id=thread_id)
    rows = [
        row
        for row in rows.select_related("thread__category", "post", "actor").order_by(
            "updated_at", "pk"
        )
        if row.count > row.data.get("mailed", 0)
    ]
    if not rows:
        return "nothing"
    for row in rows:
        mailed = row.data.get("mailed", 0) + 1 if first else row.count
        Notification.objects.filter(pk=row.pk).update(data={**row.data, "mailed": mailed})
    if not recipient.is_active or not recipient.email:
        return "nothing"
    wanted = {
        kind for kind, channel in preferences_for(recipient).items() if channel == Channel.EMAIL
    }
    if _on_leave(recipient):
        # "Pause while on leave" stops all optional mail; decisions about the person still go.
        wanted &= TRANSACTIONAL
    thread = rows[0].thread
    readable = thread is None or bool(_readers([recipient], thread))
    events = _mail_events(
        [row for row in rows if row.kind in wanted and (readable or row.kind in TRANSACTIONAL)],
        recipient,
        first=first,
    )
    if not events:
        return "nothing"
    enqueue_on_commit(_compose_mail(recipient, thread, events))
    return "sent"


def _mail_events(
    rows: list[Notification], recipient: User, *, first: bool = False
) -> list[MailEvent]:
    """One line per event, each linking to its post, in the thread's order: a gathered row of
    replies or answers becomes one line per new post (those another row names, such as a
    mention, excepted), or with ``first`` only the earliest of them. A post hidden or deleted
    meanwhile is left out."""
    from django.utils import translation

    from forum.mailtokens import absolute

    def shown(row: Notification) -> bool:
        post = row.post
        if row.kind in TRANSACTIONAL or post is None:
            return True
        return not (post.is_hidden or post.is_deleted or post.is_held)

    rows = [row for row in rows if shown(row)]
    gathered = [r for r in rows if r.kind in (Kind.REPLY, Kind.ANSWER) and r.count > 1 and r.post]
    single = [r for r in rows if r not in gathered]
    named = {r.post_id for r in single if r.post_id}
    for row in gathered:
        new = max(row.count - row.data.get("mailed", 0), 1)
        posts = (
            Post.objects.filter(
                thread_id=row.thread_id,
                number__lte=row.post.number,
                is_hidden=False,
                is_held=False,
                is_deleted=False,
            )
            .exclude(author_id=recipient.pk)
            .exclude(pk__in=named)
            .select_related("author")
            .order_by("-number")[:new]
        )
        posts = list(posts)[-1:] if first else list(posts)
        single += [
            Notification(kind=row.kind, thread=row.thread, post=post, actor=post.author, count=1)
            for post in posts
        ]
    single.sort(key=lambda n: n.post.number if n.post_id else 0)
    events: list[MailEvent] = []
    with translation.override("de"):
        for notification in single:
            events.append(
                MailEvent(notification.kind, describe(notification), absolute(link(notification)))
            )
    return events


def _compose_mail(recipient: User, thread: Thread | None, events: list[MailEvent]):
    from collections import Counter

    from django.urls import reverse

    from forum import mailtokens
    from forum.emails import compose

    # One mail may gather several kinds; its unsubscribe link stops the most frequent one (the
    # first on a tie). Transactional kinds cannot be unsubscribed from.
    optional = Counter(e.kind for e in events if e.kind not in TRANSACTIONAL).most_common(1)
    unsubscribe_kind = optional[0][0] if optional else None
    unsubscribe_url = (
        mailtokens.notify_unsubscribe_url(recipient, unsubscribe_kind) if unsubscribe_kind else ""
    )
    context = {
        "user": recipient,
        "thread": thread,
        "events": events,
        "unsubscribe_url": unsubscribe_url,
        "unsubscribe_label": Kind(unsubscribe_kind).label if unsubscribe_kind else "",
        "settings_url": mailtokens.absolute(reverse("forum:notification_preferences")),
    }
    headers = mailtokens.unsubscribe_headers(unsubscribe_url) if unsubscribe_url else {}
    return compose("notification", [recipient.email], context, headers=headers)


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
    told |= _notify_stand_ins(post, [u for u in mentions if u.pk not in muted], told, author)
    if is_first:
        _new_thread(thread, post, told)
        return
    # The person who asked hears of every answer as such ("Antworten auf Ihre Fragen", by
    # e-mail unless they choose otherwise), whether or not they still watch the thread. A
    # question taken over from a departed author belongs to the successor.
    owner_id = thread.taken_over_by_id or thread.author_id
    if thread.kind == Thread.Kind.QUESTION and owner_id is not None and owner_id not in told:
        notify(_users([owner_id]), kind=Kind.ANSWER, thread=thread, post=post, actor=author)
        told.add(owner_id)
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
        mentions = [u for u in users if u.pk not in muted]
        notify(mentions, kind=Kind.MENTION, thread=post.thread, post=post, actor=actor)
        told = muted | {u.pk for u in mentions} | {actor.pk}
        _notify_stand_ins(post, mentions, told, actor)


def _notify_stand_ins(post: Post, mentioned: list[User], told: set[int], actor) -> set[int]:
    """A mention also reaches whoever stands in for the person mentioned: the deputy of a
    member who is away (until ``deputy_until``, inclusive) and the successor of one who left.
    ``notify`` keeps to what each of them may read, so a members-only or hidden post never
    reaches a deputy who may not read it. ``told`` (the author, those who muted the thread,
    those told already) hear nothing more. Returns the ids told."""
    today = timezone.localdate()
    wanted: dict[int, dict] = {}
    for person in mentioned:
        if person.is_active and person.deputy_id and person.deputy_until:
            if person.deputy_until >= today:
                data = {"stand_in": "deputy", "until": person.deputy_until.isoformat()}
                wanted.setdefault(person.deputy_id, {**data, **_who(person)})
        elif not person.is_active and person.departed_at and person.successor_id:
            wanted.setdefault(person.successor_id, {"stand_in": "successor", **_who(person)})
    for pk in told:
        wanted.pop(pk, None)
    if not wanted:
        return set()
    reached: set[int] = set()
    for stand_in in User.objects.filter(pk__in=list(wanted), is_active=True):
        notify(
            [stand_in],
            kind=Kind.MENTION,
            thread=post.thread,
            post=post,
            actor=actor,
            data=wanted[stand_in.pk],
        )
        reached.add(stand_in.pk)
    return reached


def _who(person: User) -> dict:
    return {"name": person.display_name, "handle": person.handle}


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
