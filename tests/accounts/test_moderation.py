"""Invitations, the moderators' queue and its guards."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied

from accounts.models import Invitation, Organisation, User
from accounts.services import invitation_create, membership_approve
from forum.models import AuditEntry
from tests.accounts.test_signup import confirm_latest, signup
from tests.factories import activate_totp, make_user


@pytest.mark.django_db
class TestInvitation:
    def test_an_invited_ministry_employee_is_a_member_on_confirmation(
        self, client, mod_client, django_capture_on_commit_callbacks
    ):
        ministry = Organisation.objects.get(slug="ministerium")
        with django_capture_on_commit_callbacks(execute=True):
            response = mod_client.post(
                "/mod/invitations/",
                {
                    "email": "Claudia.Neumann@mhkbd.nrw.de",
                    "organisation": ministry.pk,
                    "message": "Willkommen!",
                },
            )
        assert response.status_code == 302
        invitation_mail = mail.outbox[-1]
        assert invitation_mail.to == ["claudia.neumann@mhkbd.nrw.de"]
        assert "Willkommen!" in invitation_mail.body
        link = re.search(
            r"https?://[^/\s]+(/accounts/invitation/[^\s]+/)", invitation_mail.body
        ).group(1)

        anon = client.__class__()
        landing = anon.get(link)
        assert landing.status_code == 200
        assert ministry.name in landing.content.decode()
        signup_page = anon.get("/accounts/signup/?email=claudia.neumann%40mhkbd.nrw.de")
        assert 'value="claudia.neumann@mhkbd.nrw.de"' in signup_page.content.decode()
        signup(anon, email="claudia.neumann@mhkbd.nrw.de", handle="claudia-neumann")
        assert User.objects.get(handle="claudia-neumann").membership == User.Membership.PENDING
        confirm_latest(anon)
        user = User.objects.get(handle="claudia-neumann")
        assert user.is_approved_member and user.organisation == ministry
        invitation = Invitation.objects.get()
        assert invitation.accepted_by == user and not invitation.is_open
        assert anon.get(link).status_code == 410  # used up

    def test_an_invitation_binds_to_its_address(self, client, mfa_moderator):
        ministry = Organisation.objects.get(slug="ministerium")
        invitation_create(mfa_moderator, email="a@mhkbd.nrw.de", organisation=ministry)
        signup(client, email="b@mhkbd.nrw.de", handle="b-person")
        confirm_latest(client)
        assert User.objects.get(handle="b-person").membership == User.Membership.PENDING

    def test_members_cannot_invite(self, member, bochum):
        with pytest.raises(PermissionDenied):
            invitation_create(member, email="x@example.com", organisation=bochum)

    def test_inviting_an_existing_member_is_explained(self, mod_client, member, bochum):
        response = mod_client.post(
            "/mod/invitations/", {"email": member.email, "organisation": bochum.pk}
        )
        assert response.status_code == 200
        assert "gehört bereits einem Mitglied" in response.content.decode()


@pytest.mark.django_db
class TestModeratorGuards:
    def test_a_moderator_without_two_factor_is_sent_to_set_it_up(self, client, moderator):
        client.force_login(moderator)
        response = client.get("/mod/members/")
        assert response.status_code == 302
        assert response.url == "/accounts/2fa/totp/activate/"
        # Setting up 2FA asks for the password again first (a forced login is not "recent").
        page = client.get(response.url, follow=True)
        assert page.status_code == 200
        assert "Zwei-Faktor-Authentifizierung ein" in page.content.decode()
        activate_totp(moderator)
        assert client.get("/mod/members/").status_code == 200

    def test_staff_need_two_factor_for_the_admin(self, client, network):
        operator = make_user(email="betrieb@agentur.example.org", handle="betrieb")
        operator.is_staff = True
        operator.is_superuser = True
        operator.save()
        client.force_login(operator)
        assert client.get("/admin/").url == "/accounts/2fa/totp/activate/"
        activate_totp(operator)
        assert client.get("/admin/").status_code == 200

    def test_members_get_403_and_visitors_the_login(self, client, member):
        assert client.get("/mod/members/").status_code == 302
        client.force_login(member)
        response = client.get("/mod/members/")
        assert response.status_code == 403
        assert "der Moderation vorbehalten" in response.content.decode()

    def test_a_member_cannot_approve_by_posting_directly(self, client, member, network):
        pending = make_user(email="p@example.com", handle="pending-person")
        client.force_login(member)
        bochum = Organisation.objects.get(slug="bochum")
        response = client.post(
            f"/mod/members/{pending.pk}/approve/", {f"m{pending.pk}-organisation": bochum.pk}
        )
        assert response.status_code == 403
        pending.refresh_from_db()
        assert pending.membership == User.Membership.PENDING

    def test_the_moderators_group_is_a_group_with_permissions_not_staff(self, moderator):
        assert not moderator.is_staff
        assert moderator.groups.filter(name="Moderation").exists()
        assert moderator.has_perm("accounts.review_membership")

    def test_approval_is_audited_with_actor_and_old_and_new_values(self, mfa_moderator, network):
        pending = make_user(email="p@example.com", handle="pending-person")
        krefeld = Organisation.objects.get(slug="krefeld")
        membership_approve(mfa_moderator, user=pending, organisation=krefeld)
        entry = AuditEntry.objects.filter(
            action="membership.approved", target_id=str(pending.pk)
        ).get()
        assert entry.actor == mfa_moderator
        assert entry.old_value == {"membership": "pending", "organisation": None}
        assert entry.new_value["organisation"] == "krefeld"

    def test_a_moderator_approves_only_confirmed_addresses(self, mfa_moderator, network):
        from django.core.exceptions import ValidationError

        unconfirmed = make_user(email="u@example.com", handle="unconfirmed", confirmed=False)
        with pytest.raises(ValidationError):
            membership_approve(
                mfa_moderator, user=unconfirmed, organisation=Organisation.objects.get(slug="hamm")
            )


@pytest.mark.django_db
class TestCreateModeratorCommand:
    def test_makes_the_first_moderator(self, network, monkeypatch, capsys):
        from django.core.management import call_command

        monkeypatch.setenv("MODERATOR_PASSWORD", "Ein-langes-Passwort-2026")
        call_command(
            "create_moderator",
            email="erste@agentur.example.org",
            handle="erste",
            name="Erste Moderatorin",
        )
        user = User.objects.get(handle="erste")
        assert user.is_approved_member and user.has_perm("accounts.moderate")
        assert user.check_password("Ein-langes-Passwort-2026")
        assert "moderiert jetzt" in capsys.readouterr().out

    def test_refuses_a_weak_password_in_german(self, network, monkeypatch):
        from django.core.management import CommandError, call_command

        monkeypatch.setenv("MODERATOR_PASSWORD", "123")
        with pytest.raises(CommandError, match="zu kurz"):
            call_command(
                "create_moderator", email="x@agentur.example.org", handle="xx-mod", name="X"
            )
