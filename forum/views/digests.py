"""Digest subscription pages and the links in e-mails (manage, confirm, one-click unsubscribe).

The links work without logging in: a signed token stands for the subscription (or, for
notification mails, the person and kind). A bare POST to an unsubscribe link, as mail clients
send it (RFC 8058), unsubscribes at once without a confirmation page; the GET page offers the
finer choices.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt

from accounts.models import User
from forum import mailtokens
from forum.models import PUBLIC_SECTIONS, Channel, DigestSubscription, Kind, Section
from forum.services import digests, notifications

WEEKDAYS = [
    (0, gettext_lazy("Montag")),
    (1, gettext_lazy("Dienstag")),
    (2, gettext_lazy("Mittwoch")),
    (3, gettext_lazy("Donnerstag")),
    (4, gettext_lazy("Freitag")),
    (5, gettext_lazy("Samstag")),
    (6, gettext_lazy("Sonntag")),
]


class DigestForm(forms.Form):
    frequency = forms.ChoiceField(
        label=gettext_lazy("Wie oft?"),
        choices=DigestSubscription.Frequency.choices,
        widget=forms.RadioSelect,
        error_messages={"required": gettext_lazy("Bitte wählen Sie täglich oder wöchentlich.")},
    )
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Wochentag (bei wöchentlich)"),
        choices=WEEKDAYS,
        coerce=int,
        initial=0,
    )
    hour = forms.TypedChoiceField(
        label=gettext_lazy("Uhrzeit"),
        choices=[(h, f"{h:02d}:00") for h in range(24)],
        coerce=int,
        initial=7,
    )
    sections = forms.MultipleChoiceField(
        label=gettext_lazy("Rubriken"),
        choices=Section.choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": gettext_lazy("Bitte wählen Sie mindestens eine Rubrik.")},
    )
    topics = forms.ChoiceField(
        label=gettext_lazy("Welche Themen?"),
        choices=DigestSubscription.Topics.choices,
        widget=forms.RadioSelect,
        initial=DigestSubscription.Topics.FOLLOWED,
    )
    paused_until = forms.DateField(
        label=gettext_lazy("Pausieren bis (z. B. während des Urlaubs)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        input_formats=["%Y-%m-%d", "%d.%m.%Y"],
        help_text=gettext_lazy("Bis einschließlich zu diesem Tag bekommen Sie keinen Digest."),
    )

    def __init__(self, *args, public: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if public:
            self.fields["sections"].choices = [
                (value, label) for value, label in Section.choices if value in PUBLIC_SECTIONS
            ]
            del self.fields["topics"]


class PublicForm(forms.Form):
    email = forms.EmailField(
        label=gettext_lazy("E-Mail-Adresse"),
        error_messages={
            "required": gettext_lazy("Bitte geben Sie Ihre E-Mail-Adresse an."),
            "invalid": gettext_lazy("Bitte geben Sie eine gültige E-Mail-Adresse an."),
        },
    )


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _initial(subscription: DigestSubscription | None) -> dict:
    if subscription is None:
        return {}
    return {
        "frequency": subscription.frequency,
        "weekday": subscription.weekday,
        "hour": subscription.hour,
        "sections": subscription.sections,
        "topics": subscription.topics,
        "paused_until": subscription.paused_until,
    }


def subscribe(request):
    """/digest/: members choose their digest; visitors ask for the public one by e-mail."""
    if not request.user.is_authenticated:
        return _public_subscribe(request)
    subscription = DigestSubscription.objects.filter(user=request.user).first()
    form = DigestForm(request.POST or None, initial=_initial(subscription))
    if request.method == "POST" and "abbestellen" in request.POST and subscription:
        digests.subscription_end(subscription)
        messages.success(request, _("Sie erhalten keinen Digest mehr."))
        return redirect("forum:digest")
    if request.method == "POST" and form.is_valid():
        try:
            digests.subscription_save(request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Ihre Digest-Einstellungen sind gespeichert."))
            return redirect("forum:digest")
    return render(
        request,
        "forum/digest.html",
        {"form": form, "subscription": subscription},
        status=400 if request.method == "POST" else 200,
    )


def _public_subscribe(request):
    form = PublicForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            digests.public_subscribe(form.cleaned_data["email"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return render(
                request, "forum/digest_public_sent.html", {"email": form.cleaned_data["email"]}
            )
    return render(
        request,
        "forum/digest_public.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def _link_error(request, exc: Exception, *, status: int = 400):
    expired = isinstance(exc, mailtokens.LinkExpired)
    return render(request, "forum/digest_link_error.html", {"expired": expired}, status=status)


def _subscription_for(token: str, purpose: str = "digest"):
    link = mailtokens.read(token, purpose=purpose)
    subscription = DigestSubscription.objects.select_related("user").filter(pk=link.subject).first()
    mailtokens.verify_subscription(link, subscription)
    return link, subscription


def confirm(request, token: str):
    """Double opt-in: the link from the confirmation mail. GET asks (link scanners in mail
    gateways open links; they do not press buttons), POST confirms."""
    try:
        _link, subscription = _subscription_for(token, "confirm")
    except (mailtokens.LinkExpired, mailtokens.LinkInvalid) as exc:
        return _link_error(request, exc)
    if request.method == "POST":
        digests.public_confirm(subscription)
        return render(
            request,
            "forum/digest_confirmed.html",
            {"manage_url": mailtokens.digest_manage_url(subscription)},
        )
    return render(
        request, "forum/digest_confirm.html", {"subscription": subscription, "token": token}
    )


def manage(request, token: str):
    """Change or end a subscription from the link in any digest, without logging in."""
    try:
        _link, subscription = _subscription_for(token)
    except (mailtokens.LinkExpired, mailtokens.LinkInvalid) as exc:
        return _link_error(request, exc)
    public = subscription.is_public
    form = DigestForm(request.POST or None, initial=_initial(subscription), public=public)
    if request.method == "POST" and "abbestellen" in request.POST:
        digests.subscription_end(subscription)
        return render(request, "forum/digest_unsubscribed.html", {"all": True})
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.setdefault("topics", DigestSubscription.Topics.ALL)
        try:
            digests.subscription_update(subscription, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("Ihre Digest-Einstellungen sind gespeichert."))
            return redirect("forum:digest_manage", token=token)
    return render(
        request,
        "forum/digest_manage.html",
        {"form": form, "subscription": subscription, "token": token},
        status=400 if request.method == "POST" else 200,
    )


@csrf_exempt  # RFC 8058: the mail client POSTs without a session or token of ours
def unsubscribe(request, token: str):
    """One section (or the whole digest) from the link in a digest's header or section."""
    try:
        link, subscription = _subscription_for(token)
    except (mailtokens.LinkExpired, mailtokens.LinkInvalid) as exc:
        return _link_error(request, exc)
    section = link.scope
    label = Section(section).label if section in Section.values else ""
    if request.method == "POST":
        digests.section_remove(subscription, section)
        return render(
            request,
            "forum/digest_unsubscribed.html",
            {"all": section == "*", "section": label},
        )
    return render(
        request,
        "forum/digest_unsubscribe.html",
        {
            "subscription": subscription,
            "section": label,
            "all": section == "*",
            "manage_url": mailtokens.digest_manage_url(subscription),
        },
    )


