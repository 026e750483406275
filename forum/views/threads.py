"""Thread pages and everything written on them. Views bind forms and call one service."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.permissions import is_moderator
from forum import fragments, permissions, selectors
from forum.forms import (
    PostEditForm,
    ProjectProfileForm,
    ReplyForm,
    SummaryForm,
    ThreadEditForm,
    ThreadForm,
)
from forum.markdown import render_markdown
from forum.models import Collection, Level, Post, Thread
from forum.search import similar_threads
from forum.selectors import ThreadFilters
from forum.services import following, moderation, notifications, posts, threads
from forum.views.safety import refusal_status


def _kinds_for(user):
    kinds = [
        (Thread.Kind.QUESTION, Thread.Kind.QUESTION.label),
        (Thread.Kind.EXPERIENCE, Thread.Kind.EXPERIENCE.label),
        (Thread.Kind.DISCUSSION, Thread.Kind.DISCUSSION.label),
    ]
    if is_moderator(user):
        kinds.append((Thread.Kind.ANNOUNCEMENT, Thread.Kind.ANNOUNCEMENT.label))
    return kinds


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class _Merged(Http404):
    """The thread was merged into another: its addresses lead there."""

    def __init__(self, thread: Thread) -> None:
        self.thread = thread


def _get_thread(request, pk: int) -> Thread:
    thread = selectors.thread_for_page(pk)
    if thread is None:
        raise Http404
    if thread.merged_into_id:
        raise _Merged(thread)
    permissions.check_view_thread(request.user, thread)
    return thread


def _merged_redirect(request, merged: Thread, number: str = ""):
    """To the thread it was merged into; old post numbers map to the posts' new ones (a
    browser keeps a #post-N fragment across the redirect, so the new page maps those too).
    Only for a reader of the target: its address carries its title."""
    if number.isdigit():
        url = moderation.moved_post_url(merged.pk, int(number), reader=request.user)
        if url:
            return redirect(url)
    target = Thread.objects.select_related("category").filter(pk=merged.merged_into_id).first()
    if target is None or not permissions.can_view_thread(request.user, target):
        raise Http404
    return redirect(f"{target.get_absolute_url()}?aus={merged.pk}", permanent=True)


def _get_post(request, pk: int) -> Post:
    post = selectors.post_with_thread(pk)
    if post is None:
        raise Http404
    permissions.check_view_thread(request.user, post.thread)
    return post


def thread_redirect(request, pk: int):
    """/t/<pk>/ → the thread; with ?beitrag=N to the page and anchor of post N (links in
    notifications and e-mails, which know the number but not the page)."""
    number = request.GET.get("beitrag", "")
    try:
        thread = _get_thread(request, pk)
    except _Merged as merged:
        return _merged_redirect(request, merged.thread, number)
    if number.isdigit() and 0 < int(number) <= thread.last_number:
        if thread.last_number != thread.post_count:  # posts may have been split off
            url = moderation.moved_post_url(thread.pk, int(number), reader=request.user)
            if url:
                return redirect(url)
        page = (int(number) - 1) // selectors.POSTS_PER_PAGE + 1
        query = f"?seite={page}" if page > 1 else ""
        return redirect(f"{thread.get_absolute_url()}{query}#post-{number}")
    return redirect(thread, permanent=True)


def thread_detail(request, pk: int, slug: str):
    try:
        thread = _get_thread(request, pk)
    except _Merged as merged:
        return _merged_redirect(request, merged.thread)
    if slug != thread.slug:
        return redirect(thread, permanent=True)
    page = selectors.posts_page(thread, request.user, request.GET.get("seite"))
    quote = request.GET.get("zitat")
    reply_form = None
    if permissions.can_reply(request.user, thread):
        initial = {"client_token": uuid.uuid4()}
        if quote and quote.isdigit():
            quoted = (
                thread.posts.filter(number=int(quote), is_deleted=False, is_hidden=False)
                .select_related("author")
                .first()
            )
            if quoted is not None:
                initial["body"] = _quote_text(quoted)
        reply_form = ReplyForm(initial=initial)
    personal = selectors.personal_state(request.user, thread)
    if page.object_list:
        last_shown = page.object_list[len(page.object_list) - 1].number
        if last_shown > personal.last_read:  # write only when there is something new
            following.read_mark(request.user, thread=thread, number=last_shown)
            # Reading the thread answers its notifications (all tabs' bells follow).
            notifications.notifications_mark_read(request.user, thread=thread)
    return _render_thread(request, thread, page, reply_form=reply_form, personal=personal)


def _moved_map(request, thread: Thread) -> dict:
    """Old #post-N anchors that now live elsewhere: posts split off from this thread, or (after
    a redirect from a merged thread, ?aus=) that thread's posts. Read only when there are any."""
    source = request.GET.get("aus", "")
    if source.isdigit():
        return {
            "always": True,
            "map": moderation.moved_posts_map(int(source), reader=request.user),
        }
    if thread.last_number != thread.post_count:
        moved = moderation.moved_posts_map(thread.pk, reader=request.user)
        return {"always": False, "map": moved} if moved else {}
    return {}


