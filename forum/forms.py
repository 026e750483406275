from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


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