@csrf_exempt  # RFC 8058, as above
def notify_unsubscribe(request, token: str):
    """No more e-mails of one kind of notification (they stay on the site); the GET page
    offers the other kinds too."""
    try:
        link = mailtokens.read(token, purpose="notify")
    except (mailtokens.LinkExpired, mailtokens.LinkInvalid) as exc:
        return _link_error(request, exc)
    user = User.objects.filter(pk=link.subject, is_active=True).first()
    if user is None or link.scope not in Kind.values:
        return _link_error(request, mailtokens.LinkInvalid())
    kind = Kind(link.scope)
    if request.method == "POST" and "kinds" not in request.POST:
        notifications.preferences_set(user, channels={kind: Channel.SITE})
        return render(
            request, "forum/notify_unsubscribed.html", {"kinds": [kind.label], "token": token}
        )
    current = notifications.preferences_for(user)
    if request.method == "POST":
        chosen = set(request.POST.getlist("kinds"))
        changes = {
            k: Channel.SITE
            for k, channel in current.items()
            if channel == Channel.EMAIL and k not in chosen
        }
        notifications.preferences_set(user, channels=changes)
        return render(
            request,
            "forum/notify_unsubscribed.html",
            {"kinds": [Kind(k).label for k in changes], "token": token},
        )
    emailed = [
        (k, Kind(k).label, k == kind) for k, channel in current.items() if channel == Channel.EMAIL
    ]
    return render(
        request,
        "forum/notify_unsubscribe.html",
        {"kind": kind, "emailed": emailed, "token": token},
    )