def _render_thread(
    request, thread: Thread, page, *, reply_form=None, preview=None, status=200, personal=None
):
    is_mod = is_moderator(request.user)
    fragments.attach_content_html(page.object_list, show_hidden=is_mod)
    accepted = thread.accepted_post
    if accepted is not None and page.number == 1:
        accepted.thread = thread  # the same row; spares a query in the fragment key
        if accepted.has_attachments:
            prefetch_related_objects([accepted], "attachments")
        fragments.attach_content_html([accepted], accepted=True, show_hidden=is_mod)
    return render(
        request,
        "forum/thread_detail.html",
        {
            "thread": thread,
            "page": page,
            "personal": personal or selectors.personal_state(request.user, thread),
            "reply_form": reply_form,
            "preview": preview,
            "can_edit_thread": permissions.can_edit_thread(request.user, thread),
            "can_edit_summary": permissions.can_edit_summary(request.user, thread),
            "can_accept": permissions.can_accept_answer(request.user, thread),
            "is_mod": is_mod,
            "mod_categories": selectors.categories_for(request.user) if is_mod else (),
            "mod_collections": Collection.objects.order_by("title") if is_mod else (),
            "moved": _moved_map(request, thread),
            "levels": Level.choices,
            "csrf_once": get_token(request) if request.user.is_authenticated else "",
        },
        status=status,
    )


def _quote_text(post: Post) -> str:
    author = f"@{post.author.handle}" if post.author else _("ehemaliges Mitglied")
    lines = "\n".join(f"> {line}" for line in post.body.splitlines())
    return (
        _("%(author)s schrieb in #%(number)s:") % {"author": author, "number": post.number}
        + "\n"
        + lines
        + "\n\n"
    )


