"""Signup, confirmation and membership, driven through the real allauth views."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from forum.models import Category
from tests.factories import PASSWORD, CategoryFactory

SIGNUP = "/accounts/signup/"


def signup(
    client, *, email, handle="anna-schmidt", name="Anna Schmidt", password=PASSWORD, **extra
):
    data = {
        "display_name": name,
        "handle": handle,
        "email": email,
        "password1": password,
        "password2": password,
        "accept_terms": "on",
        **extra,
    }
    return client.post(SIGNUP, data)


def confirmation_link(message) -> str:
    match = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^\s]+/)", message.body)
    assert match, message.body
    return match.group(1)


def confirm_latest(client):
    link = confirmation_link(mail.outbox[-1])
    page = client.get(link)
    assert page.status_code == 200
    return client.post(link)


@pytest.fixture
def members_only(db):
    return CategoryFactory(slug="intern", name="Intern", visibility=Category.Visibility.MEMBERS)


@pytest.mark.django_db
class TestSignupByDomain:
    def test_an_official_address_makes_an_approved_member_at_once(
        self, client, network, members_only
    ):
        response = signup(client, email="anna.schmidt@bochum.de")
        assert response.status_code == 302
        assert response.url == reverse("account_email_verification_sent")
        user = User.objects.get(email="anna.schmidt@bochum.de")
        assert user.membership == User.Membership.PENDING  # not before the address is confirmed
        assert client.get(members_only.get_absolute_url()).status_code == 404

        confirm_latest(client)
        user.refresh_from_db()
        assert user.membership == User.Membership.APPROVED
        assert user.organisation.slug == "bochum"
        assert client.get(members_only.get_absolute_url()).status_code == 200
        assert client.get("/u/").status_code == 200

    def test_a_subdomain_counts_as_the_organisation(self, client, network):
        signup(client, email="anna@stadtplanung.bochum.de")
        confirm_latest(client)
        assert User.objects.get(handle="anna-schmidt").organisation.slug == "bochum"

    def test_the_confirmation_mail_is_german_and_formal(self, client, network):
        signup(client, email="anna@bochum.de")
        body = mail.outbox[-1].body
        assert "E-Mail" in body
        assert not re.search(r"\b(du|dich|dein|deine)\b", body, re.IGNORECASE)

    def test_terms_acceptance_is_recorded_and_required(self, client, network):
        response = signup(client, email="anna@bochum.de", accept_terms="")
        # An unticked checkbox is absent from a real form post.
        data = {
            "display_name": "Anna",
            "handle": "anna-x",
            "email": "anna@bochum.de",
            "password1": PASSWORD,
            "password2": PASSWORD,
        }
        response = client.post(SIGNUP, data)
        assert response.status_code == 200
        assert "Bitte stimmen Sie den Nutzungsbedingungen" in response.content.decode()
        assert not User.objects.filter(email="anna@bochum.de").exists()
        signup(client, email="anna@bochum.de")
        assert User.objects.get(email="anna@bochum.de").terms_acceptances.count() == 1


@pytest.mark.django_db
class TestSignupWithoutDomain:
    def test_free_mail_is_pending_until_a_moderator_approves(
        self, client, network, members_only, mod_client, django_capture_on_commit_callbacks
    ):
        anon = client.__class__()
        signup(anon, email="anna.schmidt@posteo.de")
        confirm_latest(anon)
        user = User.objects.get(email="anna.schmidt@posteo.de")
        assert user.membership == User.Membership.PENDING
        assert anon.get(members_only.get_absolute_url()).status_code == 404
        # Pending people can read public content and see why they cannot write.
        home = anon.get("/")
        assert "Ihre Mitgliedschaft wird geprüft" in home.content.decode()

        queue = mod_client.get("/mod/members/")
        assert "anna.schmidt@posteo.de" in queue.content.decode()
        from accounts.models import Organisation

        krefeld = Organisation.objects.get(slug="krefeld")
        with django_capture_on_commit_callbacks(execute=True):
            response = mod_client.post(
                f"/mod/members/{user.pk}/approve/", {f"m{user.pk}-organisation": krefeld.pk}
            )
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.is_approved_member and user.organisation == krefeld
        assert "Stadt Krefeld" in mail.outbox[-1].subject
        assert anon.get(members_only.get_absolute_url()).status_code == 200
        assert "anna.schmidt@posteo.de" not in mod_client.get("/mod/members/").content.decode()

    def test_a_rejected_person_gets_the_reason_by_mail(
        self, client, network, mod_client, django_capture_on_commit_callbacks
    ):
        anon = client.__class__()
        signup(anon, email="spam@example.com", handle="spammer")
        confirm_latest(anon)
        user = User.objects.get(email="spam@example.com")
        with django_capture_on_commit_callbacks(execute=True):
            response = mod_client.post(
                f"/mod/members/{user.pk}/reject/",
                {
                    f"m{user.pk}-reason": "Keine Tätigkeit in einer beteiligten Verwaltung erkennbar."
                },
            )
        assert response.status_code == 302
        user.refresh_from_db()
        assert user.membership == User.Membership.REJECTED
        rejection = mail.outbox[-1]
        assert rejection.to == ["spam@example.com"]
        assert "Keine Tätigkeit in einer beteiligten Verwaltung erkennbar." in rejection.body
        assert "Ihre Mitgliedschaft wurde abgelehnt" in anon.get("/").content.decode()

    def test_rejecting_without_a_reason_keeps_the_queue_and_explains(
        self, client, network, mod_client
    ):
        anon = client.__class__()
        signup(anon, email="x@example.com", handle="xperson")
        confirm_latest(anon)
        user = User.objects.get(email="x@example.com")
        response = mod_client.post(f"/mod/members/{user.pk}/reject/", {f"m{user.pk}-reason": ""})
        assert response.status_code == 400
        assert "Bitte geben Sie eine Begründung an." in response.content.decode()
        user.refresh_from_db()
        assert user.membership == User.Membership.PENDING

    def test_unconfirmed_people_are_not_in_the_queue(self, client, network, mod_client):
        signup(client, email="noch.nicht@example.com", handle="nochnicht")
        assert "noch.nicht@example.com" not in mod_client.get("/mod/members/").content.decode()


@pytest.mark.django_db
class TestSignupMistakes:
    def test_a_duplicate_address_sees_the_same_page_and_the_owner_gets_a_notice(
        self, client, member
    ):
        mail.outbox.clear()
        response = signup(client, email=member.email.upper(), handle="someone-else")
        assert response.status_code == 302
        assert response.url == reverse("account_email_verification_sent")
        assert User.objects.filter(email__iexact=member.email).count() == 1
        assert not User.objects.filter(handle="someone-else").exists()
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == [member.email]

    def test_a_taken_handle_gets_a_german_message_and_keeps_the_input(self, client, member):
        response = signup(client, email="neu@bochum.de", handle="JONAS-BECKER", name="Neue Person")
        html = response.content.decode()
        assert response.status_code == 200
        assert "ist bereits vergeben" in html
        assert 'value="neu@bochum.de"' in html and 'value="Neue Person"' in html
        assert 'aria-invalid="true"' in html

    @pytest.mark.parametrize("handle", ["ab", "anna schmidt", "änne", "-anna", "admin"])
    def test_bad_handles_are_explained(self, client, network, handle):
        response = signup(client, email="neu@bochum.de", handle=handle)
        assert response.status_code == 200
        assert "Benutzername" in response.content.decode()
        assert not User.objects.filter(email="neu@bochum.de").exists()

    def test_a_weak_password_is_refused_in_german(self, client, network):
        response = signup(client, email="neu@bochum.de", password="12345678")
        html = response.content.decode()
        assert response.status_code == 200
        assert "Passwort" in html and "zu kurz" in html
        assert not User.objects.filter(email="neu@bochum.de").exists()


@pytest.mark.django_db
class TestLogin:
    def test_a_wrong_password_gets_a_german_message(self, client, member):
        response = client.post("/accounts/login/", {"login": member.email, "password": "falsch"})
        assert response.status_code == 200
        assert (
            "E-Mail-Adresse und/oder das Passwort sind leider falsch" in response.content.decode()
        )

    def test_an_unconfirmed_address_cannot_log_in_and_is_told_to_confirm(self, client, network):
        signup(client, email="neu@bochum.de", handle="neu")
        client.logout()
        mail.outbox.clear()
        response = client.post("/accounts/login/", {"login": "neu@bochum.de", "password": PASSWORD})
        assert response.status_code == 302
        assert response.url == reverse("account_email_verification_sent")
        assert "_auth_user_id" not in client.session
        # The link from signup is still fresh: no second mail within allauth's rate limit.
        assert len(mail.outbox) == 0
        page = client.get(response.url)
        assert "Bestätigen Sie Ihre E-Mail-Adresse" in page.content.decode()

    def test_a_member_logs_in(self, client, member):
        response = client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
        assert response.status_code == 302
        assert client.session["_auth_user_id"] == str(member.pk)


@pytest.mark.django_db
def test_repeated_failed_logins_are_rate_limited_with_a_german_message(client, member):
    for _ in range(5):
        client.post("/accounts/login/", {"login": member.email, "password": "falsch"})
    response = client.post("/accounts/login/", {"login": member.email, "password": PASSWORD})
    html = response.content.decode()
    assert "_auth_user_id" not in client.session
    assert "Zu viele" in html


@pytest.mark.django_db
def test_signup_is_rate_limited_with_a_german_page(client, network, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/m/ip"}
    for n in range(2):
        signup(client, email=f"person{n}@bochum.de", handle=f"person-{n}")
        client.logout()
    response = signup(client, email="person9@bochum.de", handle="person-9")
    assert response.status_code == 429
    page = response.content.decode()
    assert "Zu viele Versuche" in page and "Bitte warten Sie einige Minuten" in page
    assert not User.objects.filter(email="person9@bochum.de").exists()
