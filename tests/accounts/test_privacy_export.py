"""The self-service data export: everything about the person, nothing about anyone else."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from taggit.models import Tag

from accounts import privacy
from forum.models import Category, Channel, DigestSubscription, Kind, Level, Section
from forum.services.digests import subscription_save
from forum.services.following import follow_set
from forum.services.notifications import preferences_set
from forum.services.posts import NewAttachment, post_create, post_edit, reaction_toggle
from tests.factories import CategoryFactory, make_member, make_thread

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
URL = "/accounts/profile/daten/"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def category(db):
    return CategoryFactory(visibility=Category.Visibility.MEMBERS)


@pytest.fixture
def other(network):
    return make_member(email="greta.other@bochum.de", handle="greta-other")


def download(client, user) -> zipfile.ZipFile:
    client.force_login(user)
    response = client.post(URL)
    assert response.status_code == 200, response.content[:500]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def data_of(archive: zipfile.ZipFile) -> dict:
    return json.loads(archive.read("daten.json"))


def test_the_url_is_the_named_route():
    assert reverse("accounts:privacy_export") == URL


@pytest.mark.django_db
def test_a_visitor_is_sent_to_the_login(client):
    assert client.get(URL).status_code == 302
    response = client.post(URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


@pytest.mark.django_db
def test_the_page_explains_and_offers_a_post_button(client, member):
    client.force_login(member)
    page = client.get(URL).content.decode()
    assert "Daten herunterladen" in page and 'method="post"' in page
    assert "csrfmiddlewaretoken" in page
    edit = client.get(reverse("accounts:profile_edit")).content.decode()
    assert "Meine Daten herunterladen" in edit and URL in edit


@pytest.mark.django_db
def test_the_export_holds_the_members_data_and_files_and_nothing_of_others(
    client, member, other, category
):
    # The member's own content: a thread, a reply with a file, an edited post.
    thread = make_thread(
        member, category=category, title="Leerstand im Zentrum", tags=["Leerstand"]
    )
    first = thread.posts.get(number=1)
    post_edit(member, post=first, body="Erster Beitrag, überarbeitet.")
    with_file = post_create(
        member,
        thread=thread,
        body="Siehe Ratsvorlage.",
        attachment=NewAttachment(SimpleUploadedFile("Rats vorlage.pdf", PDF)),
    )
    # Someone else's thread, which the member finds helpful and follows.
    theirs = make_thread(other, category=category, title="Fremdes Thema", body="Geheimer Text X")
    reaction_toggle(member, post=theirs.posts.get(number=1))
    follow_set(member, target=theirs, level=Level.WATCHING)
    follow_set(member, target=Tag.objects.get(name="Leerstand"), level=Level.MUTED)
    follow_set(member, target=category, level=Level.WATCHING)
    preferences_set(member, channels={Kind.MENTION: Channel.OFF})
    subscription_save(
        member,
        frequency=DigestSubscription.Frequency.DAILY,
        sections=[Section.QUESTIONS],
        paused_until=timezone.localdate() + timezone.timedelta(days=3),
    )
    # The other member's settings must not leak into the member's archive.
    preferences_set(other, channels={Kind.REPLY: Channel.EMAIL})
    reaction_toggle(other, post=first)  # notifies the member: a notification received

    archive = download(client, member)
    names = archive.namelist()
    assert "LIESMICH.txt" in names and "Art. 15" in archive.read("LIESMICH.txt").decode()
    data = data_of(archive)

    assert data["profil"]["email"] == "jonas.becker@bochum.de"
    assert data["profil"]["benutzername"] == "jonas-becker"
    assert data["profil"]["organisation"]["kuerzel"] == "bochum"
    accepted = list(member.terms_acceptances.values_list("terms__version", flat=True))
    assert [t["version"] for t in data["nutzungsbedingungen"]] == accepted

    posts = {p["id"]: p for p in data["beitraege"]}
    assert set(posts) == {first.pk, with_file.pk}
    assert posts[first.pk]["text_markdown"] == "Erster Beitrag, überarbeitet."
    assert [r["text_markdown"] for r in posts[first.pk]["fruehere_fassungen"]] == [
        "Erster Beitrag."
    ]
    assert [t["titel"] for t in data["themen"]] == ["Leerstand im Zentrum"]
    assert data["themen"][0]["schlagwoerter"] == ["Leerstand"]

    (attachment,) = data["anhaenge"]
    assert attachment["dateiname"] == "Rats vorlage.pdf"
    assert posts[with_file.pk]["anhaenge"] == [attachment["id"]]
    assert archive.read(attachment["datei"]) == PDF
    assert attachment["datei"].startswith("anhaenge/")

    assert [r["thema_titel"] for r in data["hilfreich_markiert"]] == ["Fremdes Thema"]
    follows = data["folgen"]
    assert {(f["titel"], f["stufe"]) for f in follows["themen"]} >= {("Fremdes Thema", "watching")}
    assert follows["schlagwoerter"] == [
        {"schlagwort": "Leerstand", "stufe": "muted", "seit": follows["schlagwoerter"][0]["seit"]}
    ]
    assert [f["themenfeld"] for f in follows["themenfelder"]] == [category.name]

    prefs = data["benachrichtigungseinstellungen"]
    assert prefs["selbst_gewaehlt"] == {"mention": "off"}
    assert prefs["wirksam"]["mention"] == "off"
    texts = [n["text"] for n in data["benachrichtigungen"]]
    assert any("hilfreich" in t for t in texts)

    digest = data["email_zusammenfassung"]
    assert digest["haeufigkeit"] == "daily" and digest["rubriken"] == ["questions"]
    assert digest["pausiert_bis"] is not None
    assert "secret" not in json.dumps(digest)
    secret = DigestSubscription.objects.get(user=member).secret
    assert secret not in archive.read("daten.json").decode()

    raw = archive.read("daten.json").decode()
    assert "greta.other@bochum.de" not in raw
    assert "Geheimer Text X" not in raw


@pytest.mark.django_db
def test_the_download_is_an_uncached_attachment_named_after_the_handle(client, member):
    client.force_login(member)
    response = client.post(URL)
    today = timezone.localdate()
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == (
        f'attachment; filename="forum-daten-jonas-becker-{today:%Y-%m-%d}.zip"'
    )
    assert "no-store" in response["Cache-Control"]
    b"".join(response.streaming_content)


@pytest.mark.django_db
def test_exports_are_limited_per_hour(client, member):
    client.force_login(member)
    for _ in range(privacy.EXPORTS_PER_HOUR):
        response = client.post(URL)
        assert response.status_code == 200
        b"".join(response.streaming_content)
    refused = client.post(URL)
    assert refused.status_code == 429
    assert "in einer Stunde" in refused.content.decode()


def _queries_for_export(member) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries, privacy.export_build(member) as archive:
        data = json.loads(zipfile.ZipFile(archive).read("daten.json"))
    return len(queries), data


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_number_of_posts(member, other, category):
    thread = make_thread(member, category=category)
    theirs = make_thread(other, category=category, title="Anderes Thema")

    def add_posts(n: int) -> None:
        for i in range(n):
            post = post_create(member, thread=thread, body=f"Beitrag {i}")
            post_edit(member, post=post, body=f"Beitrag {i}, überarbeitet")
            reply = post_create(other, thread=theirs, body=f"Antwort {i}")
            reaction_toggle(member, post=reply)
        post_create(
            member,
            thread=thread,
            body="Mit Datei",
            attachment=NewAttachment(SimpleUploadedFile(f"plan-{n}.pdf", PDF)),
        )

    add_posts(3)
    few, data = _queries_for_export(member)
    assert len(data["beitraege"]) == 5
    add_posts(27)
    many, data = _queries_for_export(member)
    assert len(data["beitraege"]) == 33
    assert len(data["anhaenge"]) == 2
    assert many == few
