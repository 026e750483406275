"""Figures for the agency at /mod/figures/: activity per organisation and month, and as CSV."""

from __future__ import annotations

import csv
import datetime
import io
import re

from django import forms
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from accounts.decorators import moderator_required
from accounts.models import Organisation
from forum import figures as figures_selectors

# 2025-03 (what <input type="month"> sends) and, for browsers that show a text field instead,
# 2025-3, 03.2025, 3/2025 and 03/2025.
ISO_MONTH = re.compile(r"^(?P<year>\d{4})-(?P<month>\d{1,2})$")
GERMAN_MONTH = re.compile(r"^(?P<month>\d{1,2})\s*[./]\s*(?P<year>\d{4})$")

CSV_HEADER = [
    "Organisation",
    "Monat",
    "Neue Themen",
    "Antworten",
    "Akzeptierte Antworten",
    "Erfahrungsberichte",
    "Aktive Mitglieder",
]
# A cell starting with one of these is a formula to Excel and LibreOffice (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _parse_month(value: str) -> datetime.date | None:
    value = value.strip()
    match = ISO_MONTH.match(value) or GERMAN_MONTH.match(value)
    if match is None:
        return None
    year, month = int(match["year"]), int(match["month"])
    if not (1 <= month <= 12 and 1900 <= year <= 2999):
        return None
    return datetime.date(year, month, 1)


class MonthField(forms.CharField):
    default_error_messages = {
        "invalid": gettext_lazy(
            "Bitte geben Sie einen Monat im Format JJJJ-MM an, zum Beispiel 2025-03."
        )
    }

    def to_python(self, value):
        value = super().to_python(value)
        if not value:
            return None
        month = _parse_month(value)
        if month is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return month


class FiguresFilterForm(forms.Form):
    """The range and organisation of the report; an empty form means the last twelve months.

    A missing end is twelve months from the start (not beyond the current month), a missing
    start twelve months up to the end.
    """

    von = MonthField(label=gettext_lazy("Von (Monat)"), required=False)
    bis = MonthField(label=gettext_lazy("Bis (Monat)"), required=False)
    organisation = forms.ChoiceField(label=gettext_lazy("Organisation"), required=False)

    def __init__(self, data, *, organisations: list[Organisation], today: datetime.date):
        super().__init__(data)
        self.organisations = {org.slug: org for org in organisations}
        self.fields["organisation"].choices = [("", _("alle"))] + [
            (org.slug, org.name) for org in organisations
        ]
        self.fields["organisation"].error_messages["invalid_choice"] = _(
            "Diese Organisation gibt es nicht. Bitte wählen Sie eine aus der Liste."
        )
        self.today = today

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        first, last = data.get("von"), data.get("bis")
        current = figures_selectors.month_start(self.today)
        span = figures_selectors.DEFAULT_MONTHS - 1
        if first is None and last is None:
            first, last = figures_selectors.default_range(self.today)
        elif last is None:
            last = min(figures_selectors.add_months(first, span), max(first, current))
        elif first is None:
            first = figures_selectors.add_months(last, -span)
        if first > last:
            self.add_error(
                "bis",
                _("Der letzte Monat liegt vor dem ersten. Bitte prüfen Sie die beiden Angaben."),
            )
        elif figures_selectors.months_between(first, last) > figures_selectors.MAX_MONTHS:
            self.add_error(
                "bis",
                _("Der Zeitraum darf höchstens %(count)d Monate umfassen.")
                % {"count": figures_selectors.MAX_MONTHS},
            )
        data["von"], data["bis"] = first, last
        data["organisation"] = self.organisations.get(data.get("organisation") or "")
        return data

    def query(self) -> str:
        """The valid filters as a query string, for the CSV link."""
        params = {
            "von": self.cleaned_data["von"].strftime("%Y-%m"),
            "bis": self.cleaned_data["bis"].strftime("%Y-%m"),
        }
        if self.cleaned_data["organisation"] is not None:
            params["organisation"] = self.cleaned_data["organisation"].slug
        return urlencode(params)


def _bind(request) -> FiguresFilterForm:
    organisations = list(Organisation.objects.order_by("name").only("pk", "slug", "name"))
    return FiguresFilterForm(request.GET, organisations=organisations, today=timezone.localdate())


def _report(form: FiguresFilterForm) -> figures_selectors.Figures:
    return figures_selectors.figures_by_organisation_and_month(
        first_month=form.cleaned_data["von"],
        last_month=form.cleaned_data["bis"],
        organisation=form.cleaned_data["organisation"],
        no_organisation_label=_("Ohne Organisation"),
    )


@require_safe
@moderator_required
def figures(request):
    form = _bind(request)
    report = _report(form) if form.is_valid() else None
    return render(
        request,
        "forum/mod_figures.html",
        {
            "form": form,
            "report": report,
            "csv_query": form.query() if report is not None else "",
        },
    )


def _csv_text(value: str) -> str:
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


@require_safe
@moderator_required
def figures_csv(request):
    """The report as a CSV file for Excel in a German office: UTF-8 with BOM, semicolons.

    One line per organisation and month, without sum lines, so that it filters and pivots.
    """
    form = _bind(request)
    if not form.is_valid():
        # The page shows the same filters with their error messages.
        return redirect(f"{reverse('forum:mod_figures')}?{request.GET.urlencode()}")
    report = _report(form)
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for row in report.rows:
        writer.writerow(
            [_csv_text(row.organisation_name), row.month.strftime("%Y-%m"), *row.counts()]
        )
    filename = "kennzahlen-{}-bis-{}.csv".format(
        report.first_month.strftime("%Y-%m"), report.last_month.strftime("%Y-%m")
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
