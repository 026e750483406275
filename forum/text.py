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


# Explicit direction embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO, LRI, RLI,
# FSI, PDI). In a name or title shown inside a line of other text, an unclosed RLO turns
# "Jonas · Stadt Bochum · 12.03." around and lets a name pose as someone else's text.
# Right-to-left scripts do not need them; the marks LRM and RLM stay.
_DIRECTION_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def clean_line(text: str) -> str:
    """A one-line field (title, name, tag): no control characters, no direction overrides,
    whitespace collapsed."""
    return " ".join(_DIRECTION_CONTROLS.sub("", strip_control_characters(text)).split())


_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss"}
)


def german_slug(text: str, max_length: int = 80) -> str:
    """A readable ASCII slug: "Brachflächen in Städten" → "brachflaechen-in-staedten"."""
    slug = slugify((text or "").translate(_GERMAN))[:max_length].strip("-")
    return slug or "thema"


def normalise_tag(name: str) -> str:
    """One spelling per tag: trimmed, single spaces, no leading '#', at most 50 characters."""
    return clean_line((name or "").replace("#", " "))[:50]
