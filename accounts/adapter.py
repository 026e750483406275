"""The allauth boundary: signup fields, handle checks and the membership hooks."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        data = form.cleaned_data
        user.handle = data["handle"]
        user.display_name = data["display_name"].strip()
        return super().save_user(request, user, form, commit=commit)

    def get_email_verification_redirect_url(self, email_address):
        return super().get_email_verification_redirect_url(email_address)

    def send_mail(self, template_prefix, email, context):
        context = {"site_url": settings.SITE_URL, "forum_name": settings.FORUM_NAME, **context}
        return super().send_mail(template_prefix, email, context)
