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
from taggit.models import TaggedItem

from forum.models import SearchDocument, Thread

from . import analysis, highlight
from .backends import backend
from .query import AllOf, AnyOf, ParsedQuery, Phrase, Word, parse

RESULTS_PER_PAGE = 20
MAX_PAGE = 10_000  # beyond it the Paginator answers with the last page
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
    """The matching threads as a sequence the Paginator can count and slice lazily.

    The ranked page carries the total (a window count), so the page the person asked for costs
    one full-text query; only a page number past the end needs a separate count.
    """

    def __init__(self, query: ParsedQuery, threads: QuerySet, *, newest: bool, page: int) -> None:
        self.query = query
        self.threads = threads
        self.newest = newest
        self.expected_offset = (page - 1) * RESULTS_PER_PAGE
        self.pattern = highlight.pattern_for(query.stems())
        self._pages: dict[tuple[int, int], list[tuple[int, float]]] = {}

    def _ranked(self, offset: int, limit: int) -> list[tuple[int, float]]:
        # The Paginator asks for the last page only up to the total: reuse the page read with
        # the count when it covers the slice.
        for (cached_offset, cached_limit), rows in self._pages.items():
            if cached_offset == offset and (cached_limit >= limit or len(rows) < cached_limit):
                return rows[:limit]
        key = (offset, limit)
        if key not in self._pages:
            rows, total = backend().match(
                self.query, self.threads, offset=offset, limit=limit, newest=self.newest
            )
            self._pages[key] = rows
            if rows or offset == 0:
                self.__dict__.setdefault("_count", total)
        return self._pages[key]

    @cached_property
    def _count(self) -> int:
        self._ranked(self.expected_offset, RESULTS_PER_PAGE)
        if "_count" in self.__dict__:
            return self.__dict__["_count"]
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
        return hits_for(self._ranked(offset, limit), self.pattern)


def _result_rows(ids: list[int]) -> dict[int, Thread]:
    rows = {
        thread.pk: thread
        for thread in Thread.objects.filter(pk__in=ids)
        .select_related("category", "organisation")
        .only(*RESULT_FIELDS)
    }
    # One plain query instead of taggit's prefetch (which builds a queryset per row).
    tags: dict[int, list] = {pk: [] for pk in rows}
    tagged = TaggedItem.objects.filter(
        content_type__app_label="forum", content_type__model="thread", object_id__in=list(rows)
    ).select_related("tag")
    for item in tagged.order_by("tag__name"):
        tags[item.object_id].append(item.tag)
    for pk, thread in rows.items():
        thread.tag_list = tags[pk]
    return rows


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
    try:
        requested = min(max(1, int(page_number or 1)), MAX_PAGE)
    except (TypeError, ValueError):
        requested = 1
    paginator = Paginator(_Hits(query, threads, newest=newest, page=requested), RESULTS_PER_PAGE)
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
    ranked, _ = backend().match(query, threads, offset=0, limit=limit, newest=False)
    # Threads that share only a side word with the best match are noise, not suggestions.
    if ranked:
        best = ranked[0][1]
        ranked = [(pk, rank) for pk, rank in ranked if rank >= best * SIMILAR_MIN_SHARE]
    return hits_for(ranked, highlight.pattern_for(query.stems()))


# --- Collections ------------------------------------------------------------------------------


def _collection_words(collection) -> tuple[list[str], set[str]]:
    from .documents import plain_text

    text = f"{collection.title}\n{plain_text(collection.intro_html)}"
    words = analysis.words(text)
    parts = analysis.compound_parts(words)
    stems = [analysis.stem(w) for w in words]
    return stems, set(stems) | {analysis.stem(p) for p in parts}


def _matches(node, stems: list[str], stem_set: set[str]) -> bool:
    if isinstance(node, Word):
        if node.prefix:
            return any(s.startswith(node.stem) for s in stem_set)
        return node.stem in stem_set
    if isinstance(node, Phrase):
        wanted = [w.stem for w in node.words]
        return any(stems[i : i + len(wanted)] == wanted for i in range(len(stems)))
    if isinstance(node, AnyOf):
        return any(_matches(option, stems, stem_set) for option in node.options)
    if isinstance(node, AllOf):
        return all(_matches(item, stems, stem_set) for item in node.items)
    return False


def matching_collections(user, query: ParsedQuery, limit: int = 5) -> list:
    """Collections whose title or introduction match the query, with the same rules as
    threads and the collections' own visibility. Collections are few and curated, so they are
    matched here in Python with the same analysis (stems, compounds, synonyms)."""
    from forum.permissions import visible_collections

    if not query:
        return []
    found = []
    for collection in visible_collections(user).only("title", "slug", "intro_html", "status"):
        stems, stem_set = _collection_words(collection)
        if all(_matches(node, stems, stem_set) for node in query.must) and not any(
            _matches(node, stems, stem_set) for node in query.must_not
        ):
            found.append(collection)
            if len(found) == limit:
                break
    return found