@login_required
def thread_create(request):
    categories = selectors.categories_for(request.user)
    kinds = _kinds_for(request.user)
    initial = {"client_token": uuid.uuid4(), "kind": request.GET.get("art") or Thread.Kind.QUESTION}
    if slug := request.GET.get("themenfeld"):
        initial["category"] = categories.filter(slug=slug).first()
    if title := request.GET.get("titel", "").strip()[:200]:
        initial["title"] = title  # "Neue Frage stellen" from a search without results
    form = ThreadForm(
        request.POST or None,
        request.FILES or None,
        categories=categories,
        kinds=kinds,
        initial=initial,
    )
    # The profile is only validated (and its errors shown) for experience reports.
    wants_profile = request.POST.get("kind") == Thread.Kind.EXPERIENCE
    profile_form = ProjectProfileForm(
        request.POST if wants_profile else None,
        prefix="profile",
        initial=_profile_initial(request, request.POST),
    )
    preview = None
    if request.method == "POST":
        if "preview" in request.POST:
            preview = render_markdown(request.POST.get("body", ""))
        elif form.is_valid() and (not wants_profile or profile_form.is_valid()):
            data = form.cleaned_data
            try:
                thread = threads.thread_create(
                    request.user,
                    category=data["category"],
                    kind=data["kind"],
                    title=data["title"],
                    body=data["body"],
                    tags=data["tags"],
                    profile=profile_form.to_data() if wants_profile else None,
                    event_start=data.get("event_start"),
                    event_place=data.get("event_place", ""),
                    client_token=data["client_token"],
                    attachment=form.new_attachment(),
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Ihr Thema ist veröffentlicht."))
                return redirect(thread)
    elif request.user.is_suspended:  # the banner above says until when and why
        messages.warning(
            request, _("Solange Ihr Konto gesperrt ist, können Sie keine Themen beginnen.")
        )
    elif not permissions.can_act_as_member_or_mod(request.user):
        messages.info(
            request, _("Sie können Themen beginnen, sobald Ihre Mitgliedschaft bestätigt ist.")
        )
    # Threads that may already answer the title: shown on every render of the form, so that
    # without JavaScript the preview (or a correction) shows them too; forum.js updates them
    # while the title is typed.
    title = (request.POST.get("title") or initial.get("title") or "").strip()[:200]
    similar = (
        similar_threads(selectors.filter_threads(request.user, ThreadFilters()), title)
        if len(title) >= 8
        else []
    )
    return render(
        request,
        "forum/thread_form.html",
        {
            "form": form,
            "profile_form": profile_form,
            "preview": preview,
            "similar": similar,
            "tag_suggestions": selectors.popular_tags(request.user),
        },
        status=refusal_status(form) if request.method == "POST" and preview is None else 200,
    )


def _profile_initial(request, data) -> dict:
    """Keep what was typed into the profile when another kind was chosen and the form failed."""
    if not data:
        return {}
    return {
        name: data.get(f"profile-{name}")
        for name in ProjectProfileForm.base_fields
        if data.get(f"profile-{name}")
    }


@require_POST
@login_required
def thread_reply(request, pk: int):
    thread = _get_thread(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    preview = None
    if "preview" in request.POST:
        preview = render_markdown(request.POST.get("body", ""))
    elif form.is_valid():
        try:
            post = posts.post_create(
                request.user,
                thread=thread,
                body=form.cleaned_data["body"],
                client_token=form.cleaned_data["client_token"],
                attachment=form.new_attachment(),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect(post.get_absolute_url())
    permissions.check_reply(request.user, thread)
    page = selectors.posts_page(thread, request.user, 10**6)
    return _render_thread(
        request,
        thread,
        page,
        reply_form=form,
        preview=preview,
        status=200 if preview is not None else refusal_status(form),
    )


@login_required
def thread_edit(request, pk: int):
    thread = _get_thread(request, pk)
    permissions.check_edit_thread(request.user, thread)
    kinds = _kinds_for(request.user)
    if (
        thread.kind == Thread.Kind.ANNOUNCEMENT
        and (thread.kind, thread.get_kind_display()) not in kinds
    ):
        kinds.append((thread.kind, thread.get_kind_display()))
    initial = {
        "title": thread.title,
        "kind": thread.kind,
        "tags": ", ".join(t.name for t in thread.tags.all()),
    }
    form = ThreadEditForm(
        request.POST or None,
        kinds=kinds,
        initial=initial,
        needs_reason=thread.author_id != request.user.pk,
    )
    profile = getattr(thread, "profile", None)
    profile_initial = {}
    if profile is not None:
        profile_initial = {
            f: getattr(profile, f) for f in ProjectProfileForm.base_fields if f != "organisation"
        }
        profile_initial["organisation"] = profile.organisation_id
    profile_form = ProjectProfileForm(
        request.POST or None, prefix="profile", initial=profile_initial
    )
    if request.method == "POST":
        wants_profile = request.POST.get("kind") == Thread.Kind.EXPERIENCE
        if form.is_valid() and (not wants_profile or profile_form.is_valid()):
            try:
                threads.thread_update(
                    request.user,
                    thread=thread,
                    title=form.cleaned_data["title"],
                    tags=form.cleaned_data["tags"],
                    kind=form.cleaned_data["kind"],
                    profile=profile_form.to_data() if wants_profile else None,
                    reason=form.cleaned_data.get("reason", ""),
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Das Thema wurde geändert."))
                return redirect(thread_for_url(thread.pk))
    return render(
        request,
        "forum/thread_edit.html",
        {"thread": thread, "form": form, "profile_form": profile_form},
        status=400 if request.method == "POST" else 200,
    )


def thread_for_url(pk: int) -> Thread:
    return Thread.objects.only("pk", "slug").get(pk=pk)


@login_required
def post_edit(request, pk: int):
    post = _get_post(request, pk)
    permissions.check_edit_post(request.user, post)
    needs_reason = post.author_id != request.user.pk
    form = PostEditForm(
        request.POST or None, initial={"body": post.body}, needs_reason=needs_reason
    )
    preview = None
    if request.method == "POST":
        if "preview" in request.POST:
            preview = render_markdown(request.POST.get("body", ""))
        elif form.is_valid():
            try:
                post = posts.post_edit(
                    request.user,
                    post=post,
                    body=form.cleaned_data["body"],
                    reason=form.cleaned_data.get("reason", ""),
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Ihr Beitrag wurde gespeichert."))
                return redirect(post.get_absolute_url())
    return render(
        request,
        "forum/post_edit.html",
        {"post": post, "form": form, "preview": preview},
        status=refusal_status(form) if request.method == "POST" and preview is None else 200,
    )


def post_history(request, pk: int):
    post = _get_post(request, pk)
    if post.is_deleted and not is_moderator(request.user):
        raise Http404
    return render(
        request,
        "forum/post_history.html",
        {"post": post, "revisions": selectors.post_revisions(post)},
    )


@require_POST
@login_required
def post_delete(request, pk: int):
    post = _get_post(request, pk)
    posts.post_delete(request.user, post=post)
    messages.success(request, _("Der Beitrag wurde gelöscht. Ein Hinweis bleibt im Thema stehen."))
    return redirect(post.get_absolute_url())


@require_POST
@login_required
def post_restore(request, pk: int):
    post = _get_post(request, pk)
    posts.post_restore(request.user, post=post)
    messages.success(request, _("Der Beitrag wurde wiederhergestellt."))
    return redirect(post.get_absolute_url())


@require_POST
@login_required
def post_react(request, pk: int):
    post = _get_post(request, pk)
    marked = posts.reaction_toggle(request.user, post=post)
    if request.headers.get("Accept") == "application/json":
        post.refresh_from_db(fields=["helpful_count"])
        return JsonResponse({"marked": marked, "count": post.helpful_count})
    return redirect(post.get_absolute_url())


@require_POST
@login_required
def answer_accept(request, pk: int):
    post = _get_post(request, pk)
    try:
        threads.answer_accept(request.user, post=post)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Die Antwort ist als Lösung markiert."))
    return redirect(post.thread)


@require_POST
@login_required
def answer_withdraw(request, pk: int):
    thread = _get_thread(request, pk)
    threads.answer_withdraw(request.user, thread=thread)
    messages.success(request, _("Die Markierung als Lösung wurde zurückgenommen."))
    return redirect(thread)


@login_required
def summary_edit(request, pk: int):
    thread = _get_thread(request, pk)
    permissions.check_edit_summary(request.user, thread)
    form = SummaryForm(request.POST or None, initial={"summary": thread.summary})
    preview = None
    if request.method == "POST":
        if "preview" in request.POST:
            preview = render_markdown(request.POST.get("summary", ""))
        elif form.is_valid():
            try:
                threads.summary_set(
                    request.user, thread=thread, summary=form.cleaned_data["summary"]
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("Das Ergebnis wurde gespeichert."))
                return redirect(thread)
    return render(
        request, "forum/summary_edit.html", {"thread": thread, "form": form, "preview": preview}
    )


@require_POST
@login_required
def thread_follow(request, pk: int):
    thread = _get_thread(request, pk)
    level = request.POST.get("level", "")
    if level not in Level.values:
        messages.error(request, _("Unbekannte Stufe."))
    else:
        following.follow_set(request.user, target=thread, level=level)
        messages.success(request, _("Gespeichert: %(level)s.") % {"level": Level(level).label})
    return redirect(thread)


@require_POST
@login_required
def thread_bookmark(request, pk: int):
    thread = _get_thread(request, pk)
    post = None
    if number := request.POST.get("post"):
        post = thread.posts.filter(number=int(number) if number.isdigit() else 0).first()
        if post is None:
            raise Http404
    marked = following.bookmark_toggle(request.user, thread=thread, post=post)
    messages.success(request, _("Lesezeichen gesetzt.") if marked else _("Lesezeichen entfernt."))
    return redirect(post.get_absolute_url() if post else thread.get_absolute_url())


@require_POST
def markdown_preview(request):
    """The composer's live preview (progressive enhancement): sanitised HTML for a text."""
    if not request.user.is_authenticated:
        return HttpResponse(status=403)
    return HttpResponse(
        render_markdown(request.POST.get("body", "")[:30000]),
        content_type="text/html; charset=utf-8",
    )


def attachment_download(request, pk: int, name: str):
    """Serve an attachment with the thread's visibility and a safe Content-Disposition."""
    attachment = selectors.attachment_with_thread(pk)
    if attachment is None or attachment.original_name != name:
        raise Http404
    post = attachment.post
    permissions.check_view_thread(request.user, post.thread)
    if (post.is_deleted or post.is_hidden) and not is_moderator(request.user):
        raise Http404
    # A post waiting for approval is seen by its author and the moderation only: so is its file.
    if post.is_held and not (
        is_moderator(request.user)
        or (request.user.is_authenticated and post.author_id == request.user.pk)
    ):
        raise Http404
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle,
        as_attachment=not attachment.is_image,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    # The file is never interpreted as a page of this site, whatever is inside it.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


@require_safe
def thread_new_posts(request, pk: int):
    """Replies after ``?nach=N``: ``format=anzahl`` answers {"count", "last"} (what visitors
    poll), otherwise the posts as HTML to insert in place, rendered with the reader's
    permissions like the thread page."""
    thread = _get_thread(request, pk)
    after = request.GET.get("nach", "")
    after = int(after) if after.isdigit() else thread.last_number
    if request.GET.get("format") == "anzahl":
        return JsonResponse(
            {"count": max(thread.last_number - after, 0), "last": thread.last_number}
        )
    posts = selectors.posts_after(thread, request.user, after)
    is_mod = is_moderator(request.user)
    fragments.attach_content_html(posts, show_hidden=is_mod)
    if posts and request.user.is_authenticated:
        following.read_mark(request.user, thread=thread, number=posts[-1].number)
        notifications.notifications_mark_read(request.user, thread=thread)
    return render(
        request,
        "forum/includes/new_posts.html",
        {
            "thread": thread,
            "posts": posts,
            "personal": selectors.personal_state(request.user, thread),
            "can_accept": permissions.can_accept_answer(request.user, thread),
            "is_mod": is_mod,
            "levels": Level.choices,
            "csrf_once": get_token(request) if request.user.is_authenticated else "",
        },
    )
