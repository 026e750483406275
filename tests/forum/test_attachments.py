from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from forum.models import Attachment, Category
from tests.factories import CategoryFactory, make_thread

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def thread(member):
    return make_thread(member, category=CategoryFactory(visibility=Category.Visibility.MEMBERS))


def reply(client, thread, upload, alt=""):
    return client.post(
        f"/t/{thread.pk}/antworten/",
        {
            "body": "Siehe Anhang.",
            "client_token": str(uuid.uuid4()),
            "attachment": upload,
            "attachment_alt": alt,
        },
    )


@pytest.mark.django_db
class TestAttachments:
    def test_a_pdf_is_attached_and_downloaded_with_a_safe_disposition(self, client, member, thread):
        client.force_login(member)
        response = reply(client, thread, SimpleUploadedFile('Rats"vorlage 2024.pdf', PDF))
        assert response.status_code == 302
        attachment = Attachment.objects.get()
        assert (
            attachment.content_type == "application/pdf"
            and attachment.original_name == "Ratsvorlage 2024.pdf"
        )
        download = client.get(attachment.get_absolute_url())
        assert download.status_code == 200
        assert download.headers["Content-Disposition"].startswith("attachment;")
        assert "sandbox" in download.headers["Content-Security-Policy"]
        assert b"".join(download.streaming_content) == PDF
        page = client.get(thread.get_absolute_url()).content.decode()
        assert "Ratsvorlage 2024.pdf" in page

    def test_downloads_have_the_threads_visibility(self, client, member, thread):
        client.force_login(member)
        reply(client, thread, SimpleUploadedFile("plan.pdf", PDF))
        url = Attachment.objects.get().get_absolute_url()
        client.logout()
        assert client.get(url).status_code == 404

    def test_an_image_needs_alt_text_and_is_shown_inline(self, client, member, thread):
        client.force_login(member)
        response = reply(client, thread, SimpleUploadedFile("foto.png", PNG))
        assert response.status_code == 400
        html = response.content.decode()
        assert "Alternativtext" in html and "Siehe Anhang." in html
        assert (
            reply(
                client, thread, SimpleUploadedFile("foto.png", PNG), alt="Luftbild der Brache"
            ).status_code
            == 302
        )
        attachment = Attachment.objects.get()
        assert attachment.is_image
        page = client.get(thread.get_absolute_url()).content.decode()
        assert 'alt="Luftbild der Brache"' in page
        assert (
            client.get(attachment.get_absolute_url())
            .headers["Content-Disposition"]
            .startswith("inline")
        )

    @pytest.mark.parametrize(
        ("name", "content", "message"),
        [
            ("virus.pdf", b"MZ\x90\x00" + b"\x00" * 100, "passt nicht zur Endung"),
            ("script.pdf", b"<script>alert(1)</script>", "passt nicht zur Endung"),
            ("bild.svg", b"<svg onload=alert(1)></svg>", "nicht erlaubt"),
            ("tool.exe", b"MZ", "nicht erlaubt"),
            ("foto.png", PDF, "passt nicht zur Endung"),
        ],
    )
    def test_forbidden_or_disguised_files_are_refused_and_the_text_kept(
        self, client, member, thread, name, content, message
    ):
        client.force_login(member)
        response = reply(client, thread, SimpleUploadedFile(name, content))
        assert response.status_code == 400
        html = response.content.decode()
        assert message in html and "Siehe Anhang." in html
        assert Attachment.objects.count() == 0

    def test_office_documents_are_recognised_by_content(self, client, member, thread):
        client.force_login(member)
        assert (
            reply(client, thread, SimpleUploadedFile("bericht.docx", docx_bytes())).status_code
            == 302
        )
        assert "wordprocessingml" in Attachment.objects.get().content_type

    def test_files_over_the_limit_are_refused(self, client, member, thread, settings):
        settings.ATTACHMENT_MAX_BYTES = 10
        client.force_login(member)
        response = reply(client, thread, SimpleUploadedFile("plan.pdf", PDF))
        assert response.status_code == 400 and "zu groß" in response.content.decode()
