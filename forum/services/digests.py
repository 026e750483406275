"""E-mail digests: subscribing (members, and bare addresses by double opt-in), the schedule,
claiming due windows, and building and sending each digest.

Sending is idempotent. ``digests_claim`` turns every due window into one DigestDelivery row
(unique per subscription and window end) and moves the subscription's window on in the same
transaction, so a second or concurrent run finds nothing left to claim. ``digests_send`` then
sends each pending delivery inside its own transaction with the row locked (SKIP LOCKED on
PostgreSQL): a crash before the commit leaves it pending for the rerun, and two workers never
send the same one. The content of a batch is read once for the union of its windows and cut
per subscriber in memory, so the number of queries to build digests does not grow with the
number of subscribers.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from forum import mailtokens
from forum.emails import send_email_on_commit
from forum.models import (
    PUBLIC_SECTIONS,
    Category,
    CategoryFollow,
    Collection,
    DigestDelivery,
    DigestSubscription,
    Level,
    Post,
    Section,
    TagFollow,
    Thread,
    ThreadFollow,
)
from forum.search.documents import plain_text

log = logging.getLogger(__name__)

BERLIN = ZoneInfo("Europe/Berlin")
EXCERPT = 220
# Unanswered questions worth offering help on: asked within this many days.
HELP_DAYS = 30
EVENTS_AHEAD = timedelta(days=21)
MAX_PER_SECTION = 15
SEND_BATCH = 200
MAX_ATTEMPTS = 5


# --- Subscribing ------------------------------------------------------------------------------


def _clean_choice(
    *, frequency: str, weekday: int, hour: int, sections: Iterable[str], public: bool
) -> list[str]:
    if frequency not in DigestSubscription.Frequency.values:
        raise ValidationError({"frequency": _("Bitte wählen Sie täglich oder wöchentlich.")})
    if not 0 <= int(weekday) <= 6:
        raise ValidationError({"weekday": _("Bitte wählen Sie einen Wochentag.")})
    if not 0 <= int(hour) <= 23:
        raise ValidationError({"hour": _("Bitte wählen Sie eine Uhrzeit zwischen 0 und 23 Uhr.")})
    allowed = PUBLIC_SECTIONS if public else Section.values
    chosen = [s for s in Section.values if s in set(sections) and s in allowed]
    if not chosen:
        raise ValidationError({"sections": _("Bitte wählen Sie mindestens eine Rubrik.")})
    return chosen


def subscription_save(
    actor: User,
    *,
    frequency: str,
    weekday: int = 0,
    hour: int = 7,
    sections: Iterable[str],
    topics: str = DigestSubscription.Topics.FOLLOWED,
    paused_until: date | None = None,
) -> DigestSubscription:
    """A member subscribes to the digest or changes it (opt-in: nothing is pre-chosen)."""
    if not actor.is_authenticated:
        raise PermissionDenied(_("Bitte melden Sie sich an."))
    chosen = _clean_choice(
        frequency=frequency, weekday=weekday, hour=hour, sections=sections, public=False
    )
    if topics not in DigestSubscription.Topics.values:
        raise ValidationError({"topics": _("Bitte wählen Sie, welche Themen Sie bekommen.")})
    _check_pause(paused_until)
    with transaction.atomic():
        subscription = DigestSubscription.objects.select_for_update().filter(
            user=actor
        ).first() or DigestSubscription(user=actor, confirmed_at=timezone.now())
        return _apply(
            subscription,
            frequency=frequency,
            weekday=int(weekday),
            hour=int(hour),
            sections=chosen,
            topics=topics,
            paused_until=paused_until,
        )


def subscription_update(
    subscription: DigestSubscription,
    *,
    frequency: str,
    weekday: int,
    hour: int,
    sections: Iterable[str],
    topics: str,
    paused_until: date | None,
) -> DigestSubscription:
    """The same change through a signed manage link (no login); the caller checked the link."""
    chosen = _clean_choice(
        frequency=frequency,
        weekday=weekday,
        hour=hour,
        sections=sections,
        public=subscription.is_public,
    )
    if subscription.is_public:
        topics = DigestSubscription.Topics.ALL
    _check_pause(paused_until)
    with transaction.atomic():
        subscription = DigestSubscription.objects.select_for_update().get(pk=subscription.pk)
        return _apply(
            subscription,
            frequency=frequency,
            weekday=int(weekday),
            hour=int(hour),
            sections=chosen,
            topics=topics,
            paused_until=paused_until,
        )


def _check_pause(paused_until: date | None) -> None:
    if paused_until is not None and paused_until < timezone.localdate():
        raise ValidationError({"paused_until": _("Das Datum liegt in der Vergangenheit.")})


def _apply(subscription: DigestSubscription, **values) -> DigestSubscription:
    changed_schedule = any(
        getattr(subscription, name) != values[name] for name in ("frequency", "weekday", "hour")
    )
    for name, value in values.items():
        setattr(subscription, name, value)
    now = timezone.now()
    if subscription.pk is None:
        subscription.window_start = now
    if subscription.pk is None or changed_schedule or subscription.next_due_at is None:
        subscription.next_due_at = next_slot(subscription, now)
    subscription.save()
    return subscription


def subscription_end(subscription: DigestSubscription) -> None:
    """Unsubscribe completely: the row goes (nothing about the address is kept)."""
    DigestSubscription.objects.filter(pk=subscription.pk).delete()


def public_subscribe(email: str, *, sections: Iterable[str] | None = None) -> DigestSubscription:
    """Anyone asks for the public digest; it starts only after the address is confirmed.
    Asking again re-sends the confirmation (and says nothing about whether it existed)."""
    from django.core.validators import validate_email

    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError(
            {"email": _("Bitte geben Sie eine gültige E-Mail-Adresse an.")}
        ) from exc
    chosen = _clean_choice(
        frequency=DigestSubscription.Frequency.WEEKLY,
        weekday=0,
        hour=7,
        sections=sections if sections is not None else PUBLIC_SECTIONS,
        public=True,
    )
    with transaction.atomic():
        subscription = (
            DigestSubscription.objects.select_for_update()
            .filter(user__isnull=True, email__iexact=email)
            .first()
        )
        if subscription is None:
            try:
                with transaction.atomic():
                    subscription = DigestSubscription.objects.create(
                        email=email,
                        frequency=DigestSubscription.Frequency.WEEKLY,
                        sections=chosen,
                        topics=DigestSubscription.Topics.ALL,
                    )
            except IntegrityError:
                subscription = DigestSubscription.objects.get(
                    user__isnull=True, email__iexact=email
                )
        # A confirmation is transactional: no unsubscribe header. Sent by the task queue.
        send_email_on_commit(
            "digest_confirm",
            [subscription.address],
            {
                "confirm_url": mailtokens.confirm_url(subscription),
                "confirmed": subscription.confirmed_at is not None,
                "manage_url": mailtokens.digest_manage_url(subscription),
            },
        )
    return subscription


def public_confirm(subscription: DigestSubscription) -> DigestSubscription:
    with transaction.atomic():
        subscription = DigestSubscription.objects.select_for_update().get(pk=subscription.pk)
        if subscription.confirmed_at is None:
            now = timezone.now()
            subscription.confirmed_at = now
            subscription.window_start = now
            subscription.next_due_at = next_slot(subscription, now)
            subscription.save(update_fields=["confirmed_at", "window_start", "next_due_at"])
    return subscription


def section_remove(subscription: DigestSubscription, section: str) -> DigestSubscription | None:
    """One-click unsubscribe of one section; the last section ends the subscription."""
    if section == "*":
        subscription_end(subscription)
        return None
    with transaction.atomic():
        subscription = DigestSubscription.objects.select_for_update().get(pk=subscription.pk)
        remaining = [s for s in subscription.sections if s != section]
        if not remaining:
            subscription.delete()
            return None
        subscription.sections = remaining
        subscription.save(update_fields=["sections", "updated_at"])
    return subscription


# --- The schedule -----------------------------------------------------------------------------


def _slot_on(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)


def next_slot(subscription: DigestSubscription, after: datetime) -> datetime:
    """The first sending time strictly after ``after`` (Berlin time, across DST changes)."""
    local = after.astimezone(BERLIN)
    day = local.date()
    for offset in range(0, 9):
        candidate_day = day + timedelta(days=offset)
        if (
            subscription.frequency == DigestSubscription.Frequency.WEEKLY
            and candidate_day.weekday() != subscription.weekday
        ):
            continue
        slot = _slot_on(candidate_day, subscription.hour)
        if slot > after:
            return slot
    raise AssertionError("no slot within nine days")  # pragma: no cover


def last_slot(subscription: DigestSubscription, now: datetime) -> datetime:
    """The latest sending time at or before ``now``: missed slots fold into one late digest."""
    local = now.astimezone(BERLIN)
    for offset in range(0, 9):
        candidate_day = local.date() - timedelta(days=offset)
        if (
            subscription.frequency == DigestSubscription.Frequency.WEEKLY
            and candidate_day.weekday() != subscription.weekday
        ):
            continue
        slot = _slot_on(candidate_day, subscription.hour)
        if slot <= now:
            return slot
    raise AssertionError("no slot within nine days")  # pragma: no cover


# --- Claiming due windows ---------------------------------------------------------------------


@dataclass
class ClaimResult:
    claimed: int = 0
    skipped: int = 0


def digests_claim(*, now: datetime | None = None, chunk: int = 500) -> ClaimResult:
    """Turn every due window into a pending delivery and move the schedule on. Safe to run
    twice or concurrently: locked rows are skipped, and each window is claimed once."""
    now = now or timezone.now()
    today = now.astimezone(BERLIN).date()
    result = ClaimResult()
    while True:
        with transaction.atomic():
            due = list(
                DigestSubscription.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(confirmed_at__isnull=False, next_due_at__lte=now)
                .select_related("user")
                .order_by("next_due_at", "pk")[:chunk]
            )
            if not due:
                return result
            deliveries = []
            for subscription in due:
                end = last_slot(subscription, now)
                if end <= subscription.window_start:  # the schedule moved: nothing to cover
                    subscription.next_due_at = next_slot(subscription, subscription.window_start)
                    continue
                status = DigestDelivery.Status.PENDING
                user = subscription.user
                if (subscription.paused_until and subscription.paused_until >= today) or (
                    user is not None and (not user.is_active or user.is_suspended)
                ):
                    # On leave or suspended: nothing is sent, and the time away is not
                    # delivered in one heap afterwards.
                    status = DigestDelivery.Status.SKIPPED
                deliveries.append(
                    DigestDelivery(
                        subscription=subscription,
                        window_start=subscription.window_start,
                        window_end=end,
                        status=status,
                    )
                )
                subscription.window_start = end
                subscription.next_due_at = next_slot(subscription, end)
            DigestDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            # Few distinct schedules per chunk: one UPDATE per (window end, next slot).
            groups: dict[tuple, list[int]] = defaultdict(list)
            for subscription in due:
                groups[(subscription.window_start, subscription.next_due_at)].append(
                    subscription.pk
                )
            for (window_start, next_due_at), ids in groups.items():
                DigestSubscription.objects.filter(pk__in=ids).update(
                    window_start=window_start, next_due_at=next_due_at
                )
            for delivery in deliveries:
                if delivery.status == DigestDelivery.Status.SKIPPED:
                    result.skipped += 1
                else:
                    result.claimed += 1


def pending_delivery_ids() -> list[int]:
    return list(
        DigestDelivery.objects.filter(status=DigestDelivery.Status.PENDING)
        .order_by("window_end", "pk")
        .values_list("pk", flat=True)
    )


# --- Content ----------------------------------------------------------------------------------


@dataclass
class Item:
    thread: Thread
    excerpt: str
    url: str
    note: str = ""


@dataclass
class Block:
    section: str
    title: str
    items: list[Item]
    unsubscribe_url: str = ""

    @property
    def section_label(self) -> str:
        return str(Section(self.section).label)


@dataclass
class Digest:
    subscription: DigestSubscription
    blocks: list[Block]
    window_start: datetime
    window_end: datetime

    @property
    def count(self) -> int:
        return sum(len(block.items) for block in self.blocks)


@dataclass
class _Reader:
    """What one subscriber may read and cares about, loaded in bulk for the whole batch."""

    levels: frozenset[str]
    topics_all: bool
    tag_ids: set[int] = field(default_factory=set)
    category_ids: set[int] = field(default_factory=set)
    muted_tags: set[int] = field(default_factory=set)
    muted_categories: set[int] = field(default_factory=set)
    muted_threads: set[int] = field(default_factory=set)
    followed_threads: set[int] = field(default_factory=set)
    help_tags: set[int] = field(default_factory=set)


class Content:
    """Everything a batch of digests can contain, read once for the union of its windows."""

    def __init__(self, start: datetime, end: datetime, now: datetime) -> None:
        self.start, self.end, self.now = start, end, now
        visible = Thread.objects.filter(
            is_hidden=False, is_held=False, merged_into__isnull=True
        ).select_related("category", "organisation", "author")
        window = Q(created_at__gte=start, created_at__lt=end)
        solved = Q(kind=Thread.Kind.QUESTION, solved_at__gte=start, solved_at__lt=end)
        active = Q(last_activity_at__gte=start, last_activity_at__lt=end)
        help_open = Q(
            kind=Thread.Kind.QUESTION,
            accepted_post__isnull=True,
            post_count__lte=1,
            created_at__gte=end - timedelta(days=HELP_DAYS),
            created_at__lt=end,
        )
        events = Q(
            kind=Thread.Kind.ANNOUNCEMENT,
            event_start__gte=now,
            event_start__lt=now + EVENTS_AHEAD,
        )
        threads = list(visible.filter(window | solved | active | help_open | events))
        for thread in threads:  # once per thread, not per mail (Django rebuilds the choices)
            thread.kind_label = thread.get_kind_display()
        self.threads = {t.pk: t for t in threads}
        self.ordered = sorted(threads, key=lambda t: t.last_activity_at, reverse=True)
        self.tags = _tags_of(Thread, list(self.threads))
        # Replies written in the window, per thread (for "Antworten in Themen, denen Sie folgen").
        rows = (
            Post.objects.filter(
                thread_id__in=[t.pk for t in threads if start <= t.last_activity_at < end],
                number__gt=1,
                created_at__gte=start,
                created_at__lt=end,
                is_deleted=False,
                is_hidden=False,
                is_held=False,
            )
            .values("thread_id")
            .annotate(n=Count("id"), first=Min("number"))
            .values_list("thread_id", "n", "first")
        )
        self.new_replies = {pk: n for pk, n, _first in rows}
        self.first_new = {pk: first for pk, _n, first in rows}
        first_posts = Post.objects.filter(
            thread_id__in=list(self.threads), number=1, is_hidden=False, is_deleted=False
        ).values_list("thread_id", "body_html")
        self.excerpts = {pk: _excerpt(html) for pk, html in first_posts}
        self.collections = list(
            Collection.objects.filter(status=Collection.Status.PUBLISHED).filter(
                Q(published_at__gte=start, published_at__lt=end)
                | Q(updated_at__gte=start, updated_at__lt=end)
            )
        )

    def for_subscriber(
        self, subscription: DigestSubscription, reader: _Reader, start: datetime, end: datetime
    ) -> Digest:
        seen: set[int] = set()
        blocks: list[Block] = []
        chosen = set(subscription.sections)

        def readable(thread: Thread) -> bool:
            if thread.category.visibility not in reader.levels:
                return False
            if thread.pk in reader.muted_threads or thread.category_id in reader.muted_categories:
                return False
            return not (self.tags.get(thread.pk, set()) & reader.muted_tags)

        def in_topics(thread: Thread) -> bool:
            if reader.topics_all:
                return True
            return (
                thread.category_id in reader.category_ids
                or bool(self.tags.get(thread.pk, set()) & reader.tag_ids)
                or thread.pk in reader.followed_threads
            )

        def add(section: str, title: str, threads: list[Thread], note=None, anchor=None) -> None:
            if section not in chosen:
                return
            items = []
            for thread in threads:
                if thread.pk in seen or not readable(thread):
                    continue
                seen.add(thread.pk)
                items.append(
                    Item(
                        thread=thread,
                        excerpt=self.excerpts.get(thread.pk, ""),
                        url=mailtokens.absolute(
                            f"/t/{thread.pk}/?beitrag={anchor(thread)}"
                            if anchor
                            else f"/t/{thread.pk}/"
                        ),
                        note=note(thread) if note else "",
                    )
                )
                if len(items) >= MAX_PER_SECTION:
                    break
            if items:
                blocks.append(Block(section, title, items))

        ordered = self.ordered
        in_window = [t for t in ordered if start <= t.created_at < end]
        # Replies in followed threads first: they are addressed to this person.
        add(
            Section.FOLLOWED,
            str(Section.FOLLOWED.label),
            [
                t
                for t in ordered
                if t.pk in reader.followed_threads
                and self.new_replies.get(t.pk)
                and start <= t.last_activity_at < end
            ],
            note=lambda t: (
                ngettext(
                    "%(count)s neue Antwort", "%(count)s neue Antworten", self.new_replies[t.pk]
                )
                % {"count": self.new_replies[t.pk]}
            ),
        )
        add(
            Section.QUESTIONS,
            _("Neue Fragen"),
            [t for t in in_window if t.kind == Thread.Kind.QUESTION and in_topics(t)],
        )
        add(
            Section.QUESTIONS,
            _("Neu gelöste Fragen"),
            [
                t
                for t in ordered
                if t.kind == Thread.Kind.QUESTION
                and t.solved_at
                and start <= t.solved_at < end
                and in_topics(t)
            ],
        )
        add(
            Section.EXPERIENCES,
            str(Section.EXPERIENCES.label),
            [t for t in in_window if t.kind == Thread.Kind.EXPERIENCE and in_topics(t)],
        )
        add(
            Section.HELP,
            str(Section.HELP.label),
            [
                t
                for t in ordered
                if t.kind == Thread.Kind.QUESTION
                and t.accepted_post_id is None
                and t.post_count <= 1
                and t.created_at >= end - timedelta(days=HELP_DAYS)
                and t.created_at < end
                and self.tags.get(t.pk, set()) & reader.help_tags
                and t.author_id != subscription.user_id
            ],
        )
        add(
            Section.EVENTS,
            str(Section.EVENTS.label),
            sorted(
                (
                    t
                    for t in self.threads.values()
                    if t.kind == Thread.Kind.ANNOUNCEMENT and t.event_start
                ),
                key=lambda t: t.event_start,
            ),
            note=lambda t: timezone.localtime(t.event_start).strftime("%d.%m.%Y, %H:%M Uhr"),
        )
        # Merge the two question blocks' section for unsubscribe links (one section).
        if Section.COLLECTIONS in chosen:
            collections = [
                c
                for c in self.collections
                if c.visibility == Collection.Visibility.PUBLIC
                or Category.Visibility.MEMBERS in reader.levels
            ]
            if collections:
                blocks.append(
                    Block(
                        Section.COLLECTIONS,
                        str(Section.COLLECTIONS.label),
                        [
                            Item(
                                thread=None,  # type: ignore[arg-type]
                                excerpt=_excerpt(c.intro_html),
                                url=mailtokens.absolute(c.get_absolute_url()),
                                note=c.title,
                            )
                            for c in collections[:MAX_PER_SECTION]
                        ],
                    )
                )
        return Digest(subscription, blocks, start, end)


def _tags_of(model, ids: list[int]) -> dict[int, set[int]]:
    """Tag ids per object, in one query (taggit's generic through table holds every model)."""
    from django.contrib.contenttypes.models import ContentType
    from taggit.models import TaggedItem

    tags: dict[int, set[int]] = defaultdict(set)
    if not ids:
        return tags
    rows = TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(model), object_id__in=ids
    ).values_list("object_id", "tag_id")
    for object_id, tag_id in rows:
        tags[object_id].add(tag_id)
    return tags


