"""The one place that turns Markdown into sanitised HTML.

Python-Markdown passes raw HTML through, so its output is always cleaned by nh3 (ammonia)
with the allowlist below. Links get ``rel="nofollow ugc noopener"``; images are only
allowed from this site (relative URLs).
"""

from __future__ import annotations

import re
from html import escape

import markdown as md
import nh3

from forum.text import strip_control_characters

ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt",
        "em", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
        "s", "strong", "sub", "summary", "sup", "table", "tbody", "td", "th", "thead", "tr",
        "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "th": {"align", "scope"},
    "td": {"align"},
    "ol": {"start"},
    "code": {"class"},
}
ALLOWED_URL_SCHEMES: frozenset[str] = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"

_EXTENSIONS = [
    "markdown.extensions.tables",
    "markdown.extensions.fenced_code",
    "markdown.extensions.sane_lists",
    "markdown.extensions.nl2br",
    "pymdownx.magiclink",
    "pymdownx.tilde",
]


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    # Images only from this site: a relative path, never another host or a data: URI.
    if (
        element == "img"
        and attribute == "src"
        and (not value.startswith("/") or value.startswith("//"))
    ):
        return None
    if element == "code" and attribute == "class" and not value.startswith("language-"):
        return None
    return value


def render_markdown(source: str) -> str:
    """Render user Markdown to HTML that is safe to print without escaping."""
    source = defuse_markdown(strip_control_characters(source or ""))
    try:
        html = md.markdown(source, extensions=_EXTENSIONS, output_format="html")
    except RecursionError:
        # Nesting deeper than the caps below still reached Python's recursion limit: the
        # text is shown as it was written rather than answering with a server error.
        html = "".join(
            f"<p>{escape(block).replace(chr(10), '<br>')}</p>"
            for block in re.split(r"\n\s*\n", source)
            if block.strip()
        )
    # <h1> is not allowed: the page owns it; nh3 keeps the text of a dropped tag.
    return sanitize_html(html)


# Python-Markdown nests lists and quotes recursively and looks for the end of a link or an
# inline tag from every "[", "](" and "<" of a paragraph again, so hostile input costs
# quadratic time (29,000 "[" kept a worker busy for minutes) or ends in a RecursionError.
# Nobody writes more than a few levels, or fifty links in one paragraph: beyond these caps
# the markers, or the whole paragraph, are shown as the characters they are.
MAX_BLOCK_NESTING = 16
MAX_INDENT_COLUMNS = 64
MAX_OPENERS_PER_BLOCK = 50  # each of "[", "](" and "<"

_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_BLOCK_MARKER = re.compile(r"[ \t]*(?:>|[-*+](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$))")
_MARKER_ESCAPES = str.maketrans(
    {">": "\\>", "*": "\\*", "-": "\\-", "+": "\\+", ".": "\\.", ")": "\\)"}
)


def _cap_line(line: str) -> str:
    indent = len(line) - len(line.lstrip(" \t"))
    if indent and len(line[:indent].expandtabs(4)) > MAX_INDENT_COLUMNS:
        line = " " * MAX_INDENT_COLUMNS + line[indent:]
    position, markers = 0, 0
    while (match := _BLOCK_MARKER.match(line, position)) is not None:
        markers += 1
        if markers > MAX_BLOCK_NESTING:
            return line[:position] + line[position:].translate(_MARKER_ESCAPES)
        position = match.end()
    return line


def _cap_block(lines: list[str]) -> list[str]:
    text = "\n".join(lines)
    if any(text.count(opener) > MAX_OPENERS_PER_BLOCK for opener in ("[", "](", "<")):
        # Shown as written, in a paragraph of its own that Markdown passes through as HTML
        # (escaped here, sanitised with the rest): linear, whatever the paragraph holds.
        return ["<p>" + escape(text, quote=False).replace("\n", "<br>") + "</p>"]
    return lines


def defuse_markdown(source: str) -> str:
    """The source with nesting and per-paragraph link/tag openers capped (see above).
    Fenced code is left alone: Markdown does not look into it."""
    out: list[str] = []
    block: list[str] = []
    fence = ""
    for line in source.split("\n"):
        if fence:
            out.append(line)
            if line.strip().startswith(fence):
                fence = ""
            continue
        match = _FENCE.match(line)
        if match is not None:
            out.extend(_cap_block(block))
            block = []
            fence = match.group(1)
            out.append(line)
        elif not line.strip():
            out.extend(_cap_block(block))
            block = []
            out.append(line)
        else:
            block.append(_cap_line(line))
    out.extend(_cap_block(block))
    return "\n".join(out)


_IMG_WITHOUT_SRC = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")
_IMG_WITHOUT_ALT = re.compile(r"<img(?![^>]*\salt=)")


def sanitize_html(html: str) -> str:
    cleaned = nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=set(ALLOWED_URL_SCHEMES),
        link_rel=LINK_REL,
        clean_content_tags={"script", "style"},
        attribute_filter=_filter_attribute,
        strip_comments=True,
    )
    # An image whose source was refused is dropped; one without a description gets an empty
    # alt, so screen readers skip it instead of reading the file name (WCAG 1.1.1).
    cleaned = _IMG_WITHOUT_SRC.sub("", cleaned)
    return _IMG_WITHOUT_ALT.sub('<img alt=""', cleaned)


MENTION_RE = re.compile(r"(?<![\w@/.])@([A-Za-z0-9](?:[A-Za-z0-9_-]{1,28}[A-Za-z0-9]))(?![\w-])")
_TAG_RE = re.compile(r"(<[^>]+>)")


def mentioned_handles(source: str) -> set[str]:
    """Handles written as @handle in the text (lower-cased), outside code."""
    without_code = re.sub(r"```.*?```|`[^`]*`", " ", source or "", flags=re.DOTALL)
    return {m.lower() for m in MENTION_RE.findall(without_code)}


def link_mentions(html: str, handles: dict[str, str]) -> str:
    """Turn @handle in sanitised HTML into profile links for the given existing handles.

    ``handles`` maps the lower-cased handle to its canonical spelling. Text inside code and
    existing links is left alone. Runs after sanitising: the links are made here, from
    validated handles only.
    """
    if not handles:
        return html
    out: list[str] = []
    skip_depth = 0
    for part in _TAG_RE.split(html):
        if part.startswith("<"):
            name = part[1:].split(None, 1)[0].rstrip(">").lower() if len(part) > 2 else ""
            if name in ("code", "pre", "a"):
                skip_depth += 1
            elif name in ("/code", "/pre", "/a"):
                skip_depth = max(skip_depth - 1, 0)
            out.append(part)
        elif skip_depth or "@" not in part:
            out.append(part)
        else:

            def replace(match: re.Match) -> str:
                canonical = handles.get(match.group(1).lower())
                if canonical is None:
                    return match.group(0)
                return f'<a class="mention" href="/u/{canonical}/">@{canonical}</a>'

            out.append(MENTION_RE.sub(replace, part))
    return "".join(out)
