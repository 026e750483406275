"""PostgreSQL: the ``german`` text search configuration over a weighted, GIN-indexed tsvector.

PostgreSQL stems inside the database, so queries hand it the words as typed; our own parser
(query.py) decides the structure and writes it in ``to_tsquery`` syntax.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db.models import F, QuerySet

from forum.models import SearchDocument

from .query import AllOf, AnyOf, ParsedQuery, Phrase, Word

CONFIG = "german"
# ts_rank weights for D, C, B, A: posts (C) count a fifth of the title and tags (A).
WEIGHTS = [0.05, 0.2, 0.5, 1.0]


def _lexeme(word: Word, *, prefix: bool) -> str:
    # Words contain only \w characters (query.py), so they need no escaping inside quotes.
    return f"'{word.text}'" + (":*" if prefix and word.prefix else "")


def compile_node(node, *, prefix: bool = True) -> str:
    if isinstance(node, Word):
        return _lexeme(node, prefix=prefix)
    if isinstance(node, Phrase):
        return "(" + " <-> ".join(_lexeme(w, prefix=False) for w in node.words) + ")"
    if isinstance(node, AnyOf):
        return "(" + " | ".join(compile_node(o, prefix=prefix) for o in node.options) + ")"
    if isinstance(node, AllOf):
        return "(" + " & ".join(compile_node(i, prefix=prefix) for i in node.items) + ")"
    raise TypeError(node)


def compile_query(query: ParsedQuery) -> str:
    parts = [compile_node(node) for node in query.must]
    parts += ["!" + compile_node(node, prefix=False) for node in query.must_not]
    return " & ".join(parts)


class PostgresBackend:
    vendor = "postgresql"

    def write(self, thread_ids: Sequence[int]) -> None:
        SearchDocument.objects.filter(thread_id__in=thread_ids).update(
            vector=SearchVector("title", "title_extra", weight="A", config=CONFIG)
            + SearchVector("summary", "summary_extra", weight="B", config=CONFIG)
            + SearchVector("body", "body_extra", weight="C", config=CONFIG)
        )

    def _matching(self, query: ParsedQuery, threads: QuerySet) -> tuple[QuerySet, SearchQuery]:
        tsquery = SearchQuery(compile_query(query), search_type="raw", config=CONFIG)
        return threads.filter(search_document__vector=tsquery), tsquery

    def count(self, query: ParsedQuery, threads: QuerySet) -> int:
        return self._matching(query, threads)[0].order_by().count()

    def match(
        self, query: ParsedQuery, threads: QuerySet, *, offset: int, limit: int, newest: bool
    ) -> list[tuple[int, float]]:
        matching, tsquery = self._matching(query, threads)
        ranked = matching.annotate(
            rank=SearchRank(F("search_document__vector"), tsquery, weights=WEIGHTS)
        )
        order = ("-last_activity_at", "-pk") if newest else ("-rank", "-last_activity_at", "-pk")
        rows = ranked.order_by(*order).values_list("pk", "rank")[offset : offset + limit]
        return [(pk, float(rank)) for pk, rank in rows]
