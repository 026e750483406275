"""Keeping the search documents in step with the forum.

``schedule_index(thread_id)`` is called (through signals, see signals.py) whenever a thread,
one of its posts, its tags or its project profile changes; the document is rebuilt after the
transaction commits, so a rolled-back write never reaches the index. ``rebuild()`` (command
``search_rebuild``) rebuilds everything, e.g. after bulk imports or a new compound lexicon.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Sequence

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch
from django.utils import translation

from forum.models import Post, SearchDocument, Thread

from . import analysis
from .backends import backend

log = logging.getLogger(__name__)

_TAG_RE = re.compile(r"<[^>]+>")
_SPACE_RE = re.compile(r"[ \t\r\f\v]+")
BATCH = 100


def plain_text(stored_html: str) -> str:
    """Text of stored, sanitised HTML: tags become spaces, entities characters."""
    text = html.unescape(_TAG_RE.sub(" ", stored_html or ""))
    return _SPACE_RE.sub(" ", text).strip()


def _extra(text: str) -> str:
    """The compound parts of a text's words, each once: indexed beside the text itself."""
    return " ".join(analysis.compound_parts(dict.fromkeys(analysis.words(text))))


def _profile_text(thread: Thread) -> str:
    profile = getattr(thread, "profile", None)
    if profile is None:
        return ""
    fields = [
        profile.get_programme_display(),
        profile.programme_detail,
        profile.get_status_display(),
        profile.partners,
        profile.results,
        profile.lessons_learned,
    ]
    return "\n".join(str(f) for f in fields if f)


def document_for(thread: Thread) -> SearchDocument:
    """The document of a thread whose tags, profile and visible posts are prefetched."""
    title = "\n".join([thread.title, *sorted(tag.name for tag in thread.tags.all())])
    summary = "\n".join(t for t in (plain_text(thread.summary_html), _profile_text(thread)) if t)
    body = "\n\n".join(plain_text(post.body_html) for post in thread.indexed_posts)
    return SearchDocument(
        thread_id=thread.pk,
        title=title,
        title_extra=_extra(title),
        summary=summary,
        summary_extra=_extra(summary),
        body=body,
        body_extra=_extra(body),
    )


def _threads(ids: Iterable[int]):
    visible_posts = (
        Post.objects.filter(is_deleted=False, is_hidden=False, is_held=False)
        .only("thread_id", "body_html")
        .order_by("number")
    )
    return (
        Thread.objects.filter(pk__in=list(ids))
        .select_for_update(of=("self",))
        .select_related("profile")
        .prefetch_related("tags", Prefetch("posts", visible_posts, to_attr="indexed_posts"))
    )


def index_threads(ids: Sequence[int]) -> int:
    """Rebuild the documents of these threads (deleted threads lose theirs). Returns how many
    documents were written."""
    ids = list(dict.fromkeys(ids))
    written = 0
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        # The index holds German labels (programme, status) whatever language the person
        # whose write triggered the job reads; the row lock orders two jobs for one thread.
        with transaction.atomic(), translation.override(settings.LANGUAGE_CODE):
            documents = []
            for thread in _threads(chunk):
                try:
                    documents.append(document_for(thread))
                except Exception:
                    log.exception("Suchindex: Thema %s übersprungen", thread.pk)
            present = [d.thread_id for d in documents]
            SearchDocument.objects.filter(thread_id__in=set(chunk) - set(present)).delete()
            SearchDocument.objects.bulk_create(
                documents,
                update_conflicts=True,
                unique_fields=["thread"],
                update_fields=[
                    "title",
                    "title_extra",
                    "summary",
                    "summary_extra",
                    "body",
                    "body_extra",
                    "indexed_at",
                ],
            )
            backend().write(present)
            written += len(documents)
    return written


def index_thread(thread_id: int) -> None:
    index_threads([thread_id])


class _IndexJob:
    """An after-commit job for one thread; equal jobs are scheduled once per transaction."""

    def __init__(self, thread_id: int) -> None:
        self.thread_id = thread_id
        # Django names a failed robust hook by its __qualname__.
        self.__qualname__ = self.__name__ = f"index_thread({thread_id})"

    def __eq__(self, other) -> bool:
        return isinstance(other, _IndexJob) and other.thread_id == self.thread_id

    def __hash__(self) -> int:
        return hash(self.thread_id)

    def __call__(self) -> None:
        # The write is committed; a failing index must not turn it into an error page or keep
        # the other after-commit hooks (live events, mails) from running.
        try:
            index_thread(self.thread_id)
        except Exception:
            log.exception("Suchindex für Thema %s nicht aktualisiert", self.thread_id)


def schedule_index(thread_id: int | None, *, using: str = "default") -> None:
    """Re-index a thread after the current transaction commits (at once outside of one)."""
    if thread_id is None:
        return
    job = _IndexJob(thread_id)
    # A post_create saves the post, the thread and maybe tags: one rebuild is enough. An earlier
    # job only counts if it cannot be rolled back without this one (its savepoints enclose us).
    active = set(connection.savepoint_ids)
    for savepoints, callback, _ in connection.run_on_commit:
        if callback == job and set(savepoints) <= active:
            return
    transaction.on_commit(job, using=using, robust=True)


def search_index_incomplete() -> bool:
    return Thread.objects.filter(search_document__isnull=True).exists()


def rebuild() -> int:
    """Rebuild every document; returns how many threads were indexed."""
    # Documents of deleted threads go with them (on_delete=CASCADE; on SQLite a trigger
    # removes the FTS5 row too), so rebuilding every thread is a complete rebuild.
    return index_threads(list(Thread.objects.order_by("pk").values_list("pk", flat=True)))
