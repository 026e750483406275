"""Reporting posts, the moderation queue at /mod/, moderation actions and the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts import selectors as account_selectors
from accounts.decorators import moderator_required
from forum import permissions, selectors
from forum.forms import (
    AppealAnswerForm,
    AppealForm,
    MergeForm,
    ModerationReasonForm,
    ReportForm,
    SplitForm,
)
from forum.models import Appeal, AuditEntry, CollectionEntry, Notification, Post, Report, Thread
from forum.services import moderation, notifications
from forum.views.safety import next_url as _next
from forum.views.safety import refusal_status

LOG_PER_PAGE = 50
QUEUE_REPORTS = 200


def _post(pk: int) -> Post:
    post = selectors.post_with_thread(pk)
    if post is None:
        raise Http404
    return post


@login_required
def report_post(request, pk: int):
    post = _post(pk)
    permissions.check_view_thread(request.user, post.thread)
    form = ReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            moderation.report_create(
                request.user,
                post=post,
                reason=form.cleaned_data["reason"],
                text=form.cleaned_data["text"],
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                for field, errors in exc.error_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form.add_error(None, exc)  # keeps the code: a rate limit answers 429
        else:
            messages.success(
                request,
                _(
                    "Danke, Ihre Meldung ist bei der Moderation eingegangen. Sie erhalten eine "
                    "Benachrichtigung, sobald sie geprüft ist."
                ),
            )
            return redirect(f"/t/{post.thread_id}/?beitrag={post.number}")
    return render(
        request,
        "forum/report_form.html",
        {"post": post, "thread": post.thread, "form": form},
        status=refusal_status(form) if request.method == "POST" else 200,
    )


@require_safe
@moderator_required
def queue(request):
    """Everything waiting on a moderator: reported posts (with context) and pending members."""
    reports = (
        Report.objects.filter(status=Report.Status.OPEN)
        .select_related("reporter", "post__thread__category", "post__author__organisation")
        .order_by("created_at")[:QUEUE_REPORTS]
    )
    items: dict[int, dict] = {}
    for report in reports:  # oldest first, one item per post
        item = items.setdefault(report.post_id, {"post": report.post, "reports": []})
        item["reports"].append(report)
    author_ids = {item["post"].author_id for item in items.values() if item["post"].author_id}
    history = {
        row["author_id"]: row
        for row in Post.objects.filter(author_id__in=author_ids)
        .values("author_id")
        .annotate(total=Count("id"), hidden=Count("id", filter=Q(is_hidden=True)))
    }
    for item in items.values():
        item["history"] = history.get(item["post"].author_id)
    items = list(items.values())
    held = list(
        Post.objects.filter(is_held=True, is_deleted=False)
        .select_related("thread__category", "author__organisation")
        .order_by("created_at")[:QUEUE_REPORTS]
    )
    appeals = list(
        Appeal.objects.filter(status=Appeal.Status.OPEN)
        .select_related("entry", "appellant__organisation")
        .order_by("created_at")[:QUEUE_REPORTS]
    )
    return render(
        request,
        "forum/mod_queue.html",
        {
            "items": items,
            "held": held,
            "appeals": appeals,
            "pending_members": account_selectors.pending_members().count(),
            "overdue_entries": CollectionEntry.objects.filter(review_by__lt=timezone.localdate())
            .select_related("collection", "thread")
            .order_by("review_by")[:50],
            "reason_form": ModerationReasonForm(),
        },
    )


def _act(request, pk: int, action, done: str):
    post = _post(pk)
    form = ModerationReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
        return redirect(_next(request, "forum:mod_queue"))
    try:
        action(request.user, post=post, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(_next(request, "forum:mod_queue"))


@require_POST
@moderator_required
def post_hide(request, pk: int):
    return _act(
        request,
        pk,
        moderation.post_hide,
        _("Der Beitrag ist ausgeblendet; die Person wurde mit Ihrer Begründung benachrichtigt."),
    )


@require_POST
@moderator_required
def post_unhide(request, pk: int):
    return _act(
        request,
        pk,
        moderation.post_unhide,
        _("Der Beitrag ist wieder sichtbar; die Person wurde benachrichtigt."),
    )


@require_POST
@moderator_required
def report_dismiss(request, pk: int):
    def dismiss(actor, *, post, reason):
        report = Report.objects.filter(post=post, status=Report.Status.OPEN).first()
        if report is None:
            raise ValidationError(_("Zu diesem Beitrag gibt es keine offene Meldung mehr."))
        moderation.report_dismiss(actor, report=report, reason=reason)

    return _act(
        request,
        pk,
        dismiss,
        _("Die Meldung ist zurückgewiesen; die meldenden Personen wurden benachrichtigt."),
    )


@require_safe
@moderator_required
def audit_log(request):
    qs = AuditEntry.objects.all()
    action = request.GET.get("aktion", "")
    if action:
        qs = qs.filter(action=action)
    who = request.GET.get("person", "").strip()
    if who:
        qs = qs.filter(actor_label__icontains=who)
    target = request.GET.get("ziel", "").strip()
    if target:
        qs = qs.filter(target_label__icontains=target)
    page = Paginator(qs.order_by("-created_at", "-id"), LOG_PER_PAGE).get_page(
        request.GET.get("seite")
    )
    query = request.GET.copy()
    query.pop("seite", None)
    actions = AuditEntry.objects.order_by("action").values_list("action", flat=True).distinct()
    return render(
        request,
        "forum/mod_log.html",
        {
            "page": page,
            "actions": list(actions),
            "action": action,
            "who": who,
            "target": target,
            "querystring": query.urlencode(),
        },
    )


@require_POST
@moderator_required
def thread_moderate(request, pk: int):
    """Lock/unlock, pin/unpin or move a thread (the form on the thread page)."""
    thread = selectors.thread_for_page(pk)
    if thread is None:
        raise Http404
    form = ModerationReasonForm(request.POST)
    action = request.POST.get("aktion", "")
    category = None
    if action == "move":
        category = (
            selectors.categories_for(request.user)
            .filter(pk=request.POST.get("themenfeld") or 0)
            .first()
        )
    if not form.is_valid():
        messages.error(request, form.errors["reason"][0])
    else:
        try:
            moderation.thread_moderate(
                request.user,
                thread=thread,
                action=action,
                reason=form.cleaned_data["reason"],
                category=category,
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                _(
                    "Erledigt; die Person, die das Thema begonnen hat, wurde mit Ihrer Begründung benachrichtigt."
                ),
            )
    return redirect(f"/t/{thread.pk}/")


# --- Posts held for approval ------------------------------------------------------------------


@require_POST
@moderator_required
def post_approve(request, pk: int):
    moderation.post_approve(request.user, post=_post(pk))
    messages.success(request, _("Der Beitrag ist freigegeben und für alle sichtbar."))
    return redirect(_next(request, "forum:mod_queue"))


@require_POST
@moderator_required
def post_reject(request, pk: int):
    return _act(
        request,
        pk,
        moderation.post_reject,
        _("Der Beitrag ist abgelehnt; die Person wurde mit Ihrer Begründung benachrichtigt."),
    )


# --- Merging and splitting --------------------------------------------------------------------


def _mod_thread(pk: int) -> Thread:
    thread = Thread.objects.select_related("category", "author").filter(pk=pk).first()
    if thread is None or thread.merged_into_id:
        raise Http404
    return thread


@moderator_required
def thread_merge(request, pk: int):
    """Merge this thread into another one (its posts go to the end of the other)."""
    thread = _mod_thread(pk)
    form = MergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        target = Thread.objects.filter(pk=form.cleaned_data["ziel"]).first()
        try:
            if target is None:
                raise ValidationError({"ziel": _("Ein Thema mit dieser Nummer gibt es nicht.")})
            moderation.thread_merge(
                request.user, thread=thread, into=target, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _form_errors(form, exc, {"into": "ziel"})
        else:
            messages.success(
                request,
                _(
                    "Die Themen sind zusammengeführt. Die Beiträge stehen am Ende dieses Themas; "
                    "alte Links führen hierher."
                ),
            )
            return redirect(target)
    return render(
        request,
        "forum/mod_merge.html",
        {"thread": thread, "form": form},
        status=400 if request.method == "POST" else 200,
    )


@moderator_required
def thread_split(request, pk: int):
    """Move chosen replies of this thread into a new thread."""
    thread = _mod_thread(pk)
    posts = list(
        thread.posts.filter(number__gt=1).select_related("author__organisation").order_by("number")
    )
    categories = selectors.categories_for(request.user)
    form = SplitForm(
        request.POST or None,
        posts=posts,
        categories=categories,
        initial={"category": thread.category_id, "kind": Thread.Kind.DISCUSSION},
    )
    if request.method == "POST" and form.is_valid():
        category = categories.filter(pk=form.cleaned_data["category"]).first()
        try:
            new = moderation.thread_split(
                request.user,
                thread=thread,
                numbers=form.cleaned_data["numbers"],
                title=form.cleaned_data["title"],
                category=category,
                kind=form.cleaned_data["kind"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            _form_errors(form, exc, {})
        else:
            messages.success(
                request,
                _("Das neue Thema ist angelegt; alte Links zu den Beiträgen führen hierher."),
            )
            return redirect(new)
    chosen = {str(n) for n in form["numbers"].value() or []}
    return render(
        request,
        "forum/mod_split.html",
        {"thread": thread, "form": form, "posts": posts, "chosen": chosen},
        status=400 if request.method == "POST" else 200,
    )


def _form_errors(form, exc: ValidationError, rename: dict[str, str]) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = rename.get(field, field)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


# --- Appeals ----------------------------------------------------------------------------------


@login_required
def appeal_create(request, pk: int):
    """Answer a moderation decision from its notice (statement of reasons)."""
    notification = (
        Notification.objects.select_related("thread", "actor")
        .filter(pk=pk, recipient=request.user)
        .first()
    )
    if notification is None or not (notification.data or {}).get("audit"):
        raise Http404
    existing = Appeal.objects.filter(
        entry_id=notification.data["audit"], appellant=request.user
    ).first()
    form = AppealForm(request.POST or None)
    if request.method == "POST" and existing is None and form.is_valid():
        try:
            moderation.appeal_create(
                request.user, notification=notification, text=form.cleaned_data["text"]
            )
        except ValidationError as exc:
            _form_errors(form, exc, {})
        else:
            messages.success(
                request,
                _("Ihr Einspruch ist eingegangen. Die Moderation prüft ihn und antwortet Ihnen."),
            )
            return redirect("forum:notifications")
    return render(
        request,
        "forum/appeal_form.html",
        {
            "notification": notification,
            "text": notifications.describe(notification),
            "form": form,
            "existing": existing,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@moderator_required
def appeal_answer(request, pk: int):
    appeal = Appeal.objects.filter(pk=pk).first()
    if appeal is None:
        raise Http404
    form = AppealAnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors["answer"][0])
    else:
        try:
            moderation.appeal_answer(
                request.user, appeal=appeal, answer=form.cleaned_data["answer"]
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Ihre Antwort ist verschickt."))
    return redirect(_next(request, "forum:mod_queue"))
