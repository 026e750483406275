"""Turning German text into search terms: words, stems, compound parts, stop words.

Both backends share this module, so that they find the same things:

* PostgreSQL stems with its ``german`` configuration (Snowball) inside the database; we only
  add the compound parts to the indexed text and hand it the query words.
* SQLite FTS5 has no German stemmer, so the SQLite backend indexes and queries the stems that
  PyStemmer (the Snowball project's own C implementation of the same German stemmer) makes.

German compounds are split at index time with a lexicon: the ~260,000 noun forms of the
``german-nouns`` package (compiled from the German Wiktionary) plus the field's own words in
``data/search/woerter.txt``. No stemmer splits compounds, so without this "Brachfläche" would
not find "Brachflächenreaktivierung".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from pathlib import Path

import Stemmer
from django.conf import settings

# Letters and digits; "_" separates words as FTS5 and PostgreSQL treat it.
WORD_RE = re.compile(r"[^\W_]+", re.UNICODE)

# Linking elements ("Fugenelemente") that may stand between the parts of a compound:
# Verkehr·s·beruhigung, Straße·n·bahn, Kind·er·garten, Hund·e·hütte, Schmerz·ens·geld.
LINKING = ("", "s", "es", "n", "en", "er", "e", "ens")
# Shortest parts we split off. The tail (the head of the compound) carries the meaning and must
# be longer; a short front part such as "Rat", "Ort" or "Bau" is common (Rathaus, Ortsteil).
MIN_FRONT = 3
MIN_TAIL = 4
MIN_COMPOUND = 7
# Longer "words" are codes, URLs or keyboard runs, not compounds (and would recurse deeply).
MAX_COMPOUND = 60
# Nouns in the lexicon that are almost always a false split when they appear inside a longer
# word ("Beratung" is not "Bera" + "tung", "Verwaltung" not "Verwal" + "tung").
NOT_A_PART = frozenset(
    {
        "erg",
        "ung",
        "ungen",
        "heit",
        "keit",
        "ion",
        "ionen",
        "tion",
        "ismus",
        "ente",
        "enten",
        "rinne",
        "rinnen",
        "rial",
        "nahme",
        "nahmen",
    }
)


def data_dir() -> Path:
    return Path(settings.BASE_DIR) / "data" / "search"


@cache
def stop_words() -> frozenset[str]:
    """Snowball's German stop words: the same list PostgreSQL's ``german`` configuration uses."""
    return frozenset(_read_list(data_dir() / "german.stop"))


def _read_list(path: Path) -> Iterator[str]:
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            word = line.split("#", 1)[0].strip().lower()
            if word:
                yield word


@cache
def lexicon() -> frozenset[str]:
    """Known German words (lower case) that may stand as parts of a compound."""
    from german_nouns.config import PACKAGE_PATH

    words: set[str] = set()
    with (Path(PACKAGE_PATH) / "index.txt").open(encoding="utf-8") as handle:
        for line in handle:
            word = line.split("\t", 1)[0]
            if len(word) >= MIN_FRONT and word.isalpha():
                words.add(word)
    words.update(_read_list(data_dir() / "woerter.txt"))
    return frozenset(words - NOT_A_PART)


_stemmer = Stemmer.Stemmer("german")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The Snowball stem of one lower-case word ("förderanträge" → "forderantrag")."""
    return _stemmer.stemWord(word)


def words(text: str) -> list[str]:
    """The words of a text, lower case, in order (hyphens and punctuation separate words).

    NFC first: "ü" copied from a PDF is often "u" plus a combining mark, which would split
    the word."""
    return WORD_RE.findall(unicodedata.normalize("NFC", text).lower())


def _front_base(front: str) -> str | None:
    """A front part is a known word as it is, without its linking element, with a dropped
    final e (Schule → Schulhof, Brache → Brachfläche), or a compound in turn. Returns the front
    without its linking element, or None."""
    known = lexicon()
    for link in LINKING:
        base = front[: -len(link)] if link else front
        if link and not front.endswith(link):
            continue
        if len(base) < MIN_FRONT:
            continue
        if base in known or base + "e" in known or _binary_split(base):
            return base
    return None


@lru_cache(maxsize=100_000)
def _binary_split(word: str) -> tuple[str, str] | None:
    """The outermost split of a compound: the longest known tail whose front is known itself
    (with linking element or dropped e) or is a compound in turn. The head of a German
    compound is its last part, so the longest tail is the most likely reading."""
    known = lexicon()
    for cut in range(MIN_FRONT, len(word) - MIN_TAIL + 1):
        front, tail = word[:cut], word[cut:]
        if tail in known and _front_base(front):
            return front, tail
    return None


@lru_cache(maxsize=100_000)
def split_compound(word: str) -> tuple[str, ...]:
    """All parts of a German compound, outermost first, or () if it is none.

    "stadtumbaumaßnahme" → ("stadt", "umbaumaßnahme", "umbau", "maßnahme").
    """
    if not MIN_COMPOUND <= len(word) <= MAX_COMPOUND or not word.isalpha():
        return ()
    pair = _binary_split(word)
    if pair is None:
        return ()
    front, tail = pair
    base = _front_base(front) or front
    parts = dict.fromkeys((front, tail, *split_compound(base), *split_compound(tail)))
    return tuple(parts)


def compound_parts(tokens: Iterable[str]) -> list[str]:
    """The distinct compound parts of the given words, in first-seen order."""
    seen: dict[str, None] = {}
    for token in tokens:
        for part in split_compound(token):
            seen.setdefault(part, None)
    return list(seen)


def fold(text: str) -> str:
    """Lower case without umlauts and ß, as the German stemmer folds them."""
    return text.lower().translate(_FOLD)


_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
