"""The allauth boundary: signup fields, handle checks and the membership hooks."""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        data = form.cleaned_data
        user.handle = data["handle"]
        user.display_name = data["display_name"].strip()
        return super().save_user(request, user, form, commit=commit)

    def send_mail(self, template_prefix, email, context):
        # allauth names the "site" after the request's host; mails name the forum instead.
        site = SimpleNamespace(name=settings.FORUM_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        context = {
            "site_url": settings.SITE_URL,
            "forum_name": settings.FORUM_NAME,
            "current_site": site,
            **context,
        }
        return super().send_mail(template_prefix, email, context)
