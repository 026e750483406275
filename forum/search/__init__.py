"""Full-text search over threads: one interface, a backend per database.

Reading: ``search_threads`` (the search page) and ``similar_threads`` (while composing).
Writing: ``documents.schedule_index`` after commit (signals.py), ``documents.rebuild``.
Both go through the same visibility rules as the thread pages (``visible_threads``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.utils.safestring import SafeString

from forum.models import SearchDocument, Thread

from . import highlight
from .backends import backend
from .query import AnyOf, ParsedQuery, Word, parse

RESULTS_PER_PAGE = 20
SIMILAR_LIMIT = 5
SIMILAR_MIN_SHARE = 0.25
RESULT_FIELDS = (
    "title",
    "slug",
    "kind",
    "post_count",
    "created_at",
    "last_activity_at",
    "accepted_post_id",
    "is_hidden",
    "category__name",
    "category__slug",
    "organisation__name",
    "organisation__slug",
)


@dataclass
class Hit:
    thread: Thread
    rank: float
    title: SafeString
    snippet: SafeString | None


class _Hits:
    """The matching threads as a sequence the Paginator can count and slice lazily: the count
    is one query, a page is one ranked id query plus one for its rows and one for its texts."""

    def __init__(self, query: ParsedQuery, threads: QuerySet, *, newest: bool) -> None:
        self.query = query
        self.threads = threads
        self.newest = newest
        self.pattern = highlight.pattern_for(query.stems())

    @cached_property
    def _count(self) -> int:
        return backend().count(self.query, self.threads)

    def count(self) -> int:
        return self._count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):
        if not isinstance(index, slice):
            raise TypeError("search results are read page by page")
        offset = index.start or 0
        limit = (index.stop or offset + RESULTS_PER_PAGE) - offset
        ranked = backend().match(
            self.query, self.threads, offset=offset, limit=limit, newest=self.newest
        )
        return hits_for(ranked, self.pattern)


def _result_rows(ids: list[int]) -> dict[int, Thread]:
    rows = (
        Thread.objects.filter(pk__in=ids)
        .select_related("category", "organisation")
        .only(*RESULT_FIELDS)
        .prefetch_related("tags")
    )
    return {thread.pk: thread for thread in rows}


def hits_for(ranked: list[tuple[int, float]], pattern) -> list[Hit]:
    ids = [pk for pk, _ in ranked]
    threads = _result_rows(ids)
    documents = {
        d.thread_id: d
        for d in SearchDocument.objects.filter(thread_id__in=ids).only(
            "thread_id", "summary", "body"
        )
    }
    hits = []
    for pk, rank in ranked:
        thread = threads.get(pk)
        if thread is None:  # deleted between the two queries
            continue
        document = documents.get(pk)
        text = ""
        found = None
        if document is not None:
            found = highlight.snippet(document.body, pattern) or highlight.snippet(
                document.summary, pattern
            )
            text = document.summary or document.body
        if found is None and text:
            found = highlight.excerpt(text, pattern)
        hits.append(Hit(thread, rank, highlight.mark(thread.title, pattern), found))
    return hits


def search_threads(threads: QuerySet, raw_query: str, page_number, *, newest: bool = False):
    """A page of hits among ``threads`` (visible and filtered by the caller) for a query.

    Returns (parsed query, page). Without search terms the page is None: the caller lists the
    filtered threads instead.
    """
    query = parse(raw_query)
    if not query:
        return query, None
    paginator = Paginator(_Hits(query, threads, newest=newest), RESULTS_PER_PAGE)
    page: Page = paginator.get_page(page_number)
    return query, page


def browse_threads(threads: QuerySet, page_number) -> Page:
    """Filtered threads without search terms, newest activity first, shown like hits."""
    ids = threads.order_by("-last_activity_at", "-pk").values_list("pk", flat=True)
    page = Paginator(ids, RESULTS_PER_PAGE).get_page(page_number)
    page.object_list = hits_for([(pk, 0.0) for pk in page.object_list], None)
    return page


def similar_threads(threads: QuerySet, title: str, limit: int = SIMILAR_LIMIT) -> list[Hit]:
    """Threads whose text shares words with a title being typed, best first: any word may
    match (an OR of the title's words), so a new question finds older answers."""
    parsed = parse(title)
    if not parsed.must:
        return []
    alternatives = []
    for node in parsed.must:
        options = node.options if isinstance(node, AnyOf) else (node,)
        # Two-letter words ("ab", "zu") say nothing about the subject.
        alternatives.extend(o for o in options if not (isinstance(o, Word) and len(o.text) < 3))
    if not alternatives:
        return []
    query = ParsedQuery(raw=title, must=[AnyOf(tuple(dict.fromkeys(alternatives)))])
    ranked = backend().match(query, threads, offset=0, limit=limit, newest=False)
    # Threads that share only a side word with the best match are noise, not suggestions.
    if ranked:
        best = ranked[0][1]
        ranked = [(pk, rank) for pk, rank in ranked if rank >= best * SIMILAR_MIN_SHARE]
    return hits_for(ranked, highlight.pattern_for(query.stems()))
