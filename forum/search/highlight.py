"""Highlighted snippets, the same on both backends.

A word is marked when it contains one of the query's stems, also inside a compound
("Brachfläche" marks "Brachflächenreaktivierung"). The search runs as one regular expression
over the original text, with umlauts and ß matched the way the stemmer folds them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

SNIPPET_LENGTH = 260
LEAD = 70
# Shorter stems are only marked at the start of a word ("Rat" in "Ratsbeschluss", not in
# "Beratung"); longer ones anywhere in a compound.
MIN_INNER = 5
_FOLDED = {"a": "[aä]", "o": "[oö]", "u": "[uü]"}


def _stem_pattern(stem: str) -> str:
    out, i = [], 0
    while i < len(stem):
        if stem.startswith("ss", i):
            out.append("(?:ss|ß)")
            i += 2
            continue
        out.append(_FOLDED.get(stem[i], re.escape(stem[i])))
        i += 1
    return "".join(out)


@lru_cache(maxsize=512)
def _pattern(stems: tuple[str, ...]) -> re.Pattern | None:
    stems = tuple(sorted((s for s in stems if len(s) >= 2), key=len, reverse=True))
    if not stems:
        return None
    inner = [_stem_pattern(s) for s in stems if len(s) >= MIN_INNER]
    start = [_stem_pattern(s) for s in stems if len(s) < MIN_INNER]
    # Only the stems themselves: a match is widened to its whole word afterwards, which is far
    # cheaper than letting the expression try \w* at every position of a long text.
    alternatives = []
    if inner:
        alternatives.append("(?:" + "|".join(inner) + ")")
    if start:
        alternatives.append(r"(?<!\w)(?:" + "|".join(start) + ")")
    return re.compile("|".join(alternatives), re.IGNORECASE)


def pattern_for(stems: Iterable[str]) -> re.Pattern | None:
    return _pattern(tuple(sorted(set(stems))))


def _word_spans(text: str, pattern: re.Pattern):
    """(start, end) of every word that contains a match, in order, each once."""
    last_end = -1
    for match in pattern.finditer(text):
        if match.start() < last_end:
            continue
        start, end = match.start(), match.end()
        while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
            start -= 1
        while end < len(text) and (text[end].isalnum() or text[end] == "_"):
            end += 1
        last_end = end
        yield start, end


def mark(text: str, pattern: re.Pattern | None) -> SafeString:
    """The whole text, escaped, with matching words in <mark>."""
    if pattern is None:
        return escape(text)
    out, last = [], 0
    for start, end in _word_spans(text, pattern):
        out.append(escape(text[last:start]))
        out.append(f"<mark>{escape(text[start:end])}</mark>")
        last = end
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece is escaped above


def snippet(text: str, pattern: re.Pattern | None, length: int = SNIPPET_LENGTH):
    """A window of ``text`` around its first match, marked; None if nothing matches."""
    if pattern is None or not text:
        return None
    found = pattern.search(text)
    if found is None:
        return None
    return excerpt(text, pattern, start=found.start(), length=length)


def excerpt(text: str, pattern: re.Pattern | None, *, start: int = 0, length: int = SNIPPET_LENGTH):
    """``length`` characters of ``text`` from about ``start``, cut at spaces, marked."""
    begin = max(0, start - LEAD)
    if begin:
        space = text.find(" ", begin)
        begin = space + 1 if 0 <= space < start else begin
    end = min(len(text), begin + length)
    if end < len(text):
        space = text.rfind(" ", begin, end)
        end = space if space > begin else end
    window = " ".join(text[begin:end].split())
    body = mark(window, pattern)
    prefix = "… " if begin > 0 else ""
    suffix = " …" if end < len(text) else ""
    return mark_safe(f"{prefix}{body}{suffix}")  # noqa: S308 - body is escaped by mark()
