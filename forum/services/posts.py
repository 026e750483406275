"""Writing posts: create, edit with history, soft delete and restore, reactions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.permissions import is_moderator
from forum import permissions
from forum.events import send_event_on_commit, thread_group
from forum.markdown import link_mentions, mentioned_handles, render_markdown
from forum.models import (
    POST_MAX_LENGTH,
    Attachment,
    Kind,
    Post,
    PostMention,
    PostRevision,
    Reaction,
    Thread,
)
from forum.services import notifications
from forum.services.audit import audit_record
from forum.services.following import _auto_watch
from forum.text import strip_control_characters
from forum.uploads import check_upload, safe_filename


def _clean_body(body: str) -> str:
    body = strip_control_characters(body).replace("\r\n", "\n").strip()
    if not body:
        raise ValidationError({"body": _("Bitte schreiben Sie einen Text.")})
    if len(body) > POST_MAX_LENGTH:
        raise ValidationError(
            {
                "body": _(
                    "Der Text ist mit %(length)s Zeichen zu lang; erlaubt sind %(max)s. "
                    "Teilen Sie ihn bitte auf oder hängen Sie ein Dokument an."
                )
                % {"length": len(body), "max": POST_MAX_LENGTH}
            }
        )
    return body


def render_post_body(body: str) -> tuple[str, list[User]]:
    """Sanitised HTML with @mentions linked, and the people mentioned: active members and
    those who left (still named; their successor hears of it, accounts/turnover.py)."""
    handles = mentioned_handles(body)
    present = Q(is_active=True) | Q(departed_at__isnull=False, erased_at__isnull=True)
    users = (
        list(User.objects.annotate(h=Lower("handle")).filter(present, h__in=handles))
        if handles
        else []
    )
    html = link_mentions(render_markdown(body), {u.handle.lower(): u.handle for u in users})
    return html, users


def _record_mentions(post: Post, users: list[User]) -> None:
    PostMention.objects.filter(post=post).exclude(user__in=users).delete()
    PostMention.objects.bulk_create(
        [PostMention(post=post, user=u) for u in users if u.pk != post.author_id],
        ignore_conflicts=True,
    )


@dataclass
class NewAttachment:
    file: UploadedFile
    alt_text: str = ""


def _attach(post: Post, actor: User, new: NewAttachment) -> Attachment:
    """Store an upload for a post after checking its content (not only its name)."""
    file_type = check_upload(new.file)
    alt_text = " ".join(new.alt_text.split())
    if file_type.is_image and not alt_text:
        raise ValidationError(
            {"attachment_alt": _("Bitte beschreiben Sie das Bild in einem Alternativtext.")}
        )
    attachment = Attachment(
        post=post,
        uploaded_by=actor,
        original_name=safe_filename(new.file.name),
        content_type=file_type.content_type,
        size=new.file.size,
        is_image=file_type.is_image,
        alt_text=alt_text[:300],
    )
    attachment.file.save(attachment.original_name, new.file, save=False)
    attachment.save()
    Post.objects.filter(pk=post.pk).update(has_attachments=True)
    post.has_attachments = True
    return attachment


def _add_post(
    thread: Thread,
    author: User,
    body: str,
    client_token: uuid.UUID | None,
    *,
    held: bool = False,
) -> Post:
    """Append a post to a locked thread row (the caller holds select_for_update). A held post
    takes its number but does not count as activity until it is approved."""
    html, mentioned = render_post_body(body)
    number = thread.last_number + 1
    post = Post.objects.create(
        thread=thread,
        number=number,
        author=author,
        body=body,
        body_html=html,
        client_token=client_token or uuid.uuid4(),
        is_held=held,
    )
    _record_mentions(post, mentioned)
    post.mentioned_users = mentioned  # for the notifications the caller sends
    thread.last_number = number
    if held:
        Thread.objects.filter(pk=thread.pk).update(last_number=number)
        return post
    now = timezone.now()
    Thread.objects.filter(pk=thread.pk).update(
        last_number=number, post_count=F("post_count") + 1, last_activity_at=now, last_poster=author
    )
    thread.post_count += 1
    thread.last_activity_at, thread.last_poster = now, author
    return post


# Posting limits against runaway scripts and copy-paste floods (settings FORUM_POSTS_PER_MINUTE,
# FORUM_THREADS_PER_HOUR); moderators are exempt.


# The code of a refusal by a rate limit: views answer it with 429 and the form as it was sent.
RATE_LIMITED = "rate_limited"


def check_post_rate(actor: User, *, new_thread: bool = False) -> None:
    """Refuse a post or thread beyond the limits, with a message that says what to do."""
    if is_moderator(actor):
        return
    now = timezone.now()
    recent = Post.objects.filter(author=actor, created_at__gte=now - timedelta(minutes=1))
    if recent.count() >= settings.FORUM_POSTS_PER_MINUTE:
        raise ValidationError(
            _(
                "Sie haben in der letzten Minute schon mehrere Beiträge geschrieben. Bitte warten "
                "Sie einen Moment und senden Sie dann erneut; Ihr Text bleibt erhalten."
            ),
            code=RATE_LIMITED,
        )
    if new_thread:
        threads = Thread.objects.filter(author=actor, created_at__gte=now - timedelta(hours=1))
        if threads.count() >= settings.FORUM_THREADS_PER_HOUR:
            raise ValidationError(
                _(
                    "Sie haben in der letzten Stunde schon viele Themen begonnen. Bitte versuchen "
                    "Sie es später noch einmal; Ihr Text bleibt erhalten."
                ),
                code=RATE_LIMITED,
            )


def needs_approval(actor: User) -> bool:
    """A new member's first FORUM_HOLD_FIRST_POSTS posts wait for a moderator (0: none do)."""
    limit = settings.FORUM_HOLD_FIRST_POSTS
    if limit <= 0 or is_moderator(actor):
        return False
    published = Post.objects.filter(author=actor, is_held=False, is_deleted=False)
    return published.count() < limit


