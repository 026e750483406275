from __future__ import annotations

import pytest

from forum.markdown import render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    '<img src="x" onerror="alert(1)">',
    "[klick](javascript:alert(1))",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<svg><script>alert(1)</script></svg>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    "<iframe src=//evil.example.com></iframe>",
    "<style>body{display:none}</style>",
    '<p onclick="alert(1)">x</p>',
    "![x](https://tracker.example.com/pixel.gif)",
    "![x](data:image/png;base64,AAAA)",
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_markdown_loses_its_teeth(source):
    html = render_markdown(source).lower()
    for needle in (
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "data:",
        "<iframe",
        "<style",
        "style=",
        "tracker.example.com",
        "<svg",
        "<math",
    ):
        assert needle not in html, (source, html)


def test_links_get_rel_and_bare_urls_are_linked():
    html = render_markdown("Siehe https://www.bochum.de und [Plan](https://example.org/plan.pdf)")
    assert html.count('rel="nofollow ugc noopener"') == 2
    assert 'href="https://www.bochum.de"' in html


def test_tables_lists_headings_and_local_images_survive():
    html = render_markdown(
        "## Titel\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- eins\n- zwei\n\n![Plan](/media/plan.png)"
    )
    assert "<h2>Titel</h2>" in html and "<table>" in html and "<li>eins</li>" in html
    assert '<img alt="Plan" src="/media/plan.png">' in html


def test_a_level_one_heading_is_reduced_to_text():
    assert "<h1" not in render_markdown("# Groß")