def _excerpt(html: str) -> str:
    text = " ".join(plain_text(html or "").split())
    text = re.sub(r"\s+([)\].,;:!?])", r"\1", text)  # "(Stichwort: Mietzuschuss )"
    return text if len(text) <= EXCERPT else text[: EXCERPT - 1].rsplit(" ", 1)[0] + " …"


def _readers(subscriptions: list[DigestSubscription]) -> dict[int, _Reader]:
    """Per subscriber: visibility, followed and muted topics, and the tags they can help with,
    in a fixed number of queries for the whole batch."""
    users = {s.user_id: s.user for s in subscriptions if s.user_id}
    user_ids = list(users)
    from forum.services.notifications import _moderator_ids

    moderators = _moderator_ids(user_ids)
    follows: dict[int, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    for model, key in ((TagFollow, "tag_id"), (CategoryFollow, "category_id")):
        rows = model.objects.filter(user_id__in=user_ids).values_list("user_id", key, "level")
        for user_id, target, level in rows:
            follows[user_id][f"{key}:{level}"].add(target)
    rows = ThreadFollow.objects.filter(user_id__in=user_ids).values_list(
        "user_id", "thread_id", "level"
    )
    for user_id, thread_id, level in rows:
        follows[user_id][f"thread:{level}"].add(thread_id)
    expertise = _tags_of(User, user_ids)
    # Tags on which an organisation's members wrote experience reports or accepted answers.
    organisation_ids = {u.organisation_id for u in users.values() if u.organisation_id}
    org_tags: dict[int, set[int]] = defaultdict(set)
    if organisation_ids:
        rows = list(
            Thread.objects.filter(
                Q(kind=Thread.Kind.EXPERIENCE, organisation_id__in=organisation_ids)
                | Q(accepted_post__author__organisation_id__in=organisation_ids)
            ).values_list("pk", "organisation_id", "kind", "accepted_post__author__organisation_id")
        )
        thread_tags = _tags_of(Thread, [row[0] for row in rows])
        for pk, thread_org, kind, answer_org in rows:
            if kind == Thread.Kind.EXPERIENCE and thread_org in organisation_ids:
                org_tags[thread_org] |= thread_tags.get(pk, set())
            if answer_org in organisation_ids:
                org_tags[answer_org] |= thread_tags.get(pk, set())
    readers: dict[int, _Reader] = {}
    for subscription in subscriptions:
        user = subscription.user
        if user is None:
            readers[subscription.pk] = _Reader(
                levels=frozenset({Category.Visibility.PUBLIC}), topics_all=True
            )
            continue
        if user.pk in moderators:
            levels = frozenset(Category.Visibility.values)
        elif user.is_approved_member:
            levels = frozenset({Category.Visibility.PUBLIC, Category.Visibility.MEMBERS})
        else:
            levels = frozenset({Category.Visibility.PUBLIC})
        mine = follows[user.pk]
        watching = {Level.WATCHING.value, Level.NORMAL.value}
        readers[subscription.pk] = _Reader(
            levels=levels,
            topics_all=subscription.topics == DigestSubscription.Topics.ALL,
            tag_ids=set().union(*(mine[f"tag_id:{lv}"] for lv in watching)),
            category_ids=set().union(*(mine[f"category_id:{lv}"] for lv in watching)),
            muted_tags=mine[f"tag_id:{Level.MUTED}"],
            muted_categories=mine[f"category_id:{Level.MUTED}"],
            muted_threads=mine[f"thread:{Level.MUTED}"],
            followed_threads=set().union(*(mine[f"thread:{lv}"] for lv in watching)),
            help_tags=expertise[user.pk] | org_tags.get(user.organisation_id, set()),
        )
    return readers


def build_digests(deliveries: list[DigestDelivery], *, now: datetime | None = None):
    """(delivery, digest) for each delivery, from one read of the batch's content."""
    if not deliveries:
        return []
    now = now or timezone.now()
    start = min(d.window_start for d in deliveries)
    end = max(d.window_end for d in deliveries)
    content = Content(start, end, now)
    readers = _readers([d.subscription for d in deliveries])
    return [
        (
            delivery,
            content.for_subscriber(
                delivery.subscription,
                readers[delivery.subscription.pk],
                delivery.window_start,
                delivery.window_end,
            ),
        )
        for delivery in deliveries
    ]


# --- Sending ----------------------------------------------------------------------------------


def _subject(digest: Digest) -> str:
    parts = []
    for block in digest.blocks:
        n = len(block.items)
        if block.section == Section.QUESTIONS:
            parts.append(ngettext("%(n)s Frage", "%(n)s Fragen", n) % {"n": n})
        elif block.section == Section.EXPERIENCES:
            parts.append(
                ngettext("%(n)s Erfahrungsbericht", "%(n)s Erfahrungsberichte", n) % {"n": n}
            )
        elif block.section == Section.COLLECTIONS:
            parts.append(ngettext("%(n)s Sammlung", "%(n)s Sammlungen", n) % {"n": n})
        elif block.section == Section.HELP:
            parts.append(
                ngettext("%(n)s Frage für Ihr Fachwissen", "%(n)s Fragen für Ihr Fachwissen", n)
                % {"n": n}
            )
        elif block.section == Section.FOLLOWED:
            parts.append(
                ngettext(
                    "Neues in %(n)s Thema, dem Sie folgen",
                    "Neues in %(n)s Themen, denen Sie folgen",
                    n,
                )
                % {"n": n}
            )
        elif block.section == Section.EVENTS:
            parts.append(ngettext("%(n)s Termin", "%(n)s Termine", n) % {"n": n})
    # Two question blocks (new, solved) read as one figure.
    merged: dict[str, int] = {}
    for part in parts:
        merged[part] = merged.get(part, 0) + 1
    daily = digest.subscription.frequency == DigestSubscription.Frequency.DAILY
    lead = _("Ihr Tages-Digest") if daily else _("Ihr Wochen-Digest")
    return f"{lead}: {', '.join(merged)}"


def render_digest(digest: Digest) -> EmailMultiAlternatives:
    subscription = digest.subscription
    # One unsubscribe link per section, under its last block (new and solved questions are
    # two blocks of one section).
    last = {block.section: index for index, block in enumerate(digest.blocks)}
    for index, block in enumerate(digest.blocks):
        if last[block.section] == index:
            block.unsubscribe_url = mailtokens.digest_unsubscribe_url(subscription, block.section)
    unsubscribe = mailtokens.digest_unsubscribe_url(subscription)
    context = {
        "digest": digest,
        "subscription": subscription,
        "name": subscription.user.display_name if subscription.user_id else "",
        "manage_url": mailtokens.digest_manage_url(subscription),
        "unsubscribe_url": unsubscribe,
        "site_url": settings.SITE_URL,
        "forum_name": settings.FORUM_NAME,
        "window_start": timezone.localtime(digest.window_start),
        "window_end": timezone.localtime(digest.window_end),
    }
    with translation.override("de"):
        subject = settings.EMAIL_SUBJECT_PREFIX + _subject(digest)
        text = render_to_string("emails/digest.txt", context)
        html = render_to_string("emails/digest.html", context)
    message = EmailMultiAlternatives(
        subject,
        text,
        to=[subscription.address],
        headers=mailtokens.unsubscribe_headers(unsubscribe),
    )
    message.attach_alternative(html, "text/html")
    return message


@dataclass
class SendResult:
    sent: int = 0
    empty: int = 0
    failed: int = 0
    skipped_locked: int = 0


def digests_send(delivery_ids: list[int], *, connection=None, now=None) -> SendResult:
    """Build and send these deliveries. Each one is sent inside its own transaction with its
    row locked, and only while still pending: reruns and concurrent workers send it once."""
    result = SendResult()
    deliveries = list(
        DigestDelivery.objects.filter(pk__in=delivery_ids, status=DigestDelivery.Status.PENDING)
        .select_related("subscription__user__organisation")
        .order_by("pk")
    )
    if not deliveries:
        return result
    connection = connection or get_connection()
    built = build_digests(deliveries, now=now)
    with connection:
        for delivery, digest in built:
            # Rendered before the row is locked: on SQLite a transaction holds the write lock
            # of the whole database, so only the check, the hand-over and the mark are inside.
            message = render_digest(digest) if digest.count else None
            with transaction.atomic():
                claimed = (
                    DigestDelivery.objects.select_for_update(skip_locked=True)
                    .filter(pk=delivery.pk, status=DigestDelivery.Status.PENDING)
                    .values_list("pk", flat=True)
                )
                if not list(claimed):
                    result.skipped_locked += 1
                    continue
                if message is None:
                    DigestDelivery.objects.filter(pk=delivery.pk).update(
                        status=DigestDelivery.Status.EMPTY
                    )
                    result.empty += 1
                    continue
                message.connection = connection
                try:
                    message.send()
                except Exception as exc:  # SMTP refused or the connection broke
                    log.warning("Digest %s nicht verschickt: %s", delivery.pk, exc)
                    # Left pending, the next send_digests run tries again; after five
                    # failures the delivery is given up.
                    attempts = delivery.attempts + 1
                    DigestDelivery.objects.filter(pk=delivery.pk).update(
                        attempts=attempts,
                        error=str(exc)[:500],
                        status=DigestDelivery.Status.FAILED
                        if attempts >= MAX_ATTEMPTS
                        else DigestDelivery.Status.PENDING,
                    )
                    result.failed += 1
                    continue
                DigestDelivery.objects.filter(pk=delivery.pk).update(
                    status=DigestDelivery.Status.SENT,
                    sent_at=timezone.now(),
                    items=digest.count,
                    attempts=delivery.attempts + 1,
                )
                result.sent += 1
    return result