def post_create(
    actor: User,
    *,
    thread: Thread,
    body: str,
    client_token: uuid.UUID | None = None,
    attachment: NewAttachment | None = None,
) -> Post:
    """Reply to a thread. The same client token twice returns the first post (double submit)."""
    body = _clean_body(body)
    if client_token is not None:
        existing = Post.objects.filter(author=actor, client_token=client_token).first()
        if existing is not None:
            return existing
    check_post_rate(actor)
    try:
        with transaction.atomic():
            # FOR NO KEY UPDATE of the thread row alone: it serialises the numbering, yet lets
            # other transactions check their foreign keys to the thread (FOR KEY SHARE) meanwhile.
            # A plain FOR UPDATE blocked those checks, and a mail task that had locked a
            # notification this reply was about to update ended in a deadlock.
            thread = (
                Thread.objects.select_for_update(no_key=True, of=("self",))
                .select_related("category")
                .get(pk=thread.pk)
            )
            permissions.check_reply(actor, thread)
            held = needs_approval(actor)
            post = _add_post(thread, actor, body, client_token, held=held)
            if attachment is not None:
                _attach(post, actor, attachment)
            _auto_watch(actor, thread)
            if held:
                return post  # told and pushed when a moderator approves it
            notifications.on_post_created(post, mentioned=post.mentioned_users, is_first=False)
            send_event_on_commit(
                thread_group(thread.pk),
                "post.created",
                {"thread": thread.pk, "number": post.number},
            )
    except IntegrityError:
        # Two submits raced past the first check: the other one won; return its post.
        existing = Post.objects.filter(author=actor, client_token=client_token).first()
        if existing is None:
            raise
        return existing
    return post


def post_edit(actor: User, *, post: Post, body: str, reason: str = "") -> Post:
    """Change a post's text; the previous text is kept as a revision. A moderator editing
    someone else's post gives a reason, which its author receives."""
    body = _clean_body(body)
    with transaction.atomic():
        post = Post.objects.select_for_update().select_related("thread__category").get(pk=post.pk)
        permissions.check_edit_post(actor, post)
        if actor.pk != post.author_id:
            from forum.services.moderation import _reason

            reason = _reason(reason)
        if body == post.body:
            return post
        PostRevision.objects.create(
            post=post, body=post.body, body_html=post.body_html, edited_by=actor
        )
        html, mentioned = render_post_body(body)
        already = set(PostMention.objects.filter(post=post).values_list("user_id", flat=True))
        post.body, post.body_html = body, html
        post.edited_at = timezone.now()
        post.edit_count = F("edit_count") + 1
        post.save(update_fields=["body", "body_html", "edited_at", "edit_count"])
        post.refresh_from_db(fields=["edit_count"])
        _record_mentions(post, mentioned)
        notifications.on_mentions_added(
            post, [u for u in mentioned if u.pk not in already and u.pk != post.author_id], actor
        )
        if actor.pk != post.author_id:
            entry = audit_record(
                actor,
                action="post.edited",
                target=post,
                old={"body": post.revisions.values_list("body", flat=True).first()},
                new={"body": body},
                reason=reason,
            )
            notifications.on_moderated(
                post, actor=actor, action=_("bearbeitet"), reason=reason, audit=entry.pk
            )
    return post


def post_delete(actor: User, *, post: Post) -> Post:
    """Soft delete: a placeholder stays so the thread keeps its meaning."""
    with transaction.atomic():
        post = Post.objects.select_for_update().select_related("thread__category").get(pk=post.pk)
        permissions.check_delete_post(actor, post)
        post.is_deleted, post.deleted_at, post.deleted_by = True, timezone.now(), actor
        post.save(update_fields=["is_deleted", "deleted_at", "deleted_by"])
        thread = post.thread
        if thread.accepted_post_id == post.pk:
            Thread.objects.filter(pk=thread.pk).update(accepted_post=None, solved_at=None)
        if actor.pk != post.author_id:
            audit_record(actor, action="post.deleted", target=post)
            notifications.on_moderated(post, actor=actor, action=_("gelöscht"))
    return post


def post_restore(actor: User, *, post: Post) -> Post:
    with transaction.atomic():
        post = Post.objects.select_for_update().select_related("thread__category").get(pk=post.pk)
        if not permissions.can_restore_post(actor, post):
            raise PermissionDenied(_("Nur die Moderation kann Beiträge wiederherstellen."))
        post.is_deleted, post.deleted_at, post.deleted_by = False, None, None
        post.save(update_fields=["is_deleted", "deleted_at", "deleted_by"])
        audit_record(actor, action="post.restored", target=post)
    return post


def reaction_toggle(actor: User, *, post: Post) -> bool:
    """Mark a post helpful, or take it back. Returns whether it is now marked."""
    with transaction.atomic():
        post = Post.objects.select_for_update().select_related("thread__category").get(pk=post.pk)
        permissions.check_react(actor, post)
        deleted, _details = Reaction.objects.filter(post=post, user=actor).delete()
        if deleted:
            Post.objects.filter(pk=post.pk).update(helpful_count=F("helpful_count") - 1)
            return False
        Reaction.objects.create(post=post, user=actor)
        Post.objects.filter(pk=post.pk).update(helpful_count=F("helpful_count") + 1)
        if post.author is not None:
            notifications.notify(
                [post.author], kind=Kind.HELPFUL, thread=post.thread, post=post, actor=actor
            )
        return True
