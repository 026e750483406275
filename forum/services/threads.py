"""Starting and changing threads, accepted answers and result summaries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from forum import permissions
from forum.markdown import render_markdown
from forum.models import Category, Kind, Post, ProjectProfile, Thread
from forum.services import notifications
from forum.services.audit import audit_record
from forum.services.following import _auto_watch
from forum.services.posts import (
    NewAttachment,
    _add_post,
    _attach,
    _clean_body,
    check_post_rate,
    needs_approval,
)
from forum.services.tags import tags_get_or_create
from forum.text import clean_line, german_slug, normalise_tag, strip_control_characters

MAX_TAGS = 5


@dataclass
class ProfileData:
    organisation_id: int | None
    programme: str
    programme_detail: str = ""
    start_month: date | None = None
    end_month: date | None = None
    budget_eur: int | None = None
    funding_share_pct: int | None = None
    status: str = ProjectProfile.Status.RUNNING
    partners: str = ""
    results: str = ""
    lessons_learned: str = ""
    contact: str = ""


def clean_tags(tags: list[str]) -> list[str]:
    result: list[str] = []
    for tag in tags:
        tag = normalise_tag(tag)
        if tag and tag.lower() not in {t.lower() for t in result}:
            result.append(tag)
    if len(result) > MAX_TAGS:
        raise ValidationError(
            {"tags": _("Bitte wählen Sie höchstens %(max)s Schlagwörter.") % {"max": MAX_TAGS}}
        )
    return result


def _clean_title(title: str) -> str:
    title = clean_line(title)
    if len(title) < 8:
        raise ValidationError(
            {
                "title": _(
                    "Bitte formulieren Sie einen aussagekräftigen Titel (mindestens 8 Zeichen)."
                )
            }
        )
    if len(title) > 200:
        raise ValidationError({"title": _("Der Titel darf höchstens 200 Zeichen lang sein.")})
    return title


def _save_profile(thread: Thread, actor: User, data: ProfileData) -> ProjectProfile:
    if data.start_month and data.end_month and data.end_month < data.start_month:
        raise ValidationError({"end_month": _("Das Ende liegt vor dem Beginn.")})
    profile = ProjectProfile(
        thread=thread,
        organisation_id=data.organisation_id or actor.organisation_id,
        programme=data.programme,
        programme_detail=data.programme_detail.strip(),
        start_month=data.start_month,
        end_month=data.end_month,
        budget_eur=data.budget_eur,
        funding_share_pct=data.funding_share_pct,
        status=data.status,
        partners=data.partners.strip(),
        results=data.results.strip(),
        lessons_learned=data.lessons_learned.strip(),
        contact=data.contact.strip(),
    )
    existing = ProjectProfile.objects.filter(thread=thread).first()
    if existing is not None:
        profile.pk = existing.pk
    profile.full_clean(exclude=["thread"])
    profile.save()
    return profile


def thread_create(
    actor: User,
    *,
    category: Category,
    kind: str,
    title: str,
    body: str,
    tags: list[str] | None = None,
    profile: ProfileData | None = None,
    event_start: datetime | None = None,
    event_place: str = "",
    client_token: uuid.UUID | None = None,
    attachment: NewAttachment | None = None,
) -> Thread:
    """Start a thread with its first post. The same client token twice returns the first one."""
    if client_token is not None:
        existing = Post.objects.filter(author=actor, client_token=client_token, number=1).first()
        if existing is not None:
            return existing.thread
    title = _clean_title(title)
    body = _clean_body(body)
    tags = clean_tags(tags or [])
    check_post_rate(actor, new_thread=True)
    if kind not in Thread.Kind.values:
        raise ValidationError({"kind": _("Unbekannte Art.")})
    if kind == Thread.Kind.EXPERIENCE and profile is None:
        raise ValidationError(_("Ein Erfahrungsbericht braucht einen Projektsteckbrief."))
    if kind != Thread.Kind.ANNOUNCEMENT:
        event_start, event_place = None, ""
    with transaction.atomic():
        permissions.check_start_thread(actor, category, kind)
        held = needs_approval(actor)
        now = timezone.now()
        thread = Thread.objects.create(
            is_held=held,
            category=category,
            kind=kind,
            title=title,
            slug=german_slug(title),
            author=actor,
            organisation_id=actor.organisation_id,
            last_activity_at=now,
            last_poster=actor,
            event_start=event_start,
            event_place=event_place.strip(),
        )
        if tags:
            thread.tags.set(tags_get_or_create(tags))
        first = _add_post(thread, actor, body, client_token, held=held)
        if attachment is not None:
            _attach(first, actor, attachment)
        if kind == Thread.Kind.EXPERIENCE:
            _save_profile(thread, actor, profile)
        _auto_watch(actor, thread)
        if not held:  # a held thread is announced when a moderator approves it
            notifications.on_post_created(first, mentioned=first.mentioned_users, is_first=True)
    return thread


def thread_update(
    actor: User,
    *,
    thread: Thread,
    title: str,
    tags: list[str],
    kind: str,
    profile: ProfileData | None = None,
    reason: str = "",
) -> Thread:
    """The author (or a moderator) changes title, tags and kind. A moderator changing someone
    else's thread (retagging it, changing its kind) gives a reason, which its author receives."""
    title = _clean_title(title)
    tags = clean_tags(tags)
    with transaction.atomic():
        thread = Thread.objects.select_for_update().select_related("category").get(pk=thread.pk)
        permissions.check_edit_thread(actor, thread)
        if actor.pk != thread.author_id:
            from forum.services.moderation import _reason

            reason = _reason(reason)
        if kind == Thread.Kind.ANNOUNCEMENT and thread.kind != kind:
            permissions.check_start_thread(actor, thread.category, kind)
        if kind == Thread.Kind.EXPERIENCE and profile is None and not hasattr(thread, "profile"):
            raise ValidationError(_("Ein Erfahrungsbericht braucht einen Projektsteckbrief."))
        old = {"title": thread.title, "kind": thread.kind, "tags": sorted(thread.tags.names())}
        thread.title, thread.slug, thread.kind = title, german_slug(title), kind
        if kind != Thread.Kind.QUESTION and thread.accepted_post_id:
            thread.accepted_post, thread.solved_at = None, None
        if kind != Thread.Kind.ANNOUNCEMENT:
            thread.event_start, thread.event_place = None, ""
        thread.save()
        thread.tags.set(tags_get_or_create(tags), clear=True)
        if kind == Thread.Kind.EXPERIENCE and profile is not None:
            _save_profile(thread, actor, profile)
        new = {"title": title, "kind": kind, "tags": sorted(tags)}
        if actor.pk != thread.author_id and old != new:
            entry = audit_record(
                actor,
                action="thread.changed",
                target=thread,
                target_label=f"„{title}“ (Thema {thread.pk})",
                old=old,
                new=new,
                reason=reason,
            )
            changed = [
                label
                for field, label in (
                    ("title", _("Titel")),
                    ("kind", _("Art")),
                    ("tags", _("Schlagwörter")),
                )
                if old[field] != new[field]
            ]
            notifications.on_thread_moderated(
                thread,
                actor=actor,
                action=_("geändert (%(fields)s)") % {"fields": ", ".join(str(c) for c in changed)},
                reason=reason,
                audit=entry.pk,
            )
    return thread


