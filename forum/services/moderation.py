"""Reports and moderation actions. Each action checks the moderator, needs a reason, is
recorded in the audit log inside its transaction, and tells the person affected why
(statement of reasons); reporters hear the outcome."""

from __future__ import annotations

from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from accounts.permissions import check_act_as_member, is_moderator
from forum import permissions
from forum.models import Kind, Post, Report
from forum.services import notifications
from forum.services.audit import audit_record

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
            )
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
            audit_record(
                actor,
                action="post.hidden",
                target=post,
                target_label=_label(post),
                old={"is_hidden": False},
                new={"is_hidden": True},
                reason=reason,
            )
            notifications.on_moderated(post, actor=actor, action=_("ausgeblendet"), reason=reason)
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
            audit_record(
                actor,
                action="post.unhidden",
                target=post,
                target_label=_label(post),
                old={"is_hidden": True},
                new={"is_hidden": False},
                reason=reason,
            )
            notifications.on_moderated(
                post, actor=actor, action=_("wieder eingeblendet"), reason=reason
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
    # action: (field, new value, audit action, wording for the author)
    "lock": ("is_locked", True, "thread.locked", gettext_noop("geschlossen")),
    "unlock": ("is_locked", False, "thread.unlocked", gettext_noop("wieder geöffnet")),
    "pin": ("is_pinned", True, "thread.pinned", gettext_noop("angeheftet")),
    "unpin": ("is_pinned", False, "thread.unpinned", gettext_noop("losgelöst")),
}


def thread_moderate(actor: User, *, thread, action: str, reason: str, category=None):
    """Lock, unlock, pin, unpin or move a thread, with a reason that its author receives."""
    from forum.models import Category, Thread

    check_moderate(actor)
    reason = _reason(reason)
    if action not in THREAD_ACTIONS and action != "move":
        raise ValidationError({"action": _("Bitte wählen Sie eine Aktion.")})
    with transaction.atomic():
        thread = (
            Thread.objects.select_for_update(of=("self",))
            .select_related("category", "author")
            .get(pk=thread.pk)
        )
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
            field, value, audit_action, wording = THREAD_ACTIONS[action]
            wording = _(wording)
            if getattr(thread, field) == value:
                return thread  # nothing to do, nothing to record
            old, new = {field: not value}, {field: value}
            setattr(thread, field, value)
            thread.save(update_fields=[field, "updated_at"])
        audit_record(
            actor,
            action=audit_action,
            target=thread,
            target_label=f"„{thread.title}“ (Thema {thread.pk})",
            old=old,
            new=new,
            reason=reason,
        )
        notifications.on_thread_moderated(thread, actor=actor, action=str(wording), reason=reason)
    return thread
