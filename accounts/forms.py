from __future__ import annotations

from datetime import datetime, time, timedelta

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import Organisation, User, handle_validator
from .selectors import current_terms


def apply_errors(form, exc: ValidationError, *, fields: dict[str, str]) -> None:
    """Put a service's message next to its field (``fields`` maps service to form names)."""
    errors = exc.message_dict if hasattr(exc, "error_dict") else {None: exc.messages}
    for field, texts in errors.items():
        for text in texts:
            form.add_error(fields.get(field), text)


RESERVED_HANDLES = frozenset(
    {
        "admin", "administrator", "moderation", "moderator", "mod", "support", "system",
        "forum", "team", "root", "staff", "betrieb", "redaktion", "alle", "all", "here",
        "ehemaliges-mitglied", "anonym", "impressum", "datenschutz", "vorschlaege", "ich",
    }
)  # fmt: skip


def clean_handle_value(handle: str, *, exclude_pk: int | None = None) -> str:
    handle = (handle or "").strip().lstrip("@")
    handle_validator(handle)
    if handle.lower() in RESERVED_HANDLES:
        raise forms.ValidationError(
            _("Dieser Benutzername ist reserviert. Bitte wählen Sie einen anderen.")
        )
    taken = User.objects.filter(handle__iexact=handle)
    if exclude_pk:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise forms.ValidationError(
            _(
                "Der Benutzername „%(handle)s“ ist bereits vergeben. Bitte wählen Sie einen anderen."
            ),
            params={"handle": handle},
        )
    return handle


