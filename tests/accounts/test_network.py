from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management import call_command

from accounts.models import Organisation, OrganisationDomain
from accounts.services import network_load, network_load_file
from tests.factories import make_member


@pytest.fixture
def data():
    return json.loads(settings.NETWORK_FILE.read_text(encoding="utf-8"))


@pytest.mark.django_db
class TestNetworkLoad:
    def test_ships_the_first_deployments_network(self, data):
        result = network_load(data)
        assert len(result.created) == 24
        kinds = dict(Organisation.objects.values_list("slug", "kind"))
        assert sum(k == "municipality" for k in kinds.values()) == 17
        assert sum(k == "district_government" for k in kinds.values()) == 5
        assert kinds["ministerium"] == "ministry"
        assert kinds["innovationsagentur"] == "agency"
        for slug in ("altena", "kamp-lintfort", "werdohl", "steinheim", "bezreg-koeln"):
            assert slug in kinds

    def test_a_second_load_changes_nothing(self, data):
        network_load(data)
        before = list(Organisation.objects.values_list("pk", "slug", "name", "updated_at"))
        result = network_load(data)
        assert not result.changed
        assert len(result.unchanged) == 24
        assert list(Organisation.objects.values_list("pk", "slug", "name", "updated_at")) == before

    def test_a_changed_file_updates_only_what_changed(self, data):
        network_load(data)
        bochum = next(o for o in data["organisations"] if o["slug"] == "bochum")
        bochum["name"] = "Stadt Bochum (Stadtumbau)"
        bochum["domains"].append("bochum.nrw.de")
        result = network_load(data)
        assert result.updated == ["bochum"]
        assert result.domains_added == ["bochum.nrw.de"]
        assert Organisation.objects.get(slug="bochum").name == "Stadt Bochum (Stadtumbau)"

    def test_a_removed_domain_admits_no_new_members_but_demotes_nobody(self, data):
        network_load(data)
        member = make_member(email="anna@bochum.de", handle="anna")
        bochum = next(o for o in data["organisations"] if o["slug"] == "bochum")
        bochum["domains"] = []
        result = network_load(data)
        assert result.domains_deactivated == ["bochum.de"]
        assert OrganisationDomain.objects.get(domain="bochum.de").active is False
        member.refresh_from_db()
        assert member.is_approved_member
        from tests.factories import make_user

        newcomer = make_user(email="ben@bochum.de", handle="ben")
        assert newcomer.membership == "pending"

    def test_bad_data_is_refused_with_a_german_message_and_changes_nothing(self, data):
        data["organisations"].append({"slug": "x", "name": "X", "kind": "planet"})
        with pytest.raises(ValidationError, match="Unbekannte Art"):
            network_load(data)
        assert Organisation.objects.count() == 0

    def test_the_command_twice_reports_no_changes(self, capsys):
        call_command("load_network")
        call_command("load_network")
        assert "Keine Änderungen." in capsys.readouterr().out

    def test_an_unreadable_file_is_a_clear_error(self, tmp_path):
        broken = tmp_path / "net.json"
        broken.write_text("{kaputt", encoding="utf-8")
        with pytest.raises(ValidationError, match="kann nicht gelesen werden"):
            network_load_file(broken)
