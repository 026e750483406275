"""Pathological Markdown: deep nesting and floods of link or tag openers.

Before the caps in forum/markdown.py, "* " * 10,000 ended in a RecursionError (a server
error on posting), and 29,000 "[" or "[a](" kept Python-Markdown busy for minutes (its link
parser searches the rest of the paragraph from every opener). The tests check the shape of
the output that the caps produce, not the time it takes.
"""

from __future__ import annotations

import pytest

from forum.markdown import MAX_BLOCK_NESTING, MAX_OPENERS_PER_BLOCK, render_markdown

DEEP = {
    "bullets": "* " * 10_000 + "tief",
    "dashes": "- " * 10_000 + "tief",
    "numbers": "1. " * 9_000 + "tief",
    "quotes": "> " * 10_000 + "tief",
    "quoted lists": "> - " * 7_000 + "tief",
    "tab indents": "".join("\t" * i + "- tief\n" for i in range(240)),
}


@pytest.mark.parametrize("source", DEEP.values(), ids=DEEP.keys())
def test_deep_nesting_is_capped_and_the_text_stays(source):
    html = render_markdown(source)
    assert "tief" in html
    depth = max(html.count("<ul>"), html.count("<ol>"), html.count("<blockquote>"))
    assert depth <= MAX_BLOCK_NESTING + 1, depth


FLOODS = {
    "brackets": "[" * 29_000,
    "unclosed links": "[a](" * 7_000,
    "unclosed images": "![" * 14_000,
    "brackets then closers": "[" * 10_000 + "x" + "](y)" * 4_000,
    "autolink openers": "<http://a" * 3_000,
    "tag openers": "<abbr title='" * 2_000,
}


@pytest.mark.parametrize("source", FLOODS.values(), ids=FLOODS.keys())
def test_a_flood_of_openers_is_shown_as_text(source):
    html = render_markdown(source)
    # One paragraph with the characters escaped, no links or tags made from them.
    assert html.startswith("<p>") and html.count("<p>") == 1
    assert "<a " not in html and "<abbr" not in html
    assert html.count("&lt;") == source.count("<")


def test_a_flooded_paragraph_does_not_take_its_neighbours_with_it():
    flood = "[x](javascript:alert(1)) <b>fett</b> " * (MAX_OPENERS_PER_BLOCK + 1)
    html = render_markdown(f"**vorher** [Link](https://example.org)\n\n{flood}\n\n*nachher*")
    assert "<strong>vorher</strong>" in html and 'href="https://example.org"' in html
    assert "<em>nachher</em>" in html
    assert "javascript:" in html  # as visible text, not as a link
    assert 'href="javascript' not in html and "<b>" not in html


def test_ordinary_posts_keep_their_links_and_lists():
    source = "Links: " + " ".join(f"[{n}](https://example.org/{n})" for n in range(40))
    source += "\n\n" + "\n".join("    " * i + "- Ebene" for i in range(6))
    source += "\n\n```\n" + "[" * 500 + "<" * 500 + "\n```"
    html = render_markdown(source)
    assert html.count('href="https://example.org/') == 40
    assert html.count("<ul>") == 6
    assert "[" * 500 in html and "&lt;" * 500 in html  # code is left as written


def test_a_deep_post_through_the_reply_form_is_saved_not_a_server_error(client, member, db):
    import uuid

    from tests.factories import CategoryFactory, make_thread

    thread = make_thread(member, category=CategoryFactory())
    client.force_login(member)
    response = client.post(
        f"/t/{thread.pk}/antworten/",
        {"body": "* " * 10_000 + "tief", "client_token": str(uuid.uuid4())},
    )
    assert response.status_code == 302
    page = client.get(response.url, follow=True)
    assert page.status_code == 200 and "tief" in page.content.decode()
