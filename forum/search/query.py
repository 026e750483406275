"""One query syntax for both backends, parsed here and compiled into each backend's form.

The syntax is the one people know from web search engines:

* words are all required: ``Leerstand Innenstadt``
* ``"quoted phrases"`` match only those words in that order
* ``-word`` or ``-"a phrase"`` excludes threads that contain it
* ``OR`` (also ``oder`` or ``|``) between two terms accepts either: ``Zwischennutzung OR Leerstand``

A malformed query never fails: an unclosed quote, a stray ``-`` or ``OR`` and any punctuation
degrade to plain words. After parsing, each term is expanded: stop words drop out (outside
phrases), the field's synonyms and abbreviations (``data/search/synonyme.txt``) become
alternatives, a compound also matches its parts, and words match as prefixes of stems.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from . import analysis

MAX_TERMS = 12
MAX_QUERY_LENGTH = 300
MIN_PREFIX_STEM = 4
OR_WORDS = frozenset({"or", "oder", "|"})
_TOKEN_RE = re.compile(r'(?P<neg>-)?"(?P<phrase>[^"]*)"|(?P<word>[^\s"]+)|(?P<quote>")')


# --- The parsed query ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One word: ``text`` as typed (lower case) and its Snowball ``stem``."""

    text: str
    stem: str
    prefix: bool = False


@dataclass(frozen=True)
class Phrase:
    words: tuple[Word, ...]


@dataclass(frozen=True)
class AnyOf:
    options: tuple  # of Word | Phrase | AllOf


@dataclass(frozen=True)
class AllOf:
    items: tuple  # of Word | Phrase | AnyOf


Node = Word | Phrase | AnyOf | AllOf


@dataclass
class ParsedQuery:
    """``must`` are required (each may be an alternative), ``must_not`` excluded."""

    raw: str
    must: list[Node] = field(default_factory=list)
    must_not: list[Node] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)  # stop words left out

    def __bool__(self) -> bool:
        return bool(self.must)

    def stems(self) -> set[str]:
        """Every stem a match may contain: what snippets highlight."""
        found: set[str] = set()

        def walk(node) -> None:
            if isinstance(node, Word):
                found.add(node.stem)
            elif isinstance(node, Phrase):
                found.update(w.stem for w in node.words if w.text not in analysis.stop_words())
            elif isinstance(node, AnyOf):
                for option in node.options:
                    walk(option)
            elif isinstance(node, AllOf):
                for item in node.items:
                    walk(item)

        for node in self.must:
            walk(node)
        return found


# --- Synonyms -----------------------------------------------------------------------------------


def _key(text: str) -> tuple[str, ...]:
    """A synonym's lookup key: the stems of its words without stop words."""
    stop = analysis.stop_words()
    return tuple(analysis.stem(w) for w in analysis.words(text) if w not in stop)


@cache
def synonym_groups() -> tuple[tuple[str, ...], ...]:
    path = analysis.data_dir() / "synonyme.txt"
    groups = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.split("#", 1)[0].strip()
            entries = tuple(e.strip() for e in line.split(";") if e.strip())
            if len(entries) > 1:
                groups.append(entries)
    return tuple(groups)


@cache
def synonym_index() -> dict[tuple[str, ...], int]:
    """Stem key → number of its group."""
    index: dict[tuple[str, ...], int] = {}
    for number, group in enumerate(synonym_groups()):
        for entry in group:
            key = _key(entry)
            if key:
                index.setdefault(key, number)
    return index


@cache
def _longest_synonym() -> int:
    return max((len(k) for k in synonym_index()), default=1)


def _entry_node(entry: str) -> Word | Phrase:
    tokens = analysis.words(entry)
    if len(tokens) == 1:
        return _word(tokens[0], prefix=False)
    return Phrase(tuple(_word(t) for t in tokens))


def _synonyms(key: tuple[str, ...]) -> AnyOf | None:
    number = synonym_index().get(key)
    if number is None:
        return None
    options = tuple(dict.fromkeys(_entry_node(e) for e in synonym_groups()[number]))
    return AnyOf(options)


# --- Parsing ------------------------------------------------------------------------------------


