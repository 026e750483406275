"""Reports and moderation actions. Each action checks the moderator, needs a reason, is
recorded in the audit log inside its transaction, and tells the person affected why
(statement of reasons); reporters hear the outcome."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.permissions import check_act_as_member, is_moderator
from forum import permissions
from forum.events import send_event_on_commit, thread_group
from forum.models import (
    Appeal,
    AuditEntry,
    Bookmark,
    Category,
    CollectionEntry,
    Kind,
    Notification,
    Post,
    PostMove,
    ReadState,
    Report,
    SearchDocument,
    Thread,
    ThreadFollow,
)
from forum.search.documents import schedule_index
from forum.services import notifications
from forum.services.audit import audit_record
from forum.services.posts import RATE_LIMITED
from forum.text import german_slug

REPORTS_PER_HOUR = 10
MAX_REASON = 2000


def check_moderate(actor: User) -> None:
    if not is_moderator(actor):
        raise PermissionDenied(_("Nur die Moderation darf das tun."))


def _reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if not reason:
        raise ValidationError(
            {"reason": _("Bitte geben Sie eine Begründung an; die betroffene Person erhält sie.")}
        )
    if len(reason) > MAX_REASON:
        raise ValidationError(
            {"reason": _("Die Begründung darf höchstens 2.000 Zeichen lang sein.")}
        )
    return reason


def _post_for_update(post: Post) -> Post:
    return (
        Post.objects.select_for_update(of=("self",))
        .select_related("thread__category", "author")
        .get(pk=post.pk)
    )


def report_create(actor: User, *, post: Post, reason: str, text: str = "") -> Report:
    """A member reports a post. A second report of the same post while the first is open
    returns the first; more than ten reports an hour are refused."""
    check_act_as_member(actor)
    text = (text or "").strip()
    if reason not in Report.Reason.values:
        raise ValidationError({"reason": _("Bitte wählen Sie einen Grund.")})
    if reason == Report.Reason.OTHER and not text:
        raise ValidationError({"text": _("Bitte beschreiben Sie kurz, was nicht stimmt.")})
    if len(text) > MAX_REASON:
        raise ValidationError(
            {"text": _("Die Erläuterung darf höchstens 2.000 Zeichen lang sein.")}
        )
    post = Post.objects.select_related("thread__category").get(pk=post.pk)
    permissions.check_view_thread(actor, post.thread)
    if post.author_id == actor.pk:
        raise ValidationError(
            _("Eigene Beiträge können Sie bearbeiten oder löschen, nicht melden.")
        )
    existing = Report.objects.filter(post=post, reporter=actor, status=Report.Status.OPEN).first()
    if existing is not None:
        return existing
    recent = Report.objects.filter(
        reporter=actor, created_at__gte=timezone.now() - timedelta(hours=1)
    ).count()
    if recent >= REPORTS_PER_HOUR:
        raise ValidationError(
            _(
                "Sie haben in der letzten Stunde schon viele Beiträge gemeldet. Bitte versuchen Sie es später noch einmal."
            ),
            code=RATE_LIMITED,
        )
    try:
        with transaction.atomic():
            return Report.objects.create(post=post, reporter=actor, reason=reason, text=text)
    except IntegrityError:  # a double click raced past the check above
        return Report.objects.get(post=post, reporter=actor, status=Report.Status.OPEN)


def _settle_reports(post: Post, actor: User, *, status: str, reason: str) -> None:
    open_reports = list(
        Report.objects.select_for_update(of=("self",))
        .filter(post=post, status=Report.Status.OPEN)
        .select_related("reporter")
    )
    if not open_reports:
        return
    Report.objects.filter(pk__in=[r.pk for r in open_reports]).update(
        status=status, resolved_by=actor, resolved_at=timezone.now(), resolution=reason
    )
    outcome = (
        _("Der Beitrag wurde ausgeblendet.")
        if status == Report.Status.UPHELD
        else _("Der Beitrag bleibt sichtbar.")
    )
    notifications.notify(
        [r.reporter for r in open_reports if r.reporter is not None],
        kind=Kind.REPORT,
        thread=post.thread,
        post=post,
        actor=actor,
        reason=reason,
        data={"outcome": str(outcome)},
    )


def post_hide(actor: User, *, post: Post, reason: str) -> Post:
    """Hide a post from everyone but the moderation, with a reason for its author."""
    check_moderate(actor)
    reason = _reason(reason)
    with transaction.atomic():
        post = _post_for_update(post)
        if not post.is_hidden:
            post.is_hidden = True
            post.save(update_fields=["is_hidden"])
            entry = audit_record(
                actor,
                action="post.hidden",
                target=post,
                target_label=_label(post),
                old={"is_hidden": False},
                new={"is_hidden": True},
                reason=reason,
            )
            notifications.on_moderated(
                post, actor=actor, action=_("ausgeblendet"), reason=reason, audit=entry.pk
            )
        _settle_reports(post, actor, status=Report.Status.UPHELD, reason=reason)
    return post


def post_unhide(actor: User, *, post: Post, reason: str) -> Post:
    """Show a hidden post again (after an appeal, say), with a reason."""
    check_moderate(actor)
    reason = _reason(reason)
    with transaction.atomic():
        post = _post_for_update(post)
        if post.is_hidden:
            post.is_hidden = False
            post.save(update_fields=["is_hidden"])
            entry = audit_record(
                actor,
                action="post.unhidden",
                target=post,
                target_label=_label(post),
                old={"is_hidden": True},
                new={"is_hidden": False},
                reason=reason,
            )
            notifications.on_moderated(
                post, actor=actor, action=_("wieder eingeblendet"), reason=reason, audit=entry.pk
            )
    return post


def report_dismiss(actor: User, *, report: Report, reason: str) -> Report:
    """The post stays as it is; the reporters hear why."""
    check_moderate(actor)
    reason = _reason(reason)
    with transaction.atomic():
        post = _post_for_update(report.post)
        audit_record(
            actor,
            action="report.dismissed",
            target=post,
            target_label=_label(post),
            reason=reason,
        )
        _settle_reports(post, actor, status=Report.Status.DISMISSED, reason=reason)
    report.refresh_from_db()
    return report


def _label(post: Post) -> str:
    """A label that keeps its meaning after the post or thread is gone."""
    author = post.author.display_name if post.author else _("ehemaliges Mitglied")
    return f"#{post.number} von {author} in „{post.thread.title}“ (Thema {post.thread_id})"


# --- Threads ----------------------------------------------------------------------------------

THREAD_ACTIONS = {
    # action: (field changes, audit action, wording for the author)
    "lock": ({"is_locked": True}, "thread.locked", gettext_noop("geschlossen")),
    "unlock": ({"is_locked": False}, "thread.unlocked", gettext_noop("wieder geöffnet")),
    "pin": (
        {"is_pinned": True, "is_pinned_globally": False},
        "thread.pinned",
        gettext_noop("in seinem Themenfeld angeheftet"),
    ),
    "pin_global": (
        {"is_pinned": True, "is_pinned_globally": True},
        "thread.pinned_globally",
        gettext_noop("überall angeheftet"),
    ),
    "unpin": (
        {"is_pinned": False, "is_pinned_globally": False},
        "thread.unpinned",
        gettext_noop("losgelöst"),
    ),
}


def thread_moderate(actor: User, *, thread, action: str, reason: str, category=None):
    """Lock, unlock, pin (in its category or site-wide), unpin or move a thread, with a reason
    that its author receives."""
    check_moderate(actor)
    reason = _reason(reason)
    if action not in THREAD_ACTIONS and action != "move":
        raise ValidationError({"action": _("Bitte wählen Sie eine Aktion.")})
    with transaction.atomic():
        thread = _thread_for_update(thread)
        if action == "move":
            if not isinstance(category, Category):
                raise ValidationError({"category": _("Bitte wählen Sie das Ziel-Themenfeld.")})
            if category.pk == thread.category_id:
                raise ValidationError(
                    {"category": _("Das Thema steht schon in diesem Themenfeld.")}
                )
            old, new = {"category": thread.category.name}, {"category": category.name}
            thread.category = category
            thread.save(update_fields=["category", "updated_at"])
            audit_action, wording = (
                "thread.moved",
                _("in das Themenfeld „%(name)s“ verschoben") % {"name": category.name},
            )
        else:
            changes, audit_action, wording = THREAD_ACTIONS[action]
            wording = _(wording)
            old = {field: getattr(thread, field) for field in changes}
            if old == changes:
                return thread  # nothing to do, nothing to record
            new = dict(changes)
            for field, value in changes.items():
                setattr(thread, field, value)
            thread.save(update_fields=[*changes, "updated_at"])
        entry = audit_record(
            actor,
            action=audit_action,
            target=thread,
            target_label=_thread_label(thread),
            old=old,
            new=new,
            reason=reason,
        )
        notifications.on_thread_moderated(
            thread, actor=actor, action=str(wording), reason=reason, audit=entry.pk
        )
    return thread


def _thread_for_update(thread) -> Thread:
    return (
        Thread.objects.select_for_update(of=("self",))
        .select_related("category", "author")
        .get(pk=thread.pk)
    )


def _thread_label(thread: Thread) -> str:
    return f"„{thread.title}“ (Thema {thread.pk})"


# --- Posts held for approval ------------------------------------------------------------------


def post_approve(actor: User, *, post: Post) -> Post:
    """Publish a held post (a new member's first posts): from now on everyone who may read the
    thread sees it, and watchers and mentioned people are told as for any new post."""
    check_moderate(actor)
    with transaction.atomic():
        thread = _thread_for_update(post.thread)
        post = _post_for_update(post)
        if not post.is_held or post.is_deleted:
            return post
        post.is_held = False
        post.save(update_fields=["is_held"])
        now = timezone.now()
        changes = {
            "post_count": F("post_count") + 1,
            "last_activity_at": now,
            "last_poster": post.author,
        }
        if post.number == 1:
            changes["is_held"] = False
        Thread.objects.filter(pk=thread.pk).update(**changes)
        thread.refresh_from_db()
        post.thread = thread
        entry = audit_record(
            actor,
            action="post.approved",
            target=post,
            target_label=_label(post),
            old={"is_held": True},
            new={"is_held": False},
        )
        notifications.on_post_created(
            post, mentioned=list(post.mentions.all()), is_first=post.number == 1
        )
        notifications.on_moderated(post, actor=actor, action=_("freigegeben"), audit=entry.pk)
        send_event_on_commit(
            thread_group(thread.pk), "post.created", {"thread": thread.pk, "number": post.number}
        )
        schedule_index(thread.pk)
    return post


def post_reject(actor: User, *, post: Post, reason: str) -> Post:
    """Refuse a held post: it stays deleted, its author hears why (and keeps the text in the
    notice's history). A refused first post takes its thread with it."""
    check_moderate(actor)
    reason = _reason(reason)
    with transaction.atomic():
        thread = _thread_for_update(post.thread)
        post = _post_for_update(post)
        if not post.is_held or post.is_deleted:
            raise ValidationError(_("Dieser Beitrag wartet nicht mehr auf Freigabe."))
        post.is_deleted, post.deleted_at, post.deleted_by = True, timezone.now(), actor
        post.save(update_fields=["is_deleted", "deleted_at", "deleted_by"])
        if post.number == 1:
            thread.is_hidden = True
            thread.save(update_fields=["is_hidden", "updated_at"])
        entry = audit_record(
            actor,
            action="post.rejected",
            target=post,
            target_label=_label(post),
            old={"is_held": True},
            new={"is_deleted": True},
            reason=reason,
        )
        if post.author is not None:
            first = post.number == 1
            notifications.notify(
                [post.author],
                kind=Kind.MODERATION,
                thread=None if first else thread,
                post=None if first else post,
                actor=actor,
                reason=reason,
                data={
                    "action": str(_("nicht freigegeben")),
                    "title": thread.title,
                    "audit": entry.pk,
                    "target": "thread" if first else "post",
                },
            )
    return post


# --- Merging and splitting threads ------------------------------------------------------------


def thread_merge(actor: User, *, thread: Thread, into: Thread, reason: str) -> Thread:
    """Move every post of ``thread`` to the end of ``into``. The emptied thread redirects there,
    and its old post links lead to the posts' new numbers."""
    check_moderate(actor)
    reason = _reason(reason)
    if into is None:
        raise ValidationError({"into": _("Bitte geben Sie das Thema an, in das es aufgehen soll.")})
    if into.pk == thread.pk:
        raise ValidationError(
            {"into": _("Ein Thema lässt sich nicht mit sich selbst zusammenführen.")}
        )
    with transaction.atomic():
        locked = {
            t.pk: t
            for t in Thread.objects.select_for_update(of=("self",))
            .select_related("category", "author")
            .filter(pk__in=[thread.pk, into.pk])
            .order_by("pk")  # one locking order: two merges cannot deadlock
        }
        source, target = locked[thread.pk], locked[into.pk]
        if source.merged_into_id or target.merged_into_id:
            raise ValidationError(
                {
                    "into": _(
                        "Eines der beiden Themen wurde schon mit einem anderen zusammengeführt."
                    )
                }
            )
        offset = target.last_number
        old_numbers = list(source.posts.values_list("pk", "number"))
        PostMove.objects.bulk_create(
            [PostMove(post_id=pk, old_thread=source, old_number=n) for pk, n in old_numbers]
        )
        # Target numbers are all ≤ offset, the moved ones all > offset: no clash on the way.
        source.posts.update(thread=target, number=F("number") + offset)
        Notification.objects.filter(thread=source).update(thread=target)
        _move_follows(source, target)
        ReadState.objects.filter(thread=source).delete()
        for entry in CollectionEntry.objects.filter(thread=source):
            if CollectionEntry.objects.filter(collection_id=entry.collection_id, thread=target):
                entry.delete()
            else:
                CollectionEntry.objects.filter(pk=entry.pk).update(thread=target)
        if source.last_activity_at > target.last_activity_at:
            target.last_activity_at = source.last_activity_at
            target.last_poster_id = source.last_poster_id
        target.last_number = offset + source.last_number
        target.post_count += source.post_count
        if (
            target.kind == Thread.Kind.QUESTION
            and target.accepted_post_id is None
            and source.accepted_post_id
        ):
            target.accepted_post_id, target.solved_at = source.accepted_post_id, source.solved_at
        if not target.summary and source.summary:
            target.summary, target.summary_html = source.summary, source.summary_html
            target.summary_by_id, target.summary_at = source.summary_by_id, source.summary_at
        target.save()
        target.tags.add(*source.tags.all())
        source.merged_into = target
        source.is_hidden = True
        source.post_count = 0
        source.accepted_post = None
        source.save()
        SearchDocument.objects.filter(thread=source).delete()
        entry = audit_record(
            actor,
            action="thread.merged",
            target=source,
            target_label=_thread_label(source),
            old={"thread": source.pk, "title": source.title},
            new={"into": target.pk, "title": target.title, "first_new_number": offset + 1},
            reason=reason,
        )
        wording = _("mit dem Thema „%(title)s“ zusammengeführt; die Beiträge stehen jetzt dort") % {
            "title": target.title
        }
        authors = {source.author_id} | set(
            target.posts.filter(number__gt=offset).values_list("author_id", flat=True)
        )
        notifications.notify(
            notifications._users(a for a in authors if a),
            kind=Kind.MODERATION,
            thread=target,
            actor=actor,
            reason=reason,
            data={"action": str(wording), "target": "thread", "audit": entry.pk},
        )
        schedule_index(target.pk)
        send_event_on_commit(thread_group(source.pk), "thread.recheck", {"thread": source.pk})
    return target


def thread_split(
    actor: User,
    *,
    thread: Thread,
    numbers: list[int],
    title: str,
    category: Category | None,
    kind: str,
    reason: str,
) -> Thread:
    """Move the chosen replies into a new thread, numbered from 1 in their order. The old
    thread keeps a gap; links to the moved posts lead to their new place."""
    from forum.services.threads import _clean_title

    check_moderate(actor)
    reason = _reason(reason)
    title = _clean_title(title)
    numbers = sorted({int(n) for n in numbers})
    if not numbers:
        raise ValidationError({"numbers": _("Bitte wählen Sie mindestens einen Beitrag.")})
    if 1 in numbers:
        raise ValidationError({"numbers": _("Der erste Beitrag trägt das Thema und bleibt darin.")})
    if not isinstance(category, Category):
        raise ValidationError({"category": _("Bitte wählen Sie ein Themenfeld.")})
    if kind not in Thread.Kind.values:
        raise ValidationError({"kind": _("Bitte wählen Sie die Art des neuen Themas.")})
    with transaction.atomic():
        source = _thread_for_update(thread)
        posts = list(
            source.posts.filter(number__in=numbers).select_related("author").order_by("number")
        )
        if len(posts) != len(numbers):
            raise ValidationError(
                {"numbers": _("Einige der gewählten Beiträge stehen nicht mehr in diesem Thema.")}
            )
        first, last = posts[0], posts[-1]
        visible = [p for p in posts if not p.is_held]
        new = Thread.objects.create(
            category=category,
            kind=kind,
            title=title,
            slug=german_slug(title),
            author=first.author,
            organisation_id=first.author.organisation_id if first.author else None,
            last_activity_at=last.created_at,
            last_poster=last.author,
            post_count=len(visible),
            last_number=len(posts),
        )
        PostMove.objects.bulk_create(
            [PostMove(post=p, old_thread=source, old_number=p.number) for p in posts]
        )
        ids = [p.pk for p in posts]
        Post.objects.filter(pk__in=ids).update(
            thread=new,
            number=Case(
                *(When(pk=p.pk, then=Value(i)) for i, p in enumerate(posts, start=1)),
                output_field=IntegerField(),
            ),
        )
        Notification.objects.filter(post__in=ids).update(thread=new)
        Bookmark.objects.filter(post__in=ids).update(thread=new)
        new.tags.set(list(source.tags.all()))
        ThreadFollow.objects.bulk_create(
            [
                ThreadFollow(user_id=f.user_id, thread=new, level=f.level)
                for f in ThreadFollow.objects.filter(thread=source)
            ],
            ignore_conflicts=True,
        )
        source.post_count = max(source.post_count - len(visible), 1)
        if source.accepted_post_id in ids:
            if kind == Thread.Kind.QUESTION:
                new.accepted_post_id, new.solved_at = source.accepted_post_id, source.solved_at
                new.save(update_fields=["accepted_post", "solved_at"])
            source.accepted_post, source.solved_at = None, None
        source.save()
        entry = audit_record(
            actor,
            action="thread.split",
            target=source,
            target_label=_thread_label(source),
            old={"thread": source.pk, "numbers": numbers},
            new={"thread": new.pk, "title": new.title},
            reason=reason,
        )
        wording = _("in das neue Thema „%(title)s“ verschoben") % {"title": new.title}
        notifications.notify(
            notifications._users({p.author_id for p in posts if p.author_id}),
            kind=Kind.MODERATION,
            thread=new,
            actor=actor,
            reason=reason,
            data={"action": str(wording), "target": "posts", "audit": entry.pk},
        )
        schedule_index(source.pk)
        schedule_index(new.pk)
    return new


def _move_follows(source: Thread, target: Thread) -> None:
    """Followers and bookmarks of a merged thread carry over (once per person)."""
    following = set(ThreadFollow.objects.filter(thread=target).values_list("user_id", flat=True))
    ThreadFollow.objects.filter(thread=source).exclude(user_id__in=following).update(thread=target)
    ThreadFollow.objects.filter(thread=source).delete()
    marked = set(
        Bookmark.objects.filter(thread=target, post__isnull=True).values_list("user_id", flat=True)
    )
    Bookmark.objects.filter(thread=source, post__isnull=True, user_id__in=marked).delete()
    Bookmark.objects.filter(thread=source).update(thread=target)


def moved_post_url(thread_id: int, number: int, *, reader) -> str | None:
    """Where post ``number`` of thread ``thread_id`` stands now, if it was moved to a thread
    the reader may read (its address carries the title: it must not reach others)."""
    move = (
        PostMove.objects.filter(old_thread_id=thread_id, old_number=number)
        .select_related("post__thread__category")
        .first()
    )
    if move is None or not permissions.can_view_thread(reader, move.post.thread):
        return None
    return move.post.get_absolute_url()


def moved_posts_map(thread_id: int, *, reader) -> dict[int, str]:
    """Old number → new address of every post moved out of a thread (for old #post-N links),
    leaving out those now in threads the reader may not read."""
    moves = PostMove.objects.filter(old_thread_id=thread_id).select_related(
        "post__thread__category"
    )
    return {
        m.old_number: m.post.get_absolute_url()
        for m in moves
        if permissions.can_view_thread(reader, m.post.thread)
    }


# --- Appeals ----------------------------------------------------------------------------------

MAX_APPEAL = 4000


def appeal_create(actor: User, *, notification: Notification, text: str) -> Appeal:
    """The person a decision was about answers it from the notice they received."""
    entry_id = (notification.data or {}).get("audit")
    if (
        not actor.is_authenticated
        or notification.recipient_id != actor.pk
        or notification.kind != Kind.MODERATION
        or not entry_id
    ):
        raise PermissionDenied(_("Gegen diese Mitteilung können Sie keinen Einspruch einlegen."))
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ValidationError({"text": _("Bitte begründen Sie Ihren Einspruch.")})
    if len(text) > MAX_APPEAL:
        raise ValidationError({"text": _("Der Einspruch darf höchstens 4.000 Zeichen lang sein.")})
    entry = AuditEntry.objects.get(pk=entry_id)
    with transaction.atomic():
        if Appeal.objects.filter(entry=entry, appellant=actor).exists():
            raise ValidationError(
                _(
                    "Sie haben gegen diese Entscheidung schon Einspruch eingelegt; die Moderation "
                    "antwortet Ihnen."
                )
            )
        return Appeal.objects.create(entry=entry, appellant=actor, text=text)


def appeal_answer(actor: User, *, appeal: Appeal, answer: str) -> Appeal:
    """A moderator answers an appeal (and, where it succeeds, reverses the decision with the
    matching action); the person hears the answer."""
    check_moderate(actor)
    answer = _reason(answer)
    with transaction.atomic():
        appeal = (
            Appeal.objects.select_for_update(of=("self",))
            .select_related("entry", "appellant")
            .get(pk=appeal.pk)
        )
        if appeal.status == Appeal.Status.ANSWERED:
            raise ValidationError(_("Dieser Einspruch ist schon beantwortet."))
        appeal.status = Appeal.Status.ANSWERED
        appeal.answer, appeal.answered_by, appeal.answered_at = answer, actor, timezone.now()
        appeal.save(update_fields=["status", "answer", "answered_by", "answered_at"])
        audit_record(
            actor,
            action="appeal.answered",
            target=appeal,
            target_label=_("Einspruch von %(name)s zu: %(decision)s")
            % {
                "name": appeal.appellant.display_name,
                "decision": appeal.entry.target_label,
            },
            reason=answer,
        )
        notifications.notify(
            [appeal.appellant],
            kind=Kind.APPEAL,
            actor=actor,
            reason=answer,
            data={"decision": appeal.entry.target_label},
        )
    return appeal
