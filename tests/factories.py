"""Test data built through the services, as the product builds it."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress

from accounts.models import Organisation, User
from accounts.selectors import current_terms
from accounts.services import membership_on_email_confirmed, moderator_create, terms_accept
from forum.models import Category

PASSWORD = "Sicheres-Passwort-2026"


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Themenfeld {n}")
    slug = factory.Sequence(lambda n: f"themenfeld-{n}")
    description = "Beschreibung"
    visibility = Category.Visibility.PUBLIC


def make_user(
    *, email: str, handle: str, name: str = "Test Person", confirmed: bool = True
) -> User:
    """An account as signup leaves it: a password, an address, the current terms accepted."""
    user = User.objects.create_user(
        email=email, password=PASSWORD, handle=handle, display_name=name
    )
    EmailAddress.objects.create(user=user, email=email, verified=confirmed, primary=True)
    terms = current_terms()
    if terms is not None:
        terms_accept(user, terms=terms)
    if confirmed:
        user = membership_on_email_confirmed(user, email=email)
    return user


def make_member(*, email: str = "anna.schmidt@bochum.de", handle: str = "anna-schmidt") -> User:
    user = make_user(email=email, handle=handle, name=handle.replace("-", " ").title())
    assert user.is_approved_member, "the e-mail domain must belong to an organisation"
    return user


def make_moderator(*, email: str = "mod@agentur.example.org", handle: str = "moderatorin") -> User:
    user = moderator_create(
        email=email,
        handle=handle,
        display_name="Mona Moderatorin",
        password=PASSWORD,
        organisation=Organisation.objects.get(slug="innovationsagentur"),
    )
    terms = current_terms()
    if terms is not None:
        terms_accept(user, terms=terms)
    return user


def activate_totp(user: User) -> str:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def make_thread(
    author: User,
    *,
    category: Category,
    kind: str = "question",
    title: str = "Wie gehen Sie mit Leerstand um?",
    body: str = "Erster Beitrag.",
    tags=None,
    **extra,
):
    from forum.services.threads import thread_create

    return thread_create(
        author, category=category, kind=kind, title=title, body=body, tags=tags or [], **extra
    )
