from __future__ import annotations

from django import forms
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext_lazy as _

from forum.models import ProjectProfile, Thread


class AccessibilityFeedbackForm(forms.Form):
    page_url = forms.CharField(
        label=_("Auf welcher Seite ist die Barriere? (optional)"),
        max_length=500,
        required=False,
    )
    message = forms.CharField(
        label=_("Beschreiben Sie bitte die Barriere"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Bitte beschreiben Sie die Barriere.")},
    )
    contact_email = forms.EmailField(
        label=_("E-Mail-Adresse für Rückfragen (optional)"),
        required=False,
    )


# --- Threads and posts ------------------------------------------------------------------------


class MonthInput(forms.DateInput):
    input_type = "month"

    def format_value(self, value):
        if hasattr(value, "strftime"):
            return value.strftime("%Y-%m")
        return value


class MonthField(forms.DateField):
    """A month ("2024-05"), stored as its first day."""

    widget = MonthInput
    input_formats = ["%Y-%m", "%m/%Y", "%m.%Y"]
    default_error_messages = {"invalid": _("Bitte geben Sie einen Monat an, z. B. 2024-05.")}


class TextField(forms.CharField):
    """Text from a textarea: line breaks counted once (browsers send CRLF), with a clear limit."""

    def to_python(self, value):
        value = super().to_python(value)
        return value.replace("\r\n", "\n") if value else value


def _body_field(label, help_text=""):
    from forum.models import POST_MAX_LENGTH

    return TextField(
        label=label,
        max_length=POST_MAX_LENGTH,
        help_text=help_text
        or _(
            "Markdown: **fett**, *kursiv*, Listen mit „-“, Links als [Text](https://…), "
            "Zitate mit „>“. @benutzername erwähnt jemanden."
        ),
        widget=forms.Textarea(attrs={"rows": 10, "data-composer": "body"}),
        error_messages={
            "required": _("Bitte schreiben Sie einen Text."),
            "max_length": _(
                "Der Text ist mit %(show_value)d Zeichen zu lang; erlaubt sind %(limit_value)d. "
                "Teilen Sie ihn bitte auf oder hängen Sie ein Dokument an."
            ),
        },
    )


class TagsField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Schlagwörter"))
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 300)
        kwargs.setdefault(
            "help_text",
            _("Bis zu fünf, durch Kommas getrennt, z. B. „Leerstand, Zwischennutzung“."),
        )
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"data-tag-input": "", "list": "tag-suggestions", "autocomplete": "off"}
            ),
        )
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return [part for part in (p.strip() for p in value.split(",")) if part]


class AttachmentFieldsMixin(forms.Form):
    attachment = forms.FileField(
        label=_("Anhang"),
        required=False,
        help_text=_("PDF, Office-Dokument oder Bild, höchstens 10 MB."),
    )
    attachment_alt = forms.CharField(
        label=_("Alternativtext für ein Bild"),
        required=False,
        max_length=300,
        help_text=_("Beschreiben Sie, was auf dem Bild zu sehen ist (Pflicht bei Bildern)."),
    )

    def clean_attachment(self):
        from forum.uploads import check_upload

        upload = self.cleaned_data.get("attachment")
        if upload:
            self._attachment_type = check_upload(upload)
        return upload

    def clean(self):
        data = super().clean()
        file_type = getattr(self, "_attachment_type", None)
        if (
            file_type is not None
            and file_type.is_image
            and not data.get("attachment_alt", "").strip()
        ):
            self.add_error(
                "attachment_alt", _("Bitte beschreiben Sie das Bild in einem Alternativtext.")
            )
        return data

    def new_attachment(self):
        from forum.services.posts import NewAttachment

        upload = self.cleaned_data.get("attachment")
        if not upload:
            return None
        return NewAttachment(file=upload, alt_text=self.cleaned_data.get("attachment_alt", ""))


class ThreadForm(AttachmentFieldsMixin, forms.Form):
    category = forms.ModelChoiceField(
        label=_("Themenfeld"),
        queryset=None,
        empty_label=_("– Themenfeld wählen –"),
        error_messages={"required": _("Bitte wählen Sie ein Themenfeld.")},
    )
    kind = forms.ChoiceField(label=_("Art des Beitrags"), widget=forms.RadioSelect)
    title = forms.CharField(
        label=_("Titel"),
        max_length=200,
        help_text=_("Eine Frage oder ein Satz, der den Inhalt zusammenfasst."),
        error_messages={"required": _("Bitte geben Sie einen Titel an.")},
    )
    body = _body_field(_("Text"))
    tags = TagsField()
    event_start = forms.DateTimeField(
        label=_("Termin (nur Ankündigungen)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M"],
    )
    event_place = forms.CharField(
        label=_("Ort (nur Ankündigungen)"), required=False, max_length=200
    )
    client_token = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, categories, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["kind"].choices = kinds
        if not any(value == "announcement" for value, _label in kinds):
            del self.fields["event_start"]
            del self.fields["event_place"]


class ProjectProfileForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("Organisation"), queryset=None, required=False)
    programme = forms.ChoiceField(label=_("Programm / Förderung"))
    programme_detail = forms.CharField(
        label=_("Programm im Detail"), max_length=200, required=False
    )
    start_month = MonthField(label=_("Beginn (Monat)"), required=False)
    end_month = MonthField(label=_("Ende (Monat)"), required=False)
    budget_eur = forms.IntegerField(
        label=_("Budget in Euro"),
        required=False,
        min_value=0,
        max_value=10**12,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "step": "1"}),
    )
    funding_share_pct = forms.IntegerField(
        label=_("Förderanteil in Prozent"), required=False, min_value=0, max_value=100
    )
    status = forms.ChoiceField(label=_("Stand"))
    partners = forms.CharField(
        label=_("Partner"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    results = forms.CharField(
        label=_("Ergebnisse"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    lessons_learned = forms.CharField(
        label=_("Erkenntnisse (Lessons Learned)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    contact = forms.CharField(label=_("Ansprechperson"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        from accounts.models import Organisation
        from forum.models import ProjectProfile

        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.order_by("name")
        self.fields["organisation"].empty_label = _("– meine Organisation –")
        self.fields["programme"].choices = [
            ("", _("– bitte wählen –")),
            *ProjectProfile.Programme.choices,
        ]
        self.fields["status"].choices = ProjectProfile.Status.choices

    def clean(self):
        data = super().clean()
        start, end = data.get("start_month"), data.get("end_month")
        if start and end and end < start:
            self.add_error("end_month", _("Das Ende liegt vor dem Beginn."))
        return data

    def to_data(self):
        from forum.services.threads import ProfileData

        data = dict(self.cleaned_data)
        organisation = data.pop("organisation")
        return ProfileData(organisation_id=organisation.pk if organisation else None, **data)


class ReplyForm(AttachmentFieldsMixin, forms.Form):
    body = _body_field(_("Ihre Antwort"))
    client_token = forms.UUIDField(widget=forms.HiddenInput)


class PostEditForm(forms.Form):
    body = _body_field(_("Text"))
    reason = forms.CharField(
        label=_("Begründung der Änderung (geht an die Person, die den Beitrag geschrieben hat)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, needs_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if needs_reason:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = _(
                "Bitte begründen Sie die Änderung; die Person, die den Beitrag geschrieben hat, "
                "erhält die Begründung."
            )
        else:
            del self.fields["reason"]


class SummaryForm(forms.Form):
    summary = TextField(
        label=_("Ergebnis"),
        required=False,
        max_length=20000,
        help_text=_(
            "Fassen Sie zusammen, was die Diskussion ergeben hat. Leer lassen entfernt das Ergebnis."
        ),
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class ThreadEditForm(forms.Form):
    title = forms.CharField(label=_("Titel"), max_length=200)
    kind = forms.ChoiceField(label=_("Art des Beitrags"), widget=forms.RadioSelect)
    tags = TagsField()
    reason = forms.CharField(
        label=_("Begründung der Änderung (geht an die Person, die das Thema begonnen hat)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, kinds, needs_reason: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds
        if needs_reason:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = _(
                "Bitte begründen Sie die Änderung; die Person, die das Thema begonnen hat, "
                "erhält die Begründung."
            )
        else:
            del self.fields["reason"]


class SearchForm(forms.Form):
    """The search box and its filters (GET). Invalid filters are reported, never fatal: the
    search runs with the valid ones and the form keeps what was typed."""

    SORTS = (("relevanz", _("Relevanz")), ("neu", _("letzte Aktivität")))
    DATE_FORMATS = ["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"]

    q = forms.CharField(
        label=_("Suchbegriffe"),
        required=False,
        strip=True,  # no max_length: a long paste is shortened by the parser, not refused
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    themenfeld = forms.ChoiceField(label=_("Themenfeld"), required=False)
    schlagwort = forms.CharField(label=_("Schlagwort"), required=False, max_length=100)
    art = forms.ChoiceField(
        label=_("Art"), required=False, choices=[("", _("alle")), *Thread.Kind.choices]
    )
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)
    geloest = forms.ChoiceField(
        label=_("Fragen"),
        required=False,
        choices=[("", _("alle")), ("ja", _("gelöst")), ("nein", _("ungelöst"))],
    )
    programm = forms.ChoiceField(
        label=_("Programm"),
        required=False,
        choices=[("", _("alle")), *ProjectProfile.Programme.choices],
    )
    stand = forms.ChoiceField(
        label=_("Projektstand"),
        required=False,
        choices=[("", _("alle")), *ProjectProfile.Status.choices],
    )
    von = forms.DateField(
        label=_("erstellt ab"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    bis = forms.DateField(
        label=_("erstellt bis"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    sortierung = forms.ChoiceField(label=_("Sortierung"), required=False, choices=SORTS)

    def __init__(self, data, *, categories, organisations, user=None):
        super().__init__(data)
        # Whose search: a tag only on threads this person may not read is unknown to them.
        self.user = user if user is not None else AnonymousUser()
        self.categories = {c.slug: c for c in categories}
        self.fields["themenfeld"].choices = [
            ("", _("alle")),
            *((c.slug, c.name) for c in categories),
        ]
        self.organisations = {o.slug: o for o in organisations}
        self.fields["organisation"].choices = [
            ("", _("alle")),
            *((o.slug, o.name) for o in organisations),
        ]
        self.fields["von"].error_messages["invalid"] = _(
            "Bitte geben Sie das Datum als TT.MM.JJJJ an."
        )
        self.fields["bis"].error_messages["invalid"] = _(
            "Bitte geben Sie das Datum als TT.MM.JJJJ an."
        )

    def clean_schlagwort(self):
        from forum.selectors import tag_by_name

        name = self.cleaned_data["schlagwort"].strip()
        if not name:
            return None
        tag = tag_by_name(name, self.user)
        if tag is None:
            raise forms.ValidationError(
                _("Ein Schlagwort „%(name)s“ gibt es nicht."), params={"name": name}
            )
        return tag

    def clean(self):
        data = super().clean()
        start, end = data.get("von"), data.get("bis")
        if start and end and start > end:
            self.add_error("bis", _("Das Ende des Zeitraums liegt vor seinem Anfang."))
        return data

    def filters(self):
        """The valid filters as ThreadFilters (invalid fields are left out)."""
        from forum.selectors import ThreadFilters

        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        organisation = self.organisations.get(data.get("organisation") or "")
        return ThreadFilters(
            category=self.categories.get(data.get("themenfeld") or ""),
            tag=data.get("schlagwort") or None,
            organisation_id=organisation.pk if organisation else None,
            kind=data.get("art") or "",
            solved=data.get("geloest") or "",
            programme=data.get("programm") or "",
            status=data.get("stand") or "",
            created_from=data.get("von"),
            created_to=data.get("bis"),
        )

    @property
    def newest_first(self) -> bool:
        return (
            self.cleaned_data.get("sortierung") if hasattr(self, "cleaned_data") else ""
        ) == "neu"


class ReportForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Was stimmt mit diesem Beitrag nicht?"),
        widget=forms.RadioSelect,
        error_messages={"required": _("Bitte wählen Sie einen Grund.")},
    )
    text = forms.CharField(
        label=_("Erläuterung für die Moderation"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Bei „anderer Grund“ erforderlich. Die Person, die den Beitrag geschrieben hat, sieht Ihre Meldung nicht."
        ),
    )

    def __init__(self, *args, **kwargs):
        from forum.models import Report

        super().__init__(*args, **kwargs)
        self.fields["reason"].choices = Report.Reason.choices


class ModerationReasonForm(forms.Form):
    reason = forms.CharField(
        label=_("Begründung (geht an die betroffene Person)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Bitte geben Sie eine Begründung an; die betroffene Person erhält sie.")
        },
    )


class MergeForm(forms.Form):
    ziel = forms.CharField(
        label=_("Ziel-Thema"),
        max_length=300,
        help_text=_("Die Nummer des Themas oder seine Adresse, z. B. 1234 oder /t/1234/…"),
        error_messages={"required": _("Bitte geben Sie das Thema an, in das es aufgehen soll.")},
    )
    reason = ModerationReasonForm.base_fields["reason"]

    def clean_ziel(self) -> int:
        import re

        value = self.cleaned_data["ziel"].strip()
        match = re.search(r"(?:/t/)?(\d+)", value)
        if match is None:
            raise forms.ValidationError(
                _("Bitte geben Sie die Nummer des Themas oder seine Adresse an.")
            )
        return int(match.group(1))


class SplitForm(forms.Form):
    numbers = forms.TypedMultipleChoiceField(
        label=_("Beiträge, die in das neue Thema gehen"),
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Bitte wählen Sie mindestens einen Beitrag.")},
    )
    title = forms.CharField(
        label=_("Titel des neuen Themas"),
        max_length=200,
        error_messages={"required": _("Bitte geben Sie dem neuen Thema einen Titel.")},
    )
    category = forms.ChoiceField(label=_("Themenfeld"))
    kind = forms.ChoiceField(label=_("Art"), choices=Thread.Kind.choices, widget=forms.RadioSelect)
    reason = ModerationReasonForm.base_fields["reason"]

    def __init__(self, *args, posts, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["numbers"].choices = [(p.number, str(p.number)) for p in posts]
        self.fields["category"].choices = [(c.pk, c.name) for c in categories]


class AppealForm(forms.Form):
    text = forms.CharField(
        label=_("Ihr Einspruch"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_(
            "Erklären Sie, warum die Entscheidung aus Ihrer Sicht falsch ist. Die Moderation "
            "prüft Ihren Einspruch und antwortet Ihnen."
        ),
        error_messages={"required": _("Bitte begründen Sie Ihren Einspruch.")},
    )


class AppealAnswerForm(forms.Form):
    answer = forms.CharField(
        label=_("Antwort (geht an die Person, die Einspruch eingelegt hat)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Bitte schreiben Sie eine Antwort.")},
    )
