from __future__ import annotations

import pytest

from accounts.services import profile_update
from forum.models import Category, CategoryFollow
from forum.services.following import bookmark_toggle
from forum.services.posts import post_create
from tests.factories import CategoryFactory, make_member, make_thread


@pytest.fixture
def colleagues(network):
    anna = make_member(email="anna@bochum.de", handle="anna")
    ben = make_member(email="ben@krefeld.de", handle="ben")
    profile_update(anna, display_name="Anna A", job_title="", bio="", expertise=["Klimaanpassung"])
    profile_update(
        ben,
        display_name="Ben B",
        job_title="",
        bio="",
        expertise=["Leerstand"],
        work_phone="02151 86-0",
        show_contact=True,
    )
    return anna, ben


@pytest.mark.django_db
class TestDirectory:
    def test_who_has_experience_with(self, client, colleagues):
        anna, _ben = colleagues
        client.force_login(anna)
        html = client.get("/u/?fachgebiet=Leerstand").content.decode()
        assert "Ben B" in html and "Anna A" not in html.split("</form>", 1)[1]

    def test_filter_by_organisation_and_region(self, client, colleagues):
        anna, _ben = colleagues
        client.force_login(anna)
        assert "Ben B" in client.get("/u/?organisation=krefeld").content.decode()
        html = client.get("/u/?region=Arnsberg").content.decode().split("</form>", 1)[1]
        assert "Anna A" in html and "Ben B" not in html

    def test_contact_details_only_when_the_member_chose_so(self, client, colleagues):
        anna, ben = colleagues
        client.force_login(ben)
        assert "anna@bochum.de" not in client.get("/u/anna/").content.decode()
        client.force_login(anna)
        html = client.get("/u/ben/").content.decode()
        assert "ben@krefeld.de" in html and "02151 86-0" in html


@pytest.mark.django_db
class TestOrganisationPage:
    def test_lists_threads_and_experience_reports_of_the_organisation(self, client, colleagues):
        from forum.services.threads import ProfileData

        anna, ben = colleagues
        public = CategoryFactory(visibility=Category.Visibility.PUBLIC)
        make_thread(anna, category=public, title="Frage aus Bochum zum Test")
        make_thread(ben, category=public, title="Frage aus Krefeld zum Test")
        make_thread(
            anna,
            category=public,
            kind="experience",
            title="Bericht aus Bochum",
            profile=ProfileData(organisation_id=None, programme="efre"),
        )
        html = client.get("/o/bochum/").content.decode()
        assert "Frage aus Bochum zum Test" in html and "Bericht aus Bochum" in html
        assert "Frage aus Krefeld" not in html


@pytest.mark.django_db
class TestMine:
    def test_my_threads_posts_bookmarks_and_follows(self, client, colleagues):
        anna, ben = colleagues
        category = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        mine = make_thread(anna, category=category, title="Mein eigenes Thema hier")
        theirs = make_thread(ben, category=category, title="Das Thema von Ben hier")
        reply = post_create(anna, thread=theirs, body="Meine Antwort bei Ben")
        bookmark_toggle(anna, thread=theirs, post=reply)
        client.force_login(anna)
        assert "Mein eigenes Thema hier" in client.get("/mein-bereich/").content.decode()
        assert (
            "Das Thema von Ben" not in client.get("/mein-bereich/?ansicht=themen").content.decode()
        )
        assert (
            "Meine Antwort bei Ben"
            in client.get("/mein-bereich/?ansicht=beitraege").content.decode()
        )
        assert (
            f"#post-{reply.number}"
            in client.get("/mein-bereich/?ansicht=lesezeichen").content.decode()
        )
        follows = client.get("/mein-bereich/?ansicht=folgen").content.decode()
        assert mine.title in follows and theirs.title in follows

    def test_following_a_category(self, client, colleagues):
        anna, _ben = colleagues
        category = CategoryFactory(visibility=Category.Visibility.MEMBERS)
        client.force_login(anna)
        client.post(f"/c/{category.slug}/folgen/", {"level": "watching"})
        assert CategoryFollow.objects.get(user=anna, category=category).level == "watching"
        client.post(f"/c/{category.slug}/folgen/", {"level": "normal"})
        assert not CategoryFollow.objects.exists()


@pytest.mark.django_db
def test_mention_suggestions_are_for_members_only(client, colleagues):
    anna, _ben = colleagues
    assert client.get("/u/vorschlaege/?q=be").status_code in (302, 403)
    client.force_login(anna)
    data = client.get("/u/vorschlaege/?q=be").json()
    assert data["members"][0]["handle"] == "ben"
    assert data["members"][0]["organisation"] == "Stadt Krefeld"


@pytest.mark.django_db
def test_tag_suggestions(client, colleagues):
    anna, _ben = colleagues
    make_thread(anna, category=CategoryFactory(), tags=["Klimaanpassung", "Kleingärten"])
    make_thread(
        anna,
        category=CategoryFactory(visibility=Category.Visibility.MEMBERS),
        tags=["Klausur intern"],
    )
    assert client.get("/tags/vorschlaege/?q=kl").json()["tags"] == ["Kleingärten", "Klimaanpassung"]
    client.force_login(anna)
    assert "Klausur intern" in client.get("/tags/vorschlaege/?q=kl").json()["tags"]
