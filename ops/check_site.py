"""Populate and fingerprint an installation for ops/backup_restore_check.sh.

    python ops/check_site.py populate      add a reply with a PDF attachment to a public demo thread
    python ops/check_site.py fingerprint   print a JSON fingerprint of the installation

The fingerprint holds pages rendered by the Django test client (for a visitor and for a demo
member: home, the thread with the attachment, search results for demo words), the attachment
as downloaded and as stored, and the row count of every table. Rendering runs inside a
transaction that is rolled back, so taking a fingerprint changes nothing (no view counters,
sessions or last-login times) and two fingerprints of the same data are equal.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEARCH_WORDS = ["Leerstand", "Innenstadt", "Beteiligung"]
MEMBER_HANDLE = "jonas-becker"
# A minimal valid PDF, made unique by a marker line so its hash means something.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"% Sicherungsprobe Stadtumbau-Forum\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)

# What legitimately differs between two renderings of the same data.
_VOLATILE = [
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*"'), r'\1…"'),
    (re.compile(r'(name="csrf-token" content=")[^"]*"'), r'\1…"'),
    (re.compile(r'(nonce=")[^"]*"'), r'\1…"'),
    # A fresh double-submit token in every reply form.
    (re.compile(r'(name="client_token"[^>]*value=")[^"]*"'), r'\1…"'),
]


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    # Adds "testserver" to ALLOWED_HOSTS and keeps e-mails in memory.
    setup_test_environment()


def _probe_thread():
    from forum.models import Attachment

    attachment = Attachment.objects.select_related("post__thread").order_by("pk").first()
    return attachment.post.thread if attachment else None


def populate() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from accounts.models import User
    from forum.models import Thread
    from forum.services.posts import NewAttachment, post_create

    member = User.objects.get(handle=MEMBER_HANDLE)
    thread = (
        Thread.objects.filter(category__visibility="public", is_locked=False).order_by("pk").first()
    )
    post = post_create(
        member,
        thread=thread,
        body="Unser Leerstandskataster als PDF, zur Sicherungsprobe.",
        attachment=NewAttachment(
            file=SimpleUploadedFile("leerstandskataster.pdf", PDF, "application/pdf")
        ),
    )
    print(f"Anhang an Beitrag {post.pk} in Thema {thread.pk} ({thread.title}).")


def _page(client, url: str) -> dict:
    response = client.get(url)
    body = response.content.decode()
    for pattern, replacement in _VOLATILE:
        body = pattern.sub(replacement, body)
    return {
        "status": response.status_code,
        "sha256": hashlib.sha256(body.encode()).hexdigest(),
        "length": len(body),
        "body": body,
    }


def _download(client, url: str) -> dict:
    response = client.get(url)
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return {"status": response.status_code, "sha256": hashlib.sha256(content).hexdigest()}


def _fingerprint() -> dict:
    from urllib.parse import urlencode

    from django.apps import apps
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from accounts.models import User
    from forum.models import Attachment

    thread = _probe_thread()
    if thread is None:
        raise SystemExit("Kein Anhang gefunden: erst `populate`.")
    urls = [reverse("forum:home"), thread.get_absolute_url()] + [
        reverse("forum:search") + "?" + urlencode({"q": word}) for word in SEARCH_WORDS
    ]
    visitor = Client()
    member = Client()
    member.force_login(User.objects.get(handle=MEMBER_HANDLE))
    pages = {}
    for who, client in (("visitor", visitor), ("member", member)):
        for url in urls:
            pages[f"{who} {url}"] = _page(client, url)
    attachments = {}
    for attachment in Attachment.objects.order_by("pk"):
        url = reverse("forum:attachment", args=[attachment.pk, attachment.original_name])
        with attachment.file.open("rb") as handle:
            stored = hashlib.sha256(handle.read()).hexdigest()
        attachments[attachment.file.name] = {
            "stored_sha256": stored,
            "download": _download(visitor, url),
        }
    tables = sorted(
        {m._meta.db_table for m in apps.get_models(include_auto_created=True) if m._meta.managed}
    )
    with connection.cursor() as cursor:
        counts = {}
        for table in tables:
            # Table names come from the models, not from input.
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608
            counts[table] = cursor.fetchone()[0]
    return {"pages": pages, "attachments": attachments, "row_counts": counts}


def fingerprint() -> None:
    from django.db import transaction

    with transaction.atomic():
        result = _fingerprint()
        transaction.set_rollback(True)
    json.dump(result, sys.stdout, indent=1, sort_keys=True, ensure_ascii=False)
    print()


def main(argv: list[str]) -> None:
    if argv not in (["populate"], ["fingerprint"]):
        raise SystemExit(__doc__)
    _setup_django()
    populate() if argv[0] == "populate" else fingerprint()


if __name__ == "__main__":
    main(sys.argv[1:])