class SignupForm(AllauthSignupForm):
    display_name = forms.CharField(
        label=_("Ihr Name"),
        max_length=100,
        help_text=_("So erscheinen Sie bei Ihren Beiträgen, z. B. „Anna Schmidt“."),
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    handle = forms.CharField(
        label=_("Benutzername"),
        max_length=30,
        help_text=_(
            "Für Ihre Profiladresse und @-Erwähnungen, z. B. „anna-schmidt“. 3 bis 30 "
            "Zeichen: Buchstaben ohne Umlaute, Ziffern, - und _."
        ),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    accept_terms = forms.BooleanField(
        required=True,
        error_messages={
            "required": _("Bitte stimmen Sie den Nutzungsbedingungen und der Netiquette zu.")
        },
    )

    field_order = ["display_name", "handle", "email", "password1", "password2", "accept_terms"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.terms = current_terms()
        self.fields["email"].label = _("Dienstliche E-Mail-Adresse")
        self.fields["email"].help_text = _(
            "Mit der Adresse Ihrer Kommune oder Behörde werden Sie sofort Mitglied; andere "
            "Adressen prüft die Moderation."
        )
        self.fields["accept_terms"].label = format_html(
            _("Ich stimme den {terms} und der {netiquette} zu."),
            terms=format_html(
                '<a href="{}">{}</a>', reverse("accounts:terms"), _("Nutzungsbedingungen")
            ),
            netiquette=format_html(
                '<a href="{}">{}</a>',
                reverse("forum:page", kwargs={"slug": "netiquette"}),
                _("Netiquette"),
            ),
        )
        for name in ("display_name", "handle", "email", "password1", "password2"):
            if name in self.fields:
                self.fields[name].widget.attrs.pop("placeholder", None)

    def clean_handle(self) -> str:
        return clean_handle_value(self.cleaned_data.get("handle", ""))

    def custom_signup(self, request, user) -> None:
        from .services import terms_accept

        if self.terms is not None:
            terms_accept(user, terms=self.terms)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Name"), max_length=100)
    job_title = forms.CharField(
        label=_("Einheit / Funktion"),
        max_length=150,
        required=False,
        help_text=_("z. B. „Amt für Stadtplanung, Quartiersmanagement“"),
    )
    bio = forms.CharField(
        label=_("Kurzprofil"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    work_phone = forms.RegexField(
        label=_("Telefon (dienstlich)"),
        required=False,
        max_length=40,
        regex=r"^[0-9+()/ \-]{5,40}$",
        error_messages={
            "invalid": _("Bitte geben Sie eine Telefonnummer an, z. B. 0234 910-1234.")
        },
    )
    show_contact = forms.BooleanField(
        label=_("Dienstliche E-Mail-Adresse und Telefon anderen Mitgliedern zeigen"),
        required=False,
        help_text=_("Besucherinnen und Besucher ohne Anmeldung sehen Ihre Kontaktdaten nie."),
    )
    expertise = forms.CharField(
        label=_("Fachgebiete"),
        required=False,
        max_length=500,
        help_text=_("Schlagwörter, durch Kommas getrennt, z. B. „Klimaanpassung, Leerstand“"),
    )

    def clean_expertise(self) -> list[str]:
        raw = self.cleaned_data.get("expertise", "")
        tags = []
        for part in raw.split(","):
            tag = " ".join(part.split())
            if tag and tag.lower() not in {t.lower() for t in tags}:
                if len(tag) > 50:
                    raise forms.ValidationError(
                        _("Ein Schlagwort darf höchstens 50 Zeichen lang sein: „%(tag)s“."),
                        params={"tag": tag[:50]},
                    )
                tags.append(tag)
        if len(tags) > 10:
            raise forms.ValidationError(_("Bitte geben Sie höchstens 10 Fachgebiete an."))
        return tags


class MembershipApproveForm(forms.Form):
    """Choose the organisation for a pending person.

    The queue shows one form per person; the organisations are read once and shared, so the
    page's query count does not grow with the number of people waiting.
    """

    organisation = forms.TypedChoiceField(
        label=_("Organisation"),
        coerce=int,
        error_messages={"required": _("Bitte wählen Sie die Organisation der Person.")},
    )

    def __init__(self, *args, organisations: list[Organisation] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if organisations is None:
            organisations = list(Organisation.objects.order_by("name"))
        self._organisations = {o.pk: o for o in organisations}
        self.fields["organisation"].choices = [("", _("– Organisation wählen –"))] + [
            (o.pk, o.name) for o in organisations
        ]

    def clean_organisation(self) -> Organisation:
        return self._organisations[self.cleaned_data["organisation"]]


class MembershipRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Begründung (wird der Person per E-Mail gesendet)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Bitte geben Sie eine Begründung an.")},
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-Mail-Adresse"))
    organisation = forms.ModelChoiceField(
        label=_("Organisation"),
        queryset=Organisation.objects.order_by("name"),
        empty_label=_("– Organisation wählen –"),
    )
    message = forms.CharField(
        label=_("Persönliche Nachricht (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TermsAcceptForm(forms.Form):
    accept = forms.BooleanField(
        label=_("Ich habe die Nutzungsbedingungen und die Netiquette gelesen und stimme zu."),
        error_messages={"required": _("Bitte bestätigen Sie Ihre Zustimmung.")},
    )


class SuspensionForm(forms.Form):
    """How long a member is suspended, and why (the reason goes to the member)."""

    DAYS = {"1": 1, "7": 7, "30": 30}
    DATE = "datum"
    INDEFINITE = "unbefristet"

    duration = forms.ChoiceField(
        label=_("Dauer der Sperre"),
        widget=forms.RadioSelect,
        choices=[
            ("1", _("1 Tag")),
            ("7", _("7 Tage")),
            ("30", _("30 Tage")),
            (DATE, _("bis zu einem Datum")),
            (INDEFINITE, _("unbefristet (bis die Moderation sie aufhebt)")),
        ],
        error_messages={"required": _("Bitte wählen Sie, wie lange die Sperre dauert.")},
    )
    until_date = forms.DateField(
        label=_("Gesperrt bis einschließlich"),
        required=False,
        input_formats=["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"],
        help_text=_("Nur für „bis zu einem Datum“. Die Sperre endet am Ende dieses Tages."),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Bitte geben Sie ein Datum an, z. B. 12.12.2026.")},
    )
    reason = forms.CharField(
        label=_("Begründung (geht an die betroffene Person)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": _("Bitte geben Sie eine Begründung an; die betroffene Person erhält sie.")
        },
    )

    def clean(self):
        data = super().clean()
        if data.get("duration") == self.DATE and not data.get("until_date"):
            if "until_date" not in self.errors:
                self.add_error(
                    "until_date", _("Bitte wählen Sie das Datum, bis zu dem gesperrt wird.")
                )
        elif data.get("duration") == self.DATE and data["until_date"] < timezone.localdate():
            self.add_error("until_date", _("Das Datum darf nicht in der Vergangenheit liegen."))
        return data

    def until(self) -> datetime | None:
        """The end of the suspension: now plus the chosen days, the end of the chosen day in
        the site's time zone, or None for a suspension without end."""
        duration = self.cleaned_data["duration"]
        if duration == self.INDEFINITE:
            return None
        if duration == self.DATE:
            day_end = datetime.combine(self.cleaned_data["until_date"], time(23, 59))
            return timezone.make_aware(day_end)
        return timezone.now() + timedelta(days=self.DAYS[duration])


class SuspensionLiftForm(forms.Form):
    reason = forms.CharField(
        label=_("Begründung (geht an die betroffene Person)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": _("Bitte geben Sie eine Begründung an; die betroffene Person erhält sie.")
        },
    )


class AccountDeleteForm(forms.Form):
    """Self-service deletion: the current password and a typed confirmation."""

    CONFIRMATION = "LÖSCHEN"

    password = forms.CharField(
        label=_("Ihr aktuelles Passwort"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    confirmation = forms.CharField(
        label=_("Zur Bestätigung tippen Sie bitte LÖSCHEN"),
        help_text=_("in Großbuchstaben; „LOESCHEN“ geht auch"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, user: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(
                _("Das Passwort stimmt nicht. Bitte geben Sie Ihr aktuelles Passwort ein.")
            )
        return password

    def clean_confirmation(self) -> str:
        typed = self.cleaned_data["confirmation"].strip()
        if typed.upper() not in (self.CONFIRMATION, "LOESCHEN"):
            raise forms.ValidationError(
                _(
                    "Bitte tippen Sie LÖSCHEN in das Feld, wenn Sie Ihr Konto wirklich löschen wollen."
                )
            )
        return typed


def resolve_member(typed: str) -> User | None:
    """The person meant by what was typed into a successor or deputy field: a handle (with or
    without @) or, when exactly one person carries it, a display name."""
    typed = " ".join((typed or "").split()).lstrip("@")
    if not typed:
        return None
    person = User.objects.filter(handle__iexact=typed).first()
    if person is None:
        named = list(User.objects.filter(display_name__iexact=typed, is_active=True)[:2])
        person = named[0] if len(named) == 1 else None
    return person


class _StandInField(forms.CharField):
    """A handle typed (with suggestions from a <datalist>) and turned into a person."""

    def __init__(self, *, datalist: str, **kwargs):
        kwargs.setdefault("max_length", 100)
        super().__init__(**kwargs)
        self.widget.attrs.update(
            {
                "list": datalist,
                "autocomplete": "off",
                "autocapitalize": "none",
                "spellcheck": "false",
            }
        )

    def clean(self, value):
        typed = super().clean(value)
        if not typed:
            return None
        person = resolve_member(typed)
        if person is None:
            raise forms.ValidationError(
                _("Unter „%(typed)s“ ist kein Mitglied bekannt. Bitte wählen Sie aus der Liste."),
                params={"typed": typed},
            )
        return person


class DepartureForm(forms.Form):
    """A moderator marks a member as departed and names a successor."""

    successor = _StandInField(
        label=_("Nachfolge (Benutzername oder Name)"),
        required=False,
        datalist="stand-in-candidates",
        help_text=_(
            "Übernimmt Folgen und offene Fragen. Leer lassen, wenn niemand übernimmt. "
            "Kolleginnen und Kollegen derselben Organisation stehen oben in der Liste."
        ),
    )
    reason = forms.CharField(
        label=_("Begründung (für das Protokoll und die Nachfolge)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Bitte geben Sie eine Begründung an.")},
    )


class DepartureUndoForm(forms.Form):
    reason = forms.CharField(
        label=_("Begründung (für das Protokoll)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Bitte geben Sie eine Begründung an.")},
    )


class DeputyForm(forms.Form):
    """Who covers a member's absence, until when (inclusive)."""

    deputy = _StandInField(
        label=_("Vertretung (Benutzername oder Name)"),
        datalist="stand-in-candidates",
        help_text=_("Erhält bis zum Datum auch die @-Erwähnungen von Ihnen."),
        error_messages={"required": _("Bitte geben Sie an, wer Sie vertritt.")},
    )
    until = forms.DateField(
        label=_("Vertretung bis einschließlich"),
        input_formats=["%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": _("Bitte geben Sie an, bis wann die Vertretung gilt."),
            "invalid": _("Bitte geben Sie ein Datum an, z. B. 31.12.2026."),
        },
    )

    def clean_until(self):
        # The service checks again; here so that both fields' errors show at once.
        from .turnover import DEPUTY_MAX_DAYS

        until = self.cleaned_data.get("until")
        today = timezone.localdate()
        if until is not None and until < today:
            raise forms.ValidationError(_("Das Datum darf nicht in der Vergangenheit liegen."))
        if until is not None and until > today + timedelta(days=DEPUTY_MAX_DAYS):
            raise forms.ValidationError(_("Eine Vertretung gilt höchstens ein Jahr im Voraus."))
        return until

    def __init__(self, *args, for_moderator: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if for_moderator:
            self.fields["deputy"].help_text = _(
                "Erhält bis zum Datum auch die @-Erwähnungen der Person."
            )
            self.fields["reason"] = forms.CharField(
                label=_("Begründung (für das Protokoll)"),
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
                error_messages={"required": _("Bitte geben Sie eine Begründung an.")},
            )
