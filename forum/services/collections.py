"""Collections (Sammlungen): curated by moderators, every change recorded in the audit log."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from forum import permissions
from forum.markdown import render_markdown
from forum.models import Collection, CollectionEntry, CollectionFollow, Kind, Post, Thread
from forum.services import notifications
from forum.services.audit import audit_record
from forum.services.moderation import check_moderate
from forum.services.tags import tags_get_or_create
from forum.services.threads import clean_tags
from forum.text import clean_line, german_slug, strip_control_characters


def _title(title: str) -> str:
    title = clean_line(title)
    if len(title) < 5:
        raise ValidationError(
            {"title": _("Bitte geben Sie der Sammlung einen Titel (mindestens 5 Zeichen).")}
        )
    return title[:200]


def _unique_slug(title: str) -> str:
    base = german_slug(title, max_length=80)
    slug, n = base, 2
    while Collection.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def collection_create(
    actor: User, *, title: str, intro: str = "", visibility: str = "public", tags=None
) -> Collection:
    check_moderate(actor)
    title = _title(title)
    if visibility not in Collection.Visibility.values:
        raise ValidationError({"visibility": _("Bitte wählen Sie, wer die Sammlung lesen darf.")})
    with transaction.atomic():
        collection = Collection.objects.create(
            title=title,
            slug=_unique_slug(title),
            intro=strip_control_characters(intro).strip(),
            intro_html=render_markdown(intro) if intro.strip() else "",
            visibility=visibility,
            created_by=actor,
        )
        if tags:
            collection.tags.set(tags_get_or_create(clean_tags(tags)))
        audit_record(actor, action="collection.created", target=collection, new={"title": title})
    return collection


def collection_add_thread(
    actor: User,
    *,
    collection: Collection,
    thread: Thread,
    note: str = "",
    review_by: date | None = None,
) -> CollectionEntry:
    """Add a thread as the last chapter. Its key post is the accepted answer until a
    moderator chooses another."""
    check_moderate(actor)
    with transaction.atomic():
        collection = Collection.objects.select_for_update().get(pk=collection.pk)
        thread = Thread.objects.get(pk=thread.pk)  # the current accepted answer and state
        if collection.entries.filter(thread=thread).exists():
            raise ValidationError(_("Dieses Thema ist schon in der Sammlung."))
        if thread.is_hidden or thread.is_held:
            raise ValidationError(_("Ein ausgeblendetes Thema kann nicht in eine Sammlung."))
        last = collection.entries.aggregate(m=Max("position"))["m"] or 0
        entry = CollectionEntry.objects.create(
            collection=collection,
            thread=thread,
            position=last + 1,
            note=strip_control_characters(note).strip(),
            note_html=render_markdown(note) if note.strip() else "",
            key_post_id=thread.accepted_post_id,
            review_by=review_by,
            added_by=actor,
        )
        audit_record(
            actor,
            action="collection.thread_added",
            target=collection,
            new={"thread": thread.pk, "title": thread.title},
        )
        if collection.is_published:
            _notify_authors(collection, [entry], actor)
            _notify_followers(collection, actor, thread=thread)
    return entry


def collection_entry_update(
    actor: User, *, entry: CollectionEntry, note: str, key_post_number: int | None, review_by
) -> CollectionEntry:
    check_moderate(actor)
    with transaction.atomic():
        entry = (
            CollectionEntry.objects.select_for_update(of=("self",))
            .select_related("thread")
            .get(pk=entry.pk)
        )
        key_post = None
        if key_post_number:
            key_post = Post.objects.filter(
                thread=entry.thread,
                number=key_post_number,
                is_deleted=False,
                is_hidden=False,
                is_held=False,
            ).first()
            if key_post is None:
                raise ValidationError(
                    {"key_post": _("Einen Beitrag mit dieser Nummer gibt es in dem Thema nicht.")}
                )
        entry.note = strip_control_characters(note).strip()
        entry.note_html = render_markdown(note) if note.strip() else ""
        entry.key_post = key_post or (Post.objects.filter(pk=entry.thread.accepted_post_id).first())
        entry.review_by = review_by
        entry.save(update_fields=["note", "note_html", "key_post", "review_by"])
        audit_record(actor, action="collection.entry_changed", target=entry.collection)
    return entry


def collection_move_entry(actor: User, *, entry: CollectionEntry, direction: str) -> None:
    """Swap a chapter with its neighbour ("up" or "down")."""
    check_moderate(actor)
    with transaction.atomic():
        entries = list(
            CollectionEntry.objects.select_for_update()
            .filter(collection_id=entry.collection_id)
            .order_by("position", "pk")
        )
        index = next(i for i, e in enumerate(entries) if e.pk == entry.pk)
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(entries):
            return
        entries[index], entries[other] = entries[other], entries[index]
        for position, item in enumerate(entries, start=1):
            if item.position != position:
                CollectionEntry.objects.filter(pk=item.pk).update(position=position)
        audit_record(
            actor,
            action="collection.reordered",
            target=entry.collection,
            new={"order": [e.thread_id for e in entries]},
        )


def collection_remove_entry(actor: User, *, entry: CollectionEntry) -> None:
    check_moderate(actor)
    with transaction.atomic():
        audit_record(
            actor,
            action="collection.thread_removed",
            target=entry.collection,
            old={"thread": entry.thread_id},
        )
        entry.delete()


def collection_set_status(actor: User, *, collection: Collection, status: str) -> Collection:
    """Draft → reviewed → published (and back). Publishing sets the "Stand" date and tells the
    authors whose threads are included."""
    check_moderate(actor)
    if status not in Collection.Status.values:
        raise ValidationError(_("Unbekannter Stand."))
    with transaction.atomic():
        collection = Collection.objects.select_for_update().get(pk=collection.pk)
        old = collection.status
        if old == status:
            return collection
        collection.status = status
        if status == Collection.Status.PUBLISHED:
            collection.published_at = timezone.now()
            collection.stand_date = timezone.localdate()
        collection.save(update_fields=["status", "published_at", "stand_date", "updated_at"])
        audit_record(
            actor,
            action="collection.status",
            target=collection,
            old={"status": old},
            new={"status": status},
        )
        if status == Collection.Status.PUBLISHED:
            _notify_authors(
                collection,
                list(collection.entries.select_related("thread__author", "thread__category")),
                actor,
            )
            _notify_followers(collection, actor)
    return collection


def _notify_authors(collection: Collection, entries: list[CollectionEntry], actor: User) -> None:
    """Each author hears once that their thread is in the collection (one notice per thread:
    the notice links to it). Marked in one update, not per chapter."""
    pending = [entry for entry in entries if not entry.author_notified]
    for entry in pending:
        notifications.on_collected(entry.thread, collection_title=collection.title, actor=actor)
    if pending:
        CollectionEntry.objects.filter(pk__in=[e.pk for e in pending]).update(author_notified=True)


def _notify_followers(collection: Collection, actor: User, *, thread: Thread | None = None) -> None:
    """People following the collection hear of its publication or a new chapter, if they
    may read it (a member-only collection is not announced to visitors' accounts)."""
    followers = list(
        User.objects.filter(
            pk__in=CollectionFollow.objects.filter(collection=collection).values("user_id")
        )
    )
    if collection.visibility == Collection.Visibility.PUBLIC:
        readers = [u for u in followers if u.is_active]
    else:
        moderators = notifications._moderator_ids(u.pk for u in followers)
        readers = [u for u in followers if u.is_approved_member or u.pk in moderators]
    if readers:
        notifications.notify(
            readers,
            kind=Kind.COLLECTION_UPDATE,
            thread=thread,
            actor=actor,
            data={
                "collection": collection.title,
                "slug": collection.slug,
                "event": "chapter" if thread is not None else "published",
            },
        )


def collection_follow_toggle(actor: User, *, collection: Collection) -> bool:
    """Follow a collection, or stop following it. Returns whether the person now follows."""
    if not permissions.can_follow(actor):
        raise PermissionDenied(_("Bitte melden Sie sich an, um einer Sammlung zu folgen."))
    permissions.check_view_collection(actor, collection)
    with transaction.atomic():
        deleted, _details = CollectionFollow.objects.filter(
            user=actor, collection=collection
        ).delete()
        if deleted:
            return False
        CollectionFollow.objects.get_or_create(user=actor, collection=collection)
        return True


def collection_for_reader(user, slug: str):
    """The collection with its chapters, key posts, authors and organisations, or 404."""
    from django.http import Http404

    collection = Collection.objects.filter(slug=slug).first()
    if collection is None:
        raise Http404
    permissions.check_view_collection(user, collection)
    entries = list(
        collection.entries.select_related(
            "thread__category",
            "thread__organisation",
            "thread__author__organisation",
            "key_post__author__organisation",
        ).order_by("position", "pk")
    )
    # A chapter whose thread the reader may not read is left out (moved to a closed area).
    readable = set(
        permissions.visible_threads(user)
        .filter(pk__in=[e.thread_id for e in entries])
        .values_list("pk", flat=True)
    )
    entries = [e for e in entries if e.thread_id in readable]
    today = timezone.localdate()
    for entry in entries:
        entry.overdue = bool(entry.review_by and entry.review_by < today)
    return collection, entries