def answer_accept(actor: User, *, post: Post) -> Thread:
    """Mark a reply as the accepted answer (replacing an earlier choice)."""
    with transaction.atomic():
        thread = (
            Thread.objects.select_for_update().select_related("category").get(pk=post.thread_id)
        )
        permissions.check_accept_answer(actor, thread)
        if post.is_first or post.is_deleted or post.is_hidden:
            raise ValidationError(_("Diese Antwort kann nicht akzeptiert werden."))
        changed = thread.accepted_post_id != post.pk
        thread.accepted_post = post
        thread.solved_at = thread.solved_at or timezone.now()
        thread.save(update_fields=["accepted_post", "solved_at"])
        if changed and post.author is not None:
            notifications.notify(
                [post.author], kind=Kind.ACCEPTED, thread=thread, post=post, actor=actor
            )
    return thread


def answer_withdraw(actor: User, *, thread: Thread) -> Thread:
    with transaction.atomic():
        thread = Thread.objects.select_for_update().select_related("category").get(pk=thread.pk)
        permissions.check_accept_answer(actor, thread)
        thread.accepted_post, thread.solved_at = None, None
        thread.save(update_fields=["accepted_post", "solved_at"])
    return thread


def summary_set(actor: User, *, thread: Thread, summary: str) -> Thread:
    """Write or clear the result summary (Ergebnis) shown above the replies."""
    summary = strip_control_characters(summary).replace("\r\n", "\n").strip()
    if len(summary) > 20000:
        raise ValidationError(
            {"summary": _("Das Ergebnis darf höchstens 20.000 Zeichen lang sein.")}
        )
    with transaction.atomic():
        thread = Thread.objects.select_for_update().select_related("category").get(pk=thread.pk)
        permissions.check_edit_summary(actor, thread)
        had_summary = bool(thread.summary_html)
        thread.summary = summary
        thread.summary_html = render_markdown(summary) if summary else ""
        thread.summary_by = actor if summary else None
        thread.summary_at = timezone.now() if summary else None
        thread.save(update_fields=["summary", "summary_html", "summary_by", "summary_at"])
        if summary and not had_summary:
            notifications.on_summary_added(thread, actor=actor)
    return thread
