from __future__ import annotations

import pytest

from accounts.models import OrganisationDomain
from accounts.selectors import organisation_for_email


@pytest.mark.django_db
class TestOrganisationForEmail:
    @pytest.mark.parametrize(
        ("email", "slug"),
        [
            ("anna@bochum.de", "bochum"),
            ("anna@stadtplanung.bochum.de", "bochum"),
            ("ANNA@Bochum.DE", "bochum"),
            ("x@stadtdo.de", "dortmund"),
            ("x@stadt.hamm.de", "hamm"),
            ("x@bra.nrw.de", "bezreg-arnsberg"),
        ],
    )
    def test_official_domains_and_their_subdomains_match(self, network, email, slug):
        assert organisation_for_email(email).slug == slug

    @pytest.mark.parametrize(
        "email",
        ["x@notbochum.de", "x@bochum.de.evil.com", "x@gmail.com", "x@nrw.de", "kaputt", "x@"],
    )
    def test_lookalikes_free_mail_and_garbage_match_nothing(self, network, email):
        assert organisation_for_email(email) is None

    def test_the_most_specific_domain_wins(self, network):
        from accounts.models import Organisation

        other = Organisation.objects.create(slug="bochum-amt", name="Amt in Bochum")
        OrganisationDomain.objects.create(organisation=other, domain="planung.bochum.de")
        assert organisation_for_email("a@planung.bochum.de") == other
        assert organisation_for_email("a@x.planung.bochum.de") == other
        assert organisation_for_email("a@bau.bochum.de").slug == "bochum"

    def test_a_deactivated_domain_admits_nobody(self, network):
        OrganisationDomain.objects.filter(domain="bochum.de").update(active=False)
        assert organisation_for_email("anna@bochum.de") is None
