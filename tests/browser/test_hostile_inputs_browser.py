"""The hostile-input corpus (tests/security/corpus.py) in a real Chromium.

The whole corpus is written once through the services (posts, thread titles, tags, a
profile, an organisation, a collection with intro and note) and a handful of pages are
opened, as a visitor and as the signed-in author (whose pages run the live client too).
Before any page script runs, an init script records every call of alert/confirm/prompt and
gives the vectors a ``window.__xss`` to push to. Nothing may fire, no dialog may open, and
the Content-Security-Policy must refuse nothing: a CSP refusal means a vector reached the
DOM and only the policy stopped it. After the page's own scripts ran, the live DOM is
searched for anything that could run script.
"""

from __future__ import annotations

import pytest

from accounts.models import Organisation, User
from accounts.services import profile_update
from forum.models import Category
from forum.services import collections as collection_service
from forum.services.posts import post_create
from forum.services.threads import thread_create
from tests.security import corpus

AUTHOR = "jonas.becker@bochum.de"
MODERATOR = "miriam.koch@agentur.example.org"

TRAP = """
window.__xss = [];
window.__dialogs = [];
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = function () { window.__xss.push(name); };
}
"""

# What the page's DOM must not hold once its own scripts have run.
DOM_PROBLEMS = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      const value = attr.value.replace(/[\\t\\n\\r]/g, "").trim().toLowerCase();
      if (name.startsWith("on")) found.push(`${name} on <${el.localName}>`);
      if (["href", "src", "action", "formaction", "xlink:href", "data"].includes(name)
          && /^(javascript|vbscript|data):/.test(value)) found.push(`${name}=${value} on <${el.localName}>`);
      if (name === "srcdoc") found.push(`srcdoc on <${el.localName}>`);
    }
    const tag = el.localName;
    if (["iframe", "frame", "object", "embed", "base", "style", "svg", "math", "portal"].includes(tag)) {
      found.push(`<${tag}>`);
    }
    if (tag === "script") {
      const src = el.getAttribute("src") || "";
      const own = src.startsWith("/static/") && !src.startsWith("//");
      if (!own && el.type !== "application/json") found.push(`script ${el.outerHTML.slice(0, 80)}`);
    }
    if (tag === "meta" && el.hasAttribute("http-equiv")) found.push("meta http-equiv");
  }
  return found;
}"""


def _single_line(vector: str) -> str:
    return " ".join(vector.replace("\x00", "").split())


@pytest.fixture
def hostile_content(live):
    users = {u.email: u for u in User.objects.all()}
    author = users[AUTHOR]
    category = Category.objects.filter(visibility=Category.Visibility.PUBLIC).first()
    batches = {name: "\n\n".join(v.replace("\x00", "") for v in vectors)
               for name, vectors in corpus.CATEGORIES.items()}  # fmt: skip
    names = list(batches)
    # One thread whose posts hold the whole corpus, one category per post.
    thread = thread_create(
        author,
        category=category,
        kind="discussion",
        title="Browserprobe: feindselige Eingaben",
        body=batches[names[0]],
        tags=[_single_line(v)[:50] for v in corpus.SCRIPT[:5]],
    )
    for name in names[1:]:
        post_create(author, thread=thread, body=batches[name])
    # Titles and tags, one per thread, for the category list.
    for vector in corpus.BREAKOUT + corpus.SCRIPT[:10]:
        title = _single_line(vector)[:190]
        thread_create(
            author,
            category=category,
            kind="question",
            title=title if len(title) >= 8 else f"{title} – Titel",
            body="Text",
            tags=[_single_line(vector).replace(",", " ").replace("#", " ")[:50]],
        )
    profile_update(
        author,
        display_name=_single_line(corpus.BREAKOUT[2])[:100],
        job_title=_single_line(corpus.EVENT_HANDLERS[0])[:150],
        bio="\n".join(corpus.BREAKOUT)[:1000],
        expertise=[_single_line(corpus.SCRIPT[0])[:50]],
    )
    Organisation.objects.filter(pk=author.organisation_id).update(
        name=_single_line(corpus.BREAKOUT[0])[:200], description=batches["event_handlers"]
    )
    moderator = users[MODERATOR]
    collection = collection_service.collection_create(
        moderator, title=_single_line(corpus.SCRIPT[0]), intro=batches["svg_mathml"]
    )
    collection_service.collection_add_thread(
        moderator, collection=collection, thread=thread, note=batches["css"]
    )
    for status in ("reviewed", "published"):
        collection_service.collection_set_status(moderator, collection=collection, status=status)
    organisation = Organisation.objects.get(pk=author.organisation_id)
    return {
        "thread": thread.get_absolute_url(),
        "category": category.get_absolute_url(),
        "collection": collection.get_absolute_url(),
        "organisation": f"/o/{organisation.slug}/",
        "profile": f"/u/{author.handle}/",
        "search": "/search/?q=" + _single_line(" ".join(corpus.BREAKOUT))[:400],
    }


def _open(page, url: str, refusals: list[str], dialogs: list[str]) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("load")
    problems = page.evaluate(DOM_PROBLEMS)
    fired = page.evaluate("window.__xss")
    return [f"{url}: {p}" for p in problems] + [f"{url}: fired {f}" for f in fired]


def test_the_hostile_corpus_runs_no_script_in_chromium(
    context, page, watch, hostile_content, sign_in
):
    context.add_init_script(TRAP)
    # Markdown images may point to a path on this site; the corpus's "/x.png" does not exist.
    watch.expect_console_error("/x.png")
    refusals: list[str] = []
    dialogs: list[str] = []

    def on_console(message):
        text = message.text
        if "Refused to" in text or "Content Security Policy" in text:
            refusals.append(f"{page.url}: {text}")

    page.on("console", on_console)
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    problems: list[str] = []
    for key in ("thread", "category", "collection", "organisation", "search"):
        problems += _open(page, hostile_content[key], refusals, dialogs)
    # Signed in, the author's pages run the live client (socket, catch-up) as well.
    sign_in(page, AUTHOR)
    for key in ("profile", "thread", "organisation"):
        problems += _open(page, hostile_content[key], refusals, dialogs)
    problems += _open(page, "/notifications/", refusals, dialogs)

    assert not dialogs, f"dialogs opened: {dialogs}"
    assert not refusals, "CSP refused something a vector put into the DOM:\n  " + "\n  ".join(
        refusals
    )
    assert not problems, "\n".join(problems)
    watch.assert_clean()
