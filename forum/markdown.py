"""The one place that turns Markdown into sanitised HTML.

Python-Markdown passes raw HTML through, so its output is always cleaned by nh3 (ammonia)
with the allowlist below. Links get ``rel="nofollow ugc noopener"``; images are only
allowed from this site (relative URLs).
"""

from __future__ import annotations

import re

import markdown as md
import nh3

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
    html = md.markdown(source or "", extensions=_EXTENSIONS, output_format="html")
    # <h1> is not allowed: the page owns it; nh3 keeps the text of a dropped tag.
    return sanitize_html(html)


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
