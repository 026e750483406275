"""Receivers at the allauth boundary; they only call services."""

from __future__ import annotations

from allauth.account.signals import email_confirmed
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver


@receiver(email_confirmed)
def decide_membership_on_confirmation(sender, request, email_address, **kwargs):
    from .services import membership_on_email_confirmed

    if email_address.primary:
        membership_on_email_confirmed(email_address.user, email=email_address.email)


@receiver(user_logged_in)
def end_retention_warning_on_login(sender, request, user, **kwargs):
    from .retention import retention_reset

    retention_reset(user)
