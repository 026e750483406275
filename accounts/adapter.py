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
        """Render as allauth does and send from the task queue (confirmations and password
        resets are transactional: no unsubscribe header). allauth calls this at the end of its
        own flows, outside any transaction of ours, so the task is enqueued right away."""
        from allauth.core import context as allauth_context

        from forum.emails import message_from_email
        from forum.tasks import send_email

        # allauth names the "site" after the request's host; mails name the forum instead.
        site = SimpleNamespace(name=settings.FORUM_NAME, domain=urlsplit(settings.SITE_URL).netloc)
        context = {
            "request": allauth_context.request,
            "email": email,
            "site_url": settings.SITE_URL,
            "forum_name": settings.FORUM_NAME,
            "current_site": site,
            **context,
        }
        send_email.enqueue(message_from_email(self.render_mail(template_prefix, email, context)))
