from __future__ import annotations

from django.utils.text import slugify

_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def german_slug(text: str, max_length: int = 80) -> str:
    """A readable ASCII slug: "Brachflächen in Städten" → "brachflaechen-in-staedten"."""
    slug = slugify((text or "").translate(_GERMAN))[:max_length].strip("-")
    return slug or "thema"


def normalise_tag(name: str) -> str:
    """One spelling per tag: trimmed, single spaces, no leading '#', at most 50 characters."""
    return " ".join((name or "").replace("#", " ").split())[:50]
