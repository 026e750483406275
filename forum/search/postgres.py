"""PostgreSQL: the ``german`` text search configuration over a weighted, GIN-indexed tsvector.

PostgreSQL stems inside the database, so queries hand it the words as typed; our own parser
(query.py) decides the structure and writes it in ``to_tsquery`` syntax.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector
from django.db import connection, transaction
from django.db.models import Count, F, Func, QuerySet, TextField, Value, Window

from forum.models import SearchDocument

from .query import AllOf, AnyOf, ParsedQuery, Phrase, Word

CONFIG = "german"
# ts_rank weights for D, C, B, A: posts (C) count a fifth of the title and tags (A).
WEIGHTS = [0.05, 0.2, 0.5, 1.0]


def _text(column: str) -> Func:
    """The column with < and > as spaces: PostgreSQL's parser reads "<Kennung>" as an HTML
    tag and would drop the word (and everything between <script> and </script>)."""
    return Func(F(column), Value("<>"), Value("  "), function="translate", output_field=TextField())


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


@contextmanager
def _gin_plan():
    """Steer the planner to the GIN index. When most documents match a common word, it prefers
    a sequential scan, which un-TOASTs every vector for ``@@`` and again for ``ts_rank``; the
    bitmap scan over the GIN index needs no recheck for word queries and is 2-3 times faster
    (ISEK on 40,000 posts: 21 ms → 7 ms).

    And plan each search for its own query: psycopg prepares a statement after a few runs, and
    PostgreSQL's generic plan for "any tsquery" is two to three times slower for common words.
    Both settings end with the transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('enable_seqscan', 'off', true),"
            " set_config('plan_cache_mode', 'force_custom_plan', true)"
        )
        yield


class PostgresBackend:
    vendor = "postgresql"

    def write(self, thread_ids: Sequence[int]) -> None:
        SearchDocument.objects.filter(thread_id__in=thread_ids).update(
            vector=SearchVector(_text("title"), _text("title_extra"), weight="A", config=CONFIG)
            + SearchVector(_text("summary"), _text("summary_extra"), weight="B", config=CONFIG)
            + SearchVector(_text("body"), _text("body_extra"), weight="C", config=CONFIG)
        )

    def _matching(self, query: ParsedQuery, threads: QuerySet) -> tuple[QuerySet, SearchQuery]:
        tsquery = SearchQuery(compile_query(query), search_type="raw", config=CONFIG)
        return threads.filter(search_document__vector=tsquery), tsquery

    def count(self, query: ParsedQuery, threads: QuerySet) -> int:
        with _gin_plan():
            return self._matching(query, threads)[0].order_by().count()

    def match(
        self, query: ParsedQuery, threads: QuerySet, *, offset: int, limit: int, newest: bool
    ) -> tuple[list[tuple[int, float]], int]:
        matching, tsquery = self._matching(query, threads)
        ranked = matching.annotate(
            rank=SearchRank(F("search_document__vector"), tsquery, weights=WEIGHTS),
            total=Window(Count("pk")),
        )
        order = ("-last_activity_at", "-pk") if newest else ("-rank", "-last_activity_at", "-pk")
        with _gin_plan():
            rows = list(
                ranked.order_by(*order).values_list("pk", "rank", "total")[offset : offset + limit]
            )
        total = rows[0][2] if rows else 0
        return [(pk, float(rank)) for pk, rank, _ in rows], total
