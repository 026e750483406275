from __future__ import annotations

import re

from django.utils.text import slugify

# C0 control characters other than tab and line breaks, DEL, and the two non-characters:
# XML 1.0 cannot carry them (one such title made every Atom feed answer with a server
# error), PostgreSQL text cannot hold NUL, and no reader needs them.
_CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def strip_control_characters(text: str) -> str:
    """User text without the control characters above; tabs and line breaks stay."""
    return _CONTROL_CHARACTERS.sub("", text or "")


_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def german_slug(text: str, max_length: int = 80) -> str:
    """A readable ASCII slug: "Brachflächen in Städten" → "brachflaechen-in-staedten"."""
    slug = slugify((text or "").translate(_GERMAN))[:max_length].strip("-")
    return slug or "thema"


def normalise_tag(name: str) -> str:
    """One spelling per tag: trimmed, single spaces, no leading '#', at most 50 characters."""
    return " ".join(strip_control_characters(name).replace("#", " ").split())[:50]
