"""Figures for the agency (/mod/figures/): activity per organisation and month.

Read-only, counted from the content itself (there is no page-view tracking). The rules, as the
page states them in German:

- New threads and experience reports count for the organisation stored on the thread (the
  author's organisation when the thread was started), in the month it was started.
- Answers (posts with number > 1) and active members (distinct authors of at least one post,
  first posts included) count for the author's current organisation, in the month written.
- Accepted answers count for the current organisation of the accepted post's author, in the
  month the thread was solved (``Thread.solved_at``).
- Deleted posts, hidden posts, hidden threads, posts and threads still waiting for approval
  (held) and everything in categories only the moderation sees (the agency's internal notes)
  do not count. A thread merged into another is hidden: its posts count as answers there.

Months are calendar months in the site's time zone (Europe/Berlin), not the database's UTC.
The whole report is four aggregate queries, whatever the range or the number of organisations.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

from django.db.models import Count, F, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from accounts.models import Organisation

from .models import Category, Post, Thread

# A report longer than this is a mistake in the form (or a very heavy query), not a need.
MAX_MONTHS = 60
DEFAULT_MONTHS = 12


@dataclass
class FigureRow:
    """One line of the report: an organisation's month, a month's total or the range's total.

    ``organisation_id`` is None for content whose author has no organisation (any more).
    """

    organisation_id: int | None
    organisation_name: str
    month: datetime.date | None  # the first day of the month; None for the whole range
    threads: int = 0
    answers: int = 0
    accepted_answers: int = 0
    experience_reports: int = 0
    active_members: int = 0

    COUNTS: ClassVar[tuple[str, ...]] = (
        "threads",
        "answers",
        "accepted_answers",
        "experience_reports",
        "active_members",
    )

    def counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in self.COUNTS)


@dataclass
class Figures:
    first_month: datetime.date
    last_month: datetime.date
    organisation: Organisation | None
    rows: list[FigureRow]  # by month, then organisation name; only organisations with activity
    month_totals: list[FigureRow]  # one per month of the range, empty months included
    total: FigureRow  # the whole range; active members are distinct over the range


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def add_months(month: datetime.date, count: int) -> datetime.date:
    index = month.year * 12 + month.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


def months_between(first: datetime.date, last: datetime.date) -> int:
    """How many calendar months the range covers, both ends included."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def iter_months(first: datetime.date, last: datetime.date) -> Iterator[datetime.date]:
    for offset in range(months_between(first, last)):
        yield add_months(first, offset)


def default_range(today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    """The last twelve months, the current one included."""
    current = month_start(today or timezone.localdate())
    return add_months(current, -(DEFAULT_MONTHS - 1)), current


def _sort_key(name: str) -> str:
    # German order without a locale: "Düsseldorf" between "Dortmund" and "Essen".
    folded = name.casefold()
    for umlaut, plain in (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss")):
        folded = folded.replace(umlaut, plain)
    return folded


def _as_month(value: datetime.datetime | datetime.date, tz) -> datetime.date:
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, tz)
        return value.date().replace(day=1)
    return value.replace(day=1)


def figures_by_organisation_and_month(
    *,
    first_month: datetime.date,
    last_month: datetime.date,
    organisation: Organisation | None = None,
    no_organisation_label: str = "",
) -> Figures:
    """The report for the calendar months ``first_month`` to ``last_month`` (both included).

    Precondition: first_month <= last_month (any day of a month names that month).
    ``organisation`` narrows every count to that organisation.
    """
    first_month, last_month = month_start(first_month), month_start(last_month)
    tz = timezone.get_default_timezone()
    start = timezone.make_aware(datetime.datetime.combine(first_month, datetime.time()), tz)
    end = timezone.make_aware(
        datetime.datetime.combine(add_months(last_month, 1), datetime.time()), tz
    )
    internal = Category.Visibility.MODERATORS

    # order_by() everywhere: the models' default ordering would join the GROUP BY.
    threads = Thread.objects.filter(
        created_at__gte=start, created_at__lt=end, is_hidden=False, is_held=False
    ).exclude(category__visibility=internal)
    accepted = Thread.objects.filter(
        solved_at__gte=start,
        solved_at__lt=end,
        is_hidden=False,
        is_held=False,
        accepted_post__isnull=False,
        accepted_post__is_deleted=False,
        accepted_post__is_hidden=False,
        accepted_post__is_held=False,
    ).exclude(category__visibility=internal)
    posts = Post.objects.filter(
        created_at__gte=start,
        created_at__lt=end,
        is_deleted=False,
        is_hidden=False,
        is_held=False,
        thread__is_hidden=False,
        thread__is_held=False,
    ).exclude(thread__category__visibility=internal)
    if organisation is not None:
        threads = threads.filter(organisation=organisation)
        accepted = accepted.filter(accepted_post__author__organisation=organisation)
        posts = posts.filter(author__organisation=organisation)

    thread_counts = (
        threads.annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values("month", org_id=F("organisation_id"), org_name=F("organisation__name"))
        .annotate(
            threads=Count("id"),
            experience_reports=Count("id", filter=Q(kind=Thread.Kind.EXPERIENCE)),
        )
        .order_by()
    )
    accepted_counts = (
        accepted.annotate(month=TruncMonth("solved_at", tzinfo=tz))
        .values(
            "month",
            org_id=F("accepted_post__author__organisation_id"),
            org_name=F("accepted_post__author__organisation__name"),
        )
        .annotate(accepted_answers=Count("id"))
        .order_by()
    )
    post_counts = (
        posts.annotate(month=TruncMonth("created_at", tzinfo=tz))
        .values(
            "month",
            org_id=F("author__organisation_id"),
            org_name=F("author__organisation__name"),
        )
        .annotate(
            answers=Count("id", filter=Q(number__gt=1)),
            active_members=Count("author_id", distinct=True),
        )
        .order_by()
    )

    by_key: dict[tuple[datetime.date, int | None], FigureRow] = {}
    for counted, names in (
        (thread_counts, ("threads", "experience_reports")),
        (accepted_counts, ("accepted_answers",)),
        (post_counts, ("answers", "active_members")),
    ):
        for values in counted:
            month = _as_month(values["month"], tz)
            row = by_key.get((month, values["org_id"]))
            if row is None:
                row = by_key[(month, values["org_id"])] = FigureRow(
                    organisation_id=values["org_id"],
                    organisation_name=values["org_name"] or no_organisation_label,
                    month=month,
                )
            for name in names:
                setattr(row, name, getattr(row, name) + values[name])

    rows = sorted(
        (row for row in by_key.values() if any(row.counts())),
        # Content without an organisation goes last in its month.
        key=lambda r: (r.month, r.organisation_id is None, _sort_key(r.organisation_name)),
    )

    month_totals = {
        month: FigureRow(organisation_id=None, organisation_name="", month=month)
        for month in iter_months(first_month, last_month)
    }
    total = FigureRow(organisation_id=None, organisation_name="", month=None)
    for row in rows:
        for name in FigureRow.COUNTS:
            value = getattr(row, name)
            setattr(month_totals[row.month], name, getattr(month_totals[row.month], name) + value)
            setattr(total, name, getattr(total, name) + value)
    # Every author has one organisation, so a month's active members add up across the rows;
    # across months the same person would be counted again: count them once for the range.
    total.active_members = posts.aggregate(n=Count("author_id", distinct=True))["n"] if rows else 0

    return Figures(
        first_month=first_month,
        last_month=last_month,
        organisation=organisation,
        rows=rows,
        month_totals=list(month_totals.values()),
        total=total,
    )
