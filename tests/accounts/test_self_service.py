"""What a person does with their own account: e-mail, profile, terms."""

from __future__ import annotations

import pytest
from django.core import mail

from accounts.models import TermsVersion, User
from accounts.services import terms_publish
from tests.accounts.test_signup import confirmation_link
from tests.factories import PASSWORD


def login(client, user):
    response = client.post("/accounts/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:2000]


def change_email(client, new_email):
    mail.outbox.clear()
    response = client.post("/accounts/email/", {"email": new_email, "action_add": ""})
    html = response.content.decode()
    assert response.status_code == 302, html[html.find("<main") : html.find("</main>")]
    link = confirmation_link(mail.outbox[-1])
    return client.post(link)


@pytest.mark.django_db
class TestEmailChange:
    def test_moving_to_a_free_mail_address_puts_the_membership_up_for_review(
        self, client, member, mod_client
    ):
        login(client, member)
        change_email(client, "jonas.privat@posteo.de")
        member.refresh_from_db()
        assert member.email == "jonas.privat@posteo.de"
        assert member.membership == User.Membership.PENDING
        assert member.organisation.slug == "bochum"  # kept for the moderator's context
        assert "außerhalb der Domains von Stadt Bochum" in member.membership_note
        assert "jonas.privat@posteo.de" in mod_client.get("/mod/members/").content.decode()

    def test_staying_within_the_organisation_changes_nothing(self, client, member):
        login(client, member)
        change_email(client, "jonas.becker@stadtplanung.bochum.de")
        member.refresh_from_db()
        assert member.is_approved_member and member.organisation.slug == "bochum"

    def test_another_organisations_domain_is_reviewed_with_a_suggestion(self, client, member):
        login(client, member)
        change_email(client, "jonas.becker@krefeld.de")
        member.refresh_from_db()
        assert member.membership == User.Membership.PENDING
        assert member.suggested_organisation.slug == "krefeld"

    def test_a_pending_person_who_confirms_an_official_address_is_approved(self, client, network):
        from tests.factories import make_user

        person = make_user(email="lena@posteo.de", handle="lena")
        assert person.membership == User.Membership.PENDING
        login(client, person)
        change_email(client, "lena.fischer@hamm.de")
        person.refresh_from_db()
        assert person.is_approved_member and person.organisation.slug == "hamm"


@pytest.mark.django_db
class TestProfile:
    def test_a_member_edits_the_profile_shown_on_author_lines(self, client, member):
        client.force_login(member)
        response = client.post(
            "/accounts/profile/",
            {
                "display_name": "Jonas Becker",
                "job_title": "Stadterneuerung",
                "bio": "Brachflächen seit 2015.",
                "expertise": "Brachflächen, Zwischennutzung, brachflächen",
            },
        )
        assert response.status_code == 302
        member.refresh_from_db()
        assert sorted(t.name for t in member.expertise.all()) == ["Brachflächen", "Zwischennutzung"]
        profile = client.get(f"/u/{member.handle}/").content.decode()
        assert "Stadterneuerung" in profile and "Stadt Bochum" in profile

    def test_an_invalid_profile_keeps_what_was_typed(self, client, member):
        client.force_login(member)
        response = client.post(
            "/accounts/profile/",
            {
                "display_name": "",
                "job_title": "Mein Amt",
                "bio": "Langer Text",
                "expertise": "x" * 60,
            },
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert "Mein Amt" in html and "Langer Text" in html
        assert "höchstens 50 Zeichen" in html

    def test_profiles_are_for_the_network_only(self, client, member):
        assert client.get(f"/u/{member.handle}/").status_code == 404
        assert client.get("/u/").status_code == 302  # to the login

    def test_a_profile_url_is_case_insensitive_and_canonical(self, client, member):
        client.force_login(member)
        response = client.get("/u/JONAS-BECKER/")
        assert response.status_code == 301 and response.url == "/u/jonas-becker/"


@pytest.mark.django_db
class TestTerms:
    def test_a_new_version_must_be_accepted_before_going_on(self, client, member):
        client.force_login(member)
        assert client.get("/").status_code == 200
        terms_publish(
            None, terms=TermsVersion.objects.create(version="2.0", body="## Neu\n\nNeue Regeln.")
        )
        from django.core.cache import cache

        cache.clear()
        response = client.get("/o/bochum/")
        assert response.status_code == 302
        assert response.url == "/accounts/terms/?next=/o/bochum/"
        page = client.get(response.url).content.decode()
        assert "Neue Regeln." in page and "Fassung 2.0" in page
        # Not ticking the box explains and keeps the person on the page.
        refused = client.post("/accounts/terms/", {"next": "/o/bochum/"})
        assert "Bitte bestätigen Sie Ihre Zustimmung." in refused.content.decode()
        accepted = client.post("/accounts/terms/", {"accept": "on", "next": "/o/bochum/"})
        assert accepted.url == "/o/bochum/"
        assert client.get("/o/bochum/").status_code == 200

    def test_a_write_before_accepting_is_refused_without_loss(self, client, member):
        client.force_login(member)
        terms_publish(None, terms=TermsVersion.objects.create(version="3.0", body="Text"))
        from django.core.cache import cache

        cache.clear()
        response = client.post("/accounts/profile/", {"display_name": "X"})
        assert response.status_code == 302 and response.url == "/accounts/terms/"
        member.refresh_from_db()
        assert member.display_name != "X"

    def test_the_terms_are_public_for_visitors(self, client, db):
        page = client.get("/accounts/terms/")
        assert page.status_code == 200
        assert "Nutzungsbedingungen" in page.content.decode()