def _word(text: str, *, prefix: bool = False) -> Word:
    stem = analysis.stem(text)
    return Word(text, stem, prefix and len(stem) >= MIN_PREFIX_STEM and not text.isdigit())


def _expand_word(text: str) -> Node:
    """A typed word: its synonyms, or the word as a stem prefix or its compound parts."""
    synonyms = _synonyms((analysis.stem(text),))
    if synonyms is not None:
        return synonyms
    word = _word(text, prefix=True)
    parts = analysis.split_compound(text)
    if len(parts) >= 2:
        # "Brachflächenreaktivierung" also matches "Reaktivierung der Brachflächen".
        return AnyOf((word, AllOf((_word(parts[0]), _word(parts[1])))))
    return word


def _lex(raw: str):
    """(negated, kind, text) triples; kind is "phrase", "word" or "or"."""
    for match in _TOKEN_RE.finditer(raw):
        if match.group("quote"):
            continue  # an unclosed quote: the words after it count as plain words
        if match.group("phrase") is not None:
            yield bool(match.group("neg")), "phrase", match.group("phrase")
            continue
        token = match.group("word")
        if token.lower() in OR_WORDS:
            yield False, "or", token
            continue
        negated = token.startswith("-") and len(token) > 1
        if negated:
            token = token[1:]
        yield negated, "word", token


def parse(raw: str) -> ParsedQuery:
    raw = (raw or "")[:MAX_QUERY_LENGTH]
    # An odd number of quotes: the last one is unclosed and counts as nothing.
    if raw.count('"') % 2:
        position = raw.rfind('"')
        raw_for_lexing = raw[:position] + " " + raw[position + 1 :]
    else:
        raw_for_lexing = raw
    query = ParsedQuery(raw=raw)
    stop = analysis.stop_words()
    groups: list[list] = []  # required groups; an OR joins a term to the previous group
    pending_or = False
    for negated, kind, text in _lex(raw_for_lexing):
        if kind == "or":
            pending_or = bool(groups)
            continue
        tokens = analysis.words(text)
        if not tokens:
            continue
        if kind == "phrase" or len(tokens) > 1:
            # A quoted phrase, or a hyphenated word ("Stadtumbau-West") read as one.
            if all(t in stop for t in tokens):
                query.dropped.extend(tokens)
                continue
            unit = ("phrase", tuple(tokens))
        else:
            if tokens[0] in stop:
                query.dropped.append(tokens[0])
                continue
            unit = ("word", tokens[0])
        if negated:
            query.must_not.append(_node(unit, negated=True))
            pending_or = False
            continue
        if pending_or:
            groups[-1].append(unit)
        else:
            groups.append([unit])
        pending_or = False

    groups = _join_synonym_sequences(groups)
    for group in groups[:MAX_TERMS]:
        nodes = tuple(dict.fromkeys(_node(unit) for unit in group))
        query.must.append(nodes[0] if len(nodes) == 1 else AnyOf(nodes))
    query.must_not = query.must_not[:MAX_TERMS]
    return query


def _node(unit, *, negated: bool = False) -> Node:
    kind, value = unit
    if kind == "word":
        if negated:
            return _synonyms((analysis.stem(value),)) or _word(value)
        return _expand_word(value)
    if kind == "synonym":
        return _synonyms(value)
    if len(value) == 1:
        return _word(value[0])  # a quoted single word matches exactly that word
    return _synonyms(_key(" ".join(value))) or Phrase(tuple(_word(w) for w in value))


def _join_synonym_sequences(groups: list[list]) -> list[list]:
    """Plain words that together spell a multi-word synonym ("integriertes städtebauliches
    Entwicklungskonzept" typed without quotes) become that synonym group."""
    longest = _longest_synonym()
    result: list[list] = []
    i = 0
    while i < len(groups):
        matched = False
        for length in range(min(longest, len(groups) - i), 1, -1):
            window = groups[i : i + length]
            if not all(len(g) == 1 and g[0][0] == "word" for g in window):
                continue
            key = tuple(analysis.stem(g[0][1]) for g in window)
            if key in synonym_index():
                result.append([("synonym", key)])
                i += length
                matched = True
                break
        if not matched:
            result.append(groups[i])
            i += 1
    return result
