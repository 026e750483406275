"""The interface every search backend implements (one per database vendor)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from django.db.models import QuerySet

from .query import ParsedQuery


class SearchBackend(Protocol):
    def write(self, thread_ids: Sequence[int]) -> None:
        """Bring the backend's own structure up to date with these SearchDocument rows."""

    def count(self, query: ParsedQuery, threads: QuerySet) -> int:
        """How many of ``threads`` (already filtered for visibility) match."""

    def match(
        self, query: ParsedQuery, threads: QuerySet, *, offset: int, limit: int, newest: bool
    ) -> tuple[list[tuple[int, float]], int]:
        """(thread id, rank) of a page of matching ``threads``, best first (or newest first),
        and the number of all matches (a window count over the same query)."""


def nonempty(items: Iterable[str]) -> list[str]:
    return [item for item in items if item]
