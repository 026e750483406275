from __future__ import annotations

import pytest

from accounts.models import User
from forum.models import AuditEntry
from tests.factories import activate_totp, make_user


@pytest.fixture
def operator(network):
    user = make_user(email="betrieb@agentur.example.org", handle="betrieb")
    user.is_staff = True
    user.is_superuser = True
    user.save()
    activate_totp(user)
    return user


@pytest.mark.django_db
class TestAdmin:
    @pytest.mark.parametrize(
        "url",
        [
            "/admin/",
            "/admin/accounts/user/",
            "/admin/accounts/user/?membership__exact=pending",
            "/admin/accounts/organisation/?q=bochum",
            "/admin/accounts/invitation/",
            "/admin/accounts/termsversion/",
            "/admin/forum/auditentry/",
            "/admin/forum/sitepage/",
            "/admin/forum/category/",
        ],
    )
    def test_operators_lists_work(self, client, operator, url):
        client.force_login(operator)
        assert client.get(url).status_code == 200

    def test_audit_entries_cannot_be_edited_or_deleted(self, client, operator, mfa_moderator):
        pending = make_user(email="p@example.com", handle="pending-p")
        from accounts.models import Organisation
        from accounts.services import membership_approve

        membership_approve(
            mfa_moderator, user=pending, organisation=Organisation.objects.get(slug="hamm")
        )
        entry = AuditEntry.objects.latest("id")
        client.force_login(operator)
        page = client.get(f"/admin/forum/auditentry/{entry.pk}/change/")
        assert page.status_code == 200 and 'name="action"' not in page.content.decode()
        assert (
            client.post(f"/admin/forum/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code
            == 403
        )
        assert AuditEntry.objects.filter(pk=entry.pk).exists()

    def test_membership_is_approved_through_the_admin_action_and_audited(self, client, operator):
        from accounts.models import Organisation

        pending = make_user(email="p@example.com", handle="pending-p")
        pending.suggested_organisation = Organisation.objects.get(slug="siegen")
        pending.save()
        client.force_login(operator)
        response = client.post(
            "/admin/accounts/user/",
            {"action": "approve_membership", "_selected_action": [pending.pk]},
        )
        assert response.status_code == 302
        pending.refresh_from_db()
        assert (
            pending.membership == User.Membership.APPROVED and pending.organisation.slug == "siegen"
        )
        assert AuditEntry.objects.filter(action="membership.approved", actor=operator).exists()

    def test_membership_cannot_be_edited_directly_in_the_admin(self, client, operator):
        client.force_login(operator)
        page = client.get(f"/admin/accounts/user/{operator.pk}/change/").content.decode()
        assert 'name="membership"' not in page


@pytest.mark.django_db
def test_operators_erase_accounts_through_the_action_never_by_deleting(client, operator):
    member = make_user(email="weg@bochum.de", handle="weg-damit", name="Wera Weg")
    client.force_login(operator)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "erase_accounts", "_selected_action": [member.pk]},
        follow=True,
    )
    assert response.status_code == 200
    member.refresh_from_db()
    assert member.erased_at is not None and member.display_name == "ehemaliges Mitglied"
    entry = AuditEntry.objects.get(action="member.erased")
    assert entry.actor_id == operator.pk and entry.reason == "Durch den Betrieb gelöscht"
    assert client.get(f"/admin/accounts/user/{member.pk}/delete/").status_code == 403
    actions = client.get("/admin/accounts/user/").content.decode()
    assert "delete_selected" not in actions and "erase_accounts" in actions
