"""Recognise an uploaded file by its content, not by its name.

A file is accepted only when its bytes are one of the allowed formats *and* its extension
fits that format: a renamed executable or a script saved as ".pdf" is refused.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]
    is_image: bool = False


PDF = FileType("PDF", "application/pdf", (".pdf",))
PNG = FileType("PNG", "image/png", (".png",), is_image=True)
JPEG = FileType("JPEG", "image/jpeg", (".jpg", ".jpeg"), is_image=True)
GIF = FileType("GIF", "image/gif", (".gif",), is_image=True)
WEBP = FileType("WebP", "image/webp", (".webp",), is_image=True)
DOCX = FileType(
    "Word", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", (".docx",)
)
XLSX = FileType(
    "Excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (".xlsx",)
)
PPTX = FileType(
    "PowerPoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    (".pptx",),
)
ODT = FileType("OpenDocument-Text", "application/vnd.oasis.opendocument.text", (".odt",))
ODS = FileType("OpenDocument-Tabelle", "application/vnd.oasis.opendocument.spreadsheet", (".ods",))
ODP = FileType(
    "OpenDocument-Präsentation", "application/vnd.oasis.opendocument.presentation", (".odp",)
)
OLE = FileType("Office (alt)", "application/octet-stream", (".doc", ".xls", ".ppt"))

_OOXML = {"word/": DOCX, "xl/": XLSX, "ppt/": PPTX}
_ODF = {t.content_type: t for t in (ODT, ODS, ODP)}
ALLOWED_EXTENSIONS = sorted(
    {
        e
        for t in (PDF, PNG, JPEG, GIF, WEBP, DOCX, XLSX, PPTX, ODT, ODS, ODP, OLE)
        for e in t.extensions
    }
)


def _sniff(head: bytes, upload) -> FileType | None:
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return OLE
    if head.startswith(b"PK\x03\x04"):
        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                names = archive.namelist()
                if "mimetype" in names:
                    return _ODF.get(archive.read("mimetype").decode("ascii", "ignore").strip())
                if "[Content_Types].xml" in names:
                    for prefix, file_type in _OOXML.items():
                        if any(n.startswith(prefix) for n in names):
                            return file_type
        except (zipfile.BadZipFile, OSError, KeyError):
            return None
    return None


def check_upload(upload) -> FileType:
    """Raise a German ValidationError unless the upload is an allowed, honest file."""
    limit = settings.ATTACHMENT_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            _("Die Datei ist zu groß (%(size)s MB); erlaubt sind höchstens %(max)s MB.")
            % {"size": round(upload.size / 1_000_000, 1), "max": round(limit / 1_000_000)}
        )
    if upload.size == 0:
        raise ValidationError(_("Die Datei ist leer."))
    extension = PurePosixPath(upload.name or "").suffix.lower()
    if extension not in ALLOWED_EXTENSIONS:
        raise ValidationError(
            _(
                "Dateien vom Typ „%(ext)s“ sind nicht erlaubt. Erlaubt sind PDF, Office-Dokumente und Bilder (PNG, JPEG, GIF, WebP)."
            )
            % {"ext": extension or _("ohne Endung")}
        )
    upload.seek(0)
    head = upload.read(16)
    file_type = _sniff(head, upload)
    upload.seek(0)
    if file_type is None or extension not in file_type.extensions:
        raise ValidationError(
            _(
                "Der Inhalt der Datei passt nicht zur Endung „%(ext)s“. Bitte laden Sie eine echte %(ext)s-Datei hoch."
            )
            % {"ext": extension}
        )
    return file_type


def safe_filename(name: str) -> str:
    """The file's own name without path parts or control characters, for display and download."""
    name = PurePosixPath((name or "").replace("\\", "/")).name
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"/\\|?*')
    return name.strip(" .")[:150] or "anhang"
