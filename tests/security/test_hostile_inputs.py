"""The hostile-input corpus (corpus.py) through every field that is shown again.

Writes go through the real forms and views (or the services where a field has no form);
the pages, feeds, e-mails and live events that show the field again are parsed with an
HTML5 parser (html5lib, the algorithm browsers use) and checked for anything that could
run script, load from elsewhere or restyle the page. Fields shown as text must still show
what was typed (escaped, not dropped). Script execution in a real browser is checked by
tests/browser/test_hostile_inputs_browser.py.
"""

from __future__ import annotations

import asyncio
import functools
import re
import unicodedata
import uuid
from email.message import EmailMessage

import feedparser
import html5lib
import lxml.html
import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Organisation, User
from forum.events import user_group
from forum.models import Category, Notification, Post, Thread
from forum.services.collections import collection_create
from forum.services.posts import NewAttachment, post_create
from forum.services.threads import ProfileData, thread_create
from tests.factories import CategoryFactory, make_member, make_user
from tests.security import corpus

CATEGORY_IDS = list(corpus.CATEGORIES)
SVG_NS = "{http://www.w3.org/2000/svg}"
MATH_NS = "{http://www.w3.org/1998/Math/MathML}"
URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "data", "poster", "background", "codebase",
    "cite", "ping", "manifest", "lowsrc", "dynsrc", "longdesc", "icon", "xlink:href",
}  # fmt: skip
FORBIDDEN_ELEMENTS = {
    "iframe", "frame", "frameset", "object", "embed", "applet", "base", "style", "portal",
    "xmp", "plaintext", "listing", "noembed", "isindex", "keygen", "marquee",
}  # fmt: skip
BAD_STYLE = re.compile(r"expression|url\s*\(|javascript|behavior|binding|@import", re.I)
# Feeds make the site's own paths absolute (the test client's host is "testserver").
REMOTE = re.compile(r"\s*(https?:)?//(?!testserver/)")
# Dropped from one-line fields (forum.text.clean_line); the pages show the rest.
DIRECTION_CONTROLS = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- Checks -----------------------------------------------------------------------------------


def _bad_url(value: str) -> bool:
    # As the URL standard reads it: C0 controls and spaces around are stripped, tabs and
    # line breaks inside are removed; what remains starts with the scheme.
    url = value.strip("".join(map(chr, range(0x21))))
    url = url.replace("\t", "").replace("\n", "").replace("\r", "").lower()
    return url.startswith(("javascript:", "vbscript:", "data:", "livescript:"))


def _parse(html: str, *, fragment: bool, thorough: bool):
    if thorough or fragment:
        # The HTML5 algorithm, as browsers parse (foreign content, RCDATA, misnesting).
        parse = html5lib.parseFragment if fragment else html5lib.parse
        return parse(html, treebuilder="etree", namespaceHTMLElements=False)
    # libxml2 is a hundred times faster; pages that show many values at once use it, and
    # each kind of page is also parsed thoroughly at least once.
    return lxml.html.document_fromstring(html)


def html_problems(html: str, *, fragment: bool = False, thorough: bool = False) -> list[str]:
    """Everything in the document that user content must never produce."""
    root = _parse(html, fragment=fragment, thorough=thorough)
    found: list[str] = []
    for element in root.iter():
        if not isinstance(element.tag, str):  # comments
            continue
        tag = element.tag
        local = tag.rsplit("}", 1)[-1].lower()
        if local in ("svg", "math"):
            found.append(f"SVG/MathML element <{local}>")
        attrs = {k.rsplit("}", 1)[-1].lower(): v for k, v in element.attrib.items()}
        shown = f"<{local} {' '.join(f'{k}={v!r}' for k, v in attrs.items())}>"[:200]
        if tag.startswith((SVG_NS, MATH_NS)):
            found.append(f"SVG/MathML element {shown}")
        if local in FORBIDDEN_ELEMENTS:
            found.append(f"forbidden element {shown}")
        if local == "script":
            own = attrs.get("src", "").startswith("/static/") and "//" not in attrs["src"]
            data = attrs.get("type") == "application/json" and "<" not in (element.text or "")
            if not (own or data):
                found.append(f"script {shown} {(element.text or '')[:80]!r}")
        if local == "meta" and "http-equiv" in attrs:
            found.append(f"meta http-equiv {shown}")
        if local == "link" and not attrs.get("href", "/").startswith("/"):
            found.append(f"link to elsewhere {shown}")
        if local == "form" and attrs.get("action", "/")[:1] not in ("/", "?", "#", ""):
            found.append(f"form posting elsewhere {shown}")
        for name, value in attrs.items():
            if name.startswith("on"):
                found.append(f"event handler {name} on {shown}")
            if name in URL_ATTRIBUTES and _bad_url(value):
                found.append(f"{name} with a script or data URL {shown}")
            if name == "srcset" and any(_bad_url(p.strip()) for p in value.split(",")):
                found.append(f"srcset with a script or data URL {shown}")
            if name == "srcdoc":
                found.append(f"srcdoc {shown}")
            if name == "style" and BAD_STYLE.search(value):
                found.append(f"style with code or a remote URL {shown}")
            if name in ("src", "srcset", "poster") and REMOTE.match(value):
                found.append(f"remote resource {shown}")
    return found


def assert_safe(html: str, where: str, *, fragment: bool = False, thorough: bool = False) -> None:
    problems = html_problems(html, fragment=fragment, thorough=thorough)
    assert not problems, f"{where}:\n  " + "\n  ".join(problems)


def _plain(text: str) -> str:
    """Text as a reader compares it: control characters gone, whitespace collapsed."""
    text = "".join(
        ch
        for ch in unicodedata.normalize("NFC", text)
        if (ch.isspace() or unicodedata.category(ch) != "Cc") and ch not in DIRECTION_CONTROLS
    )
    return " ".join(text.split())


@functools.lru_cache(maxsize=8)
def visible_text(html: str) -> str:
    return _plain(lxml.html.document_fromstring(html).text_content())


def assert_shown(html: str, value: str, where: str) -> None:
    """The value appears as text (escaped), not swallowed as markup."""
    expected = _plain(value)
    if expected:
        assert expected in visible_text(html), f"{where}: {expected!r} is not shown as text"


def page(client: Client, url: str, *, status: int = 200, thorough: bool = False) -> str:
    response = client.get(url, follow=True)
    assert response.status_code == status, f"{url}: {response.status_code}"
    html = response.content.decode()
    assert_safe(html, url, thorough=thorough)
    return html


def mail_html_parts(messages) -> list[str]:
    parts = []
    for message in messages:
        if isinstance(message, EmailMessage):
            continue
        parts.extend(content for content, mimetype in message.alternatives if "html" in mimetype)
    return parts


def single_line(value: str) -> str:
    return " ".join(value.split())


def no_nul(vectors: list[str]) -> list[str]:
    # NUL cannot be stored in PostgreSQL text; the forms refuse it (test_nul_bytes_...).
    return [v for v in vectors if "\x00" not in v]


def batch(category: str, limit: int | None = None) -> str:
    text = "\n\n".join(no_nul(corpus.CATEGORIES[category]))
    return text[:limit] if limit else text


def title_for(vector: str) -> str:
    title = single_line(vector)[:190]
    return title if len(title) >= 8 else f"{title} – Titel"


# --- Fixtures ---------------------------------------------------------------------------------


@pytest.fixture
def public(db):
    return CategoryFactory(slug="oeffentlich", visibility=Category.Visibility.PUBLIC)


@pytest.fixture
def reader(network):
    return make_member(email="thomas.wagner@gelsenkirchen.de", handle="thomas-wagner")


@pytest.fixture
def author_client(member):
    client = Client()
    client.force_login(member)
    return client


@pytest.fixture
def reader_client(reader):
    client = Client()
    client.force_login(reader)
    return client


@pytest.fixture
def live_events(member):
    """Events sent to the author's group, taken from the channel layer itself."""
    layer = get_channel_layer()
    # A plain channel name, not new_channel(): the Redis layer binds a process-local
    # channel's buffer to one event loop, and each async_to_sync call here runs its own.
    channel = f"hostile-probe.{uuid.uuid4().hex}"
    async_to_sync(layer.group_add)(user_group(member.pk), channel)

    async def drain():
        received = []
        while True:
            try:
                received.append(await asyncio.wait_for(layer.receive(channel), 0.3))
            except TimeoutError:
                return received

    yield lambda: async_to_sync(drain)()
    async_to_sync(layer.group_discard)(user_group(member.pk), channel)


def _new_thread(client: Client, category, *, title: str, body: str, tags: str = ""):
    response = client.post(
        "/t/neu/",
        {
            "category": category.pk,
            "kind": "question",
            "title": title,
            "body": body,
            "tags": tags,
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Thread.objects.get(title=title)


# --- Markdown fields and everything that shows them again ---------------------------------------


def _check_feed(url: str) -> feedparser.FeedParserDict:
    response = Client().get(url)
    assert response.status_code == 200, url
    feed = feedparser.parse(response.content)
    assert not feed.bozo, (url, feed.bozo_exception)
    for entry in feed.entries:
        for content in [*entry.get("content", []), entry.get("summary_detail")]:
            if content and content.get("value"):
                assert_safe(content["value"], f"{url} entry", fragment=True)
        assert not _bad_url(entry.get("link", "")), entry.get("link")
    return feed


@pytest.mark.parametrize("category", CATEGORY_IDS)
def test_markdown_and_text_fields_are_safe_wherever_they_are_shown(
    category,
    public,
    member,
    reader,
    author_client,
    reader_client,
    mod_client,
    live_events,
    django_capture_on_commit_callbacks,
):
    body = f"Sicherheitsprobe {category}\n\n{batch(category)}"
    with django_capture_on_commit_callbacks(execute=True):
        thread = _new_thread(author_client, public, title=f"Sicherheitsprobe {category}", body=body)
    mail.outbox.clear()
    live_events()  # forget what the author's own thread sent
    with django_capture_on_commit_callbacks(execute=True):
        response = reader_client.post(
            f"/t/{thread.pk}/antworten/",
            {"body": f"@{member.handle} {body}", "client_token": str(uuid.uuid4())},
        )
    assert response.status_code == 302

    # Post bodies: the thread page (for a visitor, the author and the reader), the preview.
    url = thread.get_absolute_url()
    html = page(Client(), url, thorough=True)
    assert "Sicherheitsprobe" in visible_text(html)
    page(author_client, url)
    page(reader_client, url)
    for stored in Post.objects.filter(thread=thread).values_list("body_html", flat=True):
        assert_safe(stored, "stored post HTML", fragment=True)
    preview = author_client.post(
        f"/t/{thread.pk}/antworten/",
        {"body": body, "preview": "1", "client_token": str(uuid.uuid4())},
    )
    assert preview.status_code in (200, 400)
    assert_safe(preview.content.decode(), "preview", thorough=True)

    # Feeds.
    for feed_url in (f"/feeds/t/{thread.pk}/", "/feeds/themen/", f"/feeds/c/{public.slug}/"):
        _check_feed(feed_url)

    # The mention went out by e-mail (the default for mentions): the HTML part is clean and
    # no header was broken open.
    assert mail.outbox, "the mention sent no e-mail"
    for html_part in mail_html_parts(mail.outbox):
        assert_safe(html_part, "notification e-mail", thorough=True)
    for message in mail.outbox:
        assert "\n" not in message.subject and "\r" not in message.subject

    # The live event carries plain text and a path on this site; the client shows the text
    # with textContent (static/js/live.js).
    events = [e for e in live_events() if e.get("kind") == "notification"]
    assert events, "no live notification"
    for event in events:
        payload = event["payload"]
        assert payload["url"].startswith("/") and not payload["url"].startswith("//")
        assert "Sicherheitsprobe" in payload["text"]
    html = page(author_client, "/notifications/")
    assert "Sicherheitsprobe" in visible_text(html)

    # Search: the snippets of the posts, and the query itself shown in the search box.
    html = page(author_client, "/search/?q=Sicherheitsprobe")
    assert url in html
    query = single_line(" ".join(no_nul(corpus.CATEGORIES[category])))
    response = author_client.get("/search/", {"q": query})
    assert response.status_code == 200
    assert_safe(response.content.decode(), "search query", thorough=True)

    # Experience report: the project profile (plain text) and the result summary (Markdown).
    text = batch(category, 5000)
    line = single_line(text)
    report = thread_create(
        member,
        category=public,
        kind="experience",
        title=f"Erfahrung {category}",
        body="Bericht",
        profile=ProfileData(
            organisation_id=None,
            programme="stadtumbau_west",
            programme_detail=line[:200],
            partners=text[:2000],
            results=text,
            lessons_learned=text,
            contact=line[:300],
        ),
    )
    response = author_client.post(f"/t/{report.pk}/ergebnis/", {"summary": batch(category)})
    assert response.status_code == 302, response.content.decode()[:500]
    html = page(Client(), report.get_absolute_url(), thorough=True)
    assert_shown(html, line[:200], "programme detail")
    assert_shown(html, line[:300], "contact")

    # Report reason, moderation reason (e-mailed at once), appeal.
    post = thread.posts.get(number=1)
    reason = batch(category, 2000)
    response = reader_client.post(
        f"/beitrag/{post.pk}/melden/", {"reason": "other", "text": reason}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    html = page(mod_client, "/mod/", thorough=True)
    assert_shown(html, reason.split("\n")[0], "report reason")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = mod_client.post(f"/mod/beitrag/{post.pk}/ausblenden/", {"reason": reason})
    assert response.status_code == 302
    assert mail.outbox, "the decision was not mailed"
    for html_part in mail_html_parts(mail.outbox):
        assert_safe(html_part, "moderation e-mail", thorough=True)
    page(author_client, "/notifications/")
    notification = Notification.objects.filter(recipient=member, kind="moderation").latest("id")
    appeal = batch(category, 4000)
    response = author_client.post(f"/notifications/{notification.pk}/einspruch/", {"text": appeal})
    assert response.status_code in (200, 302), response.content.decode()[:500]
    page(author_client, f"/notifications/{notification.pk}/einspruch/")
    html = page(mod_client, "/mod/")
    assert_shown(html, appeal.split("\n")[0], "appeal")
    page(mod_client, "/mod/log/")

    # Collection: intro and editorial note (Markdown), published, in the list and the feed.
    response = mod_client.post(
        "/collections/neu/",
        {"title": f"Sammlung {category}", "intro": batch(category), "visibility": "public"},
    )
    assert response.status_code == 302, response.content.decode()[:500]
    collection_url = response.url
    collection = mod_client.get(collection_url).context["collection"]
    response = mod_client.post(
        f"/mod/thema/{report.pk}/sammlung/", {"sammlung": collection.pk, "notiz": batch(category)}
    )
    assert response.status_code == 302
    mod_client.post(f"{collection_url}stand/", {"status": "reviewed"})
    mod_client.post(f"{collection_url}stand/", {"status": "published"})
    html = page(Client(), collection_url, thorough=True)
    assert "Einordnung der Redaktion" in html, "the note is not shown"
    page(Client(), "/collections/")
    assert _check_feed("/feeds/sammlungen/").entries


# --- Single-line fields, one value at a time --------------------------------------------------


@pytest.mark.parametrize("category", CATEGORY_IDS)
def test_single_line_fields_one_value_at_a_time(
    category, public, member, author_client, mod_client, indexed
):
    vectors = no_nul(corpus.CATEGORIES[category])

    # Thread titles and tags: each its own thread, shown in the lists and on the pages.
    threads = []
    with indexed():
        for vector in vectors:
            title = title_for(vector)
            tag = single_line(vector.replace(",", " ").replace("#", " "))[:50]
            thread = thread_create(
                member, category=public, kind="question", title=title, body="Text", tags=[tag]
            )
            threads.append((thread, title, tag))
    listed = visible_text(page(author_client, f"/c/{public.slug}/"))
    listed += visible_text(page(author_client, f"/c/{public.slug}/?seite=2"))
    page(author_client, "/tags/")
    for _thread, title, _tag in threads:
        assert _plain(title) in listed, f"title {title!r} is not listed"
    for thread, title, tag in threads[:3]:
        html = page(author_client, thread.get_absolute_url(), thorough=True)
        assert_shown(html, title, f"title {title!r}")
        if tag:
            html = page(author_client, f"/tags/{thread.tags.get().slug}/")
            assert_shown(html, tag, f"tag {tag!r}")
    feed = _check_feed("/feeds/themen/")
    assert _plain(threads[-1][1]) in {_plain(e.title) for e in feed.entries}
    # "Similar threads" while a title is typed: a fragment that forum.js puts in with
    # innerHTML, so it must hold nothing but escaped text.
    suggested = ""
    for _thread, title, _tag in threads[:5]:
        response = author_client.get("/search/aehnlich/", {"titel": title})
        assert response.status_code == 200
        assert_safe(response.content.decode(), f"similar threads for {title!r}", fragment=True)
        suggested += response.content.decode()
    if category in ("script", "event_handlers", "urls"):  # titles with words to find
        assert suggested.strip(), "no similar threads suggested"
    response = author_client.get("/search/aehnlich/", {"titel": "Titel " + threads[0][1]})
    assert_safe(response.content.decode(), "similar threads", fragment=True)

    # Profiles: display name, job title, bio, expertise, through the form, one at a time.
    for vector in vectors[:3]:
        name = single_line(vector)[:100]
        response = author_client.post(
            "/accounts/profile/",
            {
                "display_name": name,
                "job_title": single_line(vector)[:150],
                "bio": vector[:1000],
                "expertise": single_line(vector.replace(",", " "))[:50],
            },
        )
        assert response.status_code == 302, response.content.decode()[:1000]
        html = page(author_client, f"/u/{member.handle}/", thorough=True)
        assert_shown(html, name, f"display name {name!r}")
    # ... and many people at once, as the directory and the author lines show them.
    people = [
        make_user(
            email=f"probe{i}@bochum.de",
            handle=f"probe-{i}",
            name=single_line(vector)[:100] or "Name",
        )
        for i, vector in enumerate(vectors)
    ]
    html = page(author_client, "/u/")
    for person in people:
        assert_shown(html, person.display_name, f"display name {person.display_name!r}")
    replies = threads[0][0]
    for person in people[:5]:
        post_create(person, thread=replies, body="Antwort")
    page(Client(), replies.get_absolute_url())

    # Organisation names (and descriptions) in the list, on their page and on author lines.
    made = [
        Organisation.objects.create(
            slug=f"probe-{i}", name=single_line(vector)[:200] or "Organisation", description=vector
        )
        for i, vector in enumerate(vectors)
    ]
    html = page(author_client, "/o/")
    for organisation in made:
        assert_shown(html, organisation.name, f"organisation {organisation.name!r}")
    page(author_client, f"/o/{made[0].slug}/", thorough=True)
    Organisation.objects.filter(pk=member.organisation_id).update(name=made[0].name)
    page(Client(), replies.get_absolute_url())

    # Collection titles (the form is used in the test above; here the service, for speed).
    moderator = User.objects.get(handle="moderatorin")
    for vector in vectors:
        collection_create(moderator, title=title_for(vector))
    html = page(mod_client, "/collections/")
    for vector in vectors[-5:]:
        assert_shown(html, title_for(vector), "collection title")

    # File names of attachments.
    holder = thread_create(
        member, category=public, kind="discussion", title="Anhänge mit Namen", body="Text"
    )
    names = []
    for vector in vectors[:12]:
        name = single_line(vector)[:120] + ".pdf"
        upload = NewAttachment(file=SimpleUploadedFile(name, PDF, "application/pdf"))
        try:
            post = post_create(member, thread=holder, body="Anhang", attachment=upload)
        except ValidationError as refused:
            # A name whose last path part is only ".pdf" has no extension: refused, in German.
            assert "ohne Endung" in " ".join(refused.messages), refused.messages
            continue
        names.append(post.attachments.get().original_name)
    html = page(author_client, holder.get_absolute_url(), thorough=True)
    for name in names:
        assert_shown(html, name, f"file name {name!r}")
    attachment = Post.objects.filter(thread=holder, has_attachments=True)[0].attachments.get()
    response = author_client.get(f"/anhang/{attachment.pk}/{attachment.original_name}")
    assert response.status_code == 200
    assert "\n" not in response["Content-Disposition"]
    assert "\r" not in response["Content-Disposition"]


# --- Oversized input, NUL bytes, deep Markdown, look-alike domains -----------------------------


def test_oversized_fields_get_a_german_message_and_keep_the_text(public, author_client, member):
    too_long_body = "Ä" * 30_001
    response = author_client.post(
        "/t/neu/",
        {
            "category": public.pk,
            "kind": "question",
            "title": "T" * 201,
            "body": too_long_body,
            "tags": "x" * 301,
            "client_token": str(uuid.uuid4()),
        },
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "zu lang" in html and "höchstens" in html
    assert too_long_body in html and "T" * 201 in html
    assert Thread.objects.count() == 0

    response = author_client.post(
        "/accounts/profile/", {"display_name": "N" * 101, "bio": "B" * 1001, "job_title": "J"}
    )
    html = response.content.decode()
    assert response.status_code in (200, 400)
    assert "höchstens" in html and "B" * 1001 in html

    thread = thread_create(
        member, category=public, kind="discussion", title="Ein langes Ergebnis", body="Text"
    )
    response = author_client.post(f"/t/{thread.pk}/ergebnis/", {"summary": "S" * 20_001})
    html = response.content.decode()
    assert response.status_code in (200, 400) and "höchstens" in html and "S" * 20_001 in html
    post = thread.posts.get(number=1)
    response = author_client.post(
        f"/beitrag/{post.pk}/melden/", {"reason": "other", "text": "R" * 2001}
    )
    assert response.status_code == 400 and "höchstens" in response.content.decode()


@pytest.mark.parametrize("field", ["body", "title"], ids=["post body", "thread title"])
def test_nul_bytes_are_refused_with_a_german_message(field, public, author_client):
    data = {
        "category": public.pk,
        "kind": "question",
        "title": "Ein ordentlicher Titel",
        "body": "Ein ordentlicher Text",
        "tags": "",
        "client_token": str(uuid.uuid4()),
    }
    data[field] = "mit\x00NUL"
    response = author_client.post("/t/neu/", data)
    assert response.status_code == 400
    assert "Nullzeichen" in response.content.decode()
    assert Thread.objects.count() == 0


def test_nul_and_control_characters_never_reach_the_database_or_the_feeds(
    public, author_client, mod_client, member
):
    response = author_client.post("/accounts/profile/", {"display_name": "Na\x00me"})
    assert response.status_code in (200, 400) and "Nullzeichen" in response.content.decode()
    # Fields without a form validator (tags are split into a list first; collections are
    # read from the request) lose the control characters instead of breaking PostgreSQL.
    response = author_client.post(
        "/t/neu/",
        {
            "category": public.pk,
            "kind": "question",
            "title": "Ein ordentlicher Titel",
            "body": "Ein ordentlicher Text",
            "tags": "mit\x00NUL, Esc\x1b",
            "client_token": str(uuid.uuid4()),
        },
    )
    assert response.status_code == 302
    assert sorted(Thread.objects.get().tags.names()) == ["Esc", "mitNUL"]
    response = mod_client.post(
        "/collections/neu/",
        {"title": "Samm\x00lung\x07", "intro": "x\x00\x1b", "visibility": "public"},
    )
    assert response.status_code == 302
    from forum.models import Collection

    collection = Collection.objects.get()
    assert (collection.title, collection.intro) == ("Sammlung", "x")
    # A title and a post with control characters do not break the Atom feeds.
    thread_create(
        member,
        category=public,
        kind="question",
        title="Glocke\x07 und Escape\x1b[31m",
        body="Text\x08 mit\x0b Steuerzeichen\x1f",
    )
    for url in ("/feeds/themen/", f"/feeds/c/{public.slug}/"):
        feed = _check_feed(url)
        assert "Glocke und Escape[31m" in {e.title for e in feed.entries}


@pytest.mark.parametrize("source", corpus.DEEP.values(), ids=corpus.DEEP.keys())
def test_deep_and_long_markdown_posts_are_saved_and_shown(source, public, member, author_client):
    thread = thread_create(
        member, category=public, kind="discussion", title="Tief verschachtelt", body="Text"
    )
    for body in (source, corpus.LONG_LINE):
        response = author_client.post(
            f"/t/{thread.pk}/antworten/", {"body": body, "client_token": str(uuid.uuid4())}
        )
        assert response.status_code == 302
    page(author_client, thread.get_absolute_url())


@pytest.mark.parametrize(
    "email",
    [
        "anna@b\u043echum.de",  # Cyrillic o
        "anna@xn--bchum-4ve.de",
        "anna@bochum.de.evil.example",
        "anna@evil-bochum.de",
        "anna@bochum\u200b.de",
    ],
)
def test_look_alike_domains_do_not_grant_membership(email, network):
    from tests.factories import make_user

    user = make_user(email=email, handle="anna-probe")
    assert not user.is_approved_member
    assert user.organisation_id is None


# --- The checks themselves --------------------------------------------------------------------

CAUGHT = [
    "<img src=x onerror=alert(1)>",
    "<a href=' java\tscript:alert(1)'>a</a>",
    "<svg><a xlink:href='javascript:alert(1)'>x</a></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "<iframe src=https://evil.example/></iframe>",
    "<meta http-equiv=refresh content='0;url=https://evil.example/'>",
    "<form action=https://evil.example/><button>x</button></form>",
    "<div style='background:url(https://tracker.example/)'>x</div>",
    "<img src=https://tracker.example/pixel.gif>",
    "<object data=x></object>",
]


@pytest.mark.parametrize("thorough", [True, False], ids=["html5lib", "lxml"])
@pytest.mark.parametrize("snippet", CAUGHT)
def test_the_checks_catch_what_they_look_for(snippet, thorough):
    document = f"<!DOCTYPE html><html><head><title>x</title></head><body>{snippet}</body></html>"
    assert html_problems(document, thorough=thorough), snippet
    escaped = document.replace(snippet, snippet.replace("&", "&amp;").replace("<", "&lt;"))
    assert not html_problems(escaped, thorough=thorough)
    assert_shown(escaped, snippet, "escaped snippet")


# --- Digest e-mails ---------------------------------------------------------------------------


@pytest.mark.parametrize("category", CATEGORY_IDS)
def test_digest_mails_show_hostile_titles_and_posts_as_text(category, public, member, reader):
    from datetime import timedelta

    from django.utils import timezone

    from forum.models import DigestSubscription, Section
    from forum.services import digests

    subscription = digests.subscription_save(
        reader,
        frequency="daily",
        hour=7,
        sections=list(Section.values),
        topics=DigestSubscription.Topics.ALL,
    )
    last_seven = digests.last_slot(DigestSubscription(frequency="daily", hour=7), timezone.now())
    titles = []
    for vector in no_nul(corpus.CATEGORIES[category])[:8]:
        thread = thread_create(
            member,
            category=public,
            kind="question",
            title=title_for(vector),
            body=batch(category, 3000),
        )
        moment = last_seven - timedelta(hours=2)
        Thread.objects.filter(pk=thread.pk).update(created_at=moment, last_activity_at=moment)
        thread.posts.update(created_at=moment)
        titles.append(thread.title)
    DigestSubscription.objects.filter(pk=subscription.pk).update(
        window_start=last_seven - timedelta(days=1),
        next_due_at=timezone.now() - timedelta(minutes=1),
    )
    mail.outbox.clear()
    digests.digests_claim()
    digests.digests_send(digests.pending_delivery_ids())
    assert len(mail.outbox) == 1, "no digest was sent"
    (html_part,) = mail_html_parts(mail.outbox)
    assert_safe(html_part, "digest e-mail", thorough=True)
    for title in titles:
        assert_shown(html_part, title, f"digest title {title!r}")
    assert "\n" not in mail.outbox[0].subject


@pytest.mark.parametrize(
    "field", ["title", "display name", "tag", "collection title"], ids=lambda f: f
)
def test_direction_overrides_are_dropped_from_one_line_fields(field, public, member, moderator):
    from accounts.services import profile_update

    spoof = "\u202eevil\u202c Antwort \u2067isoliert\u2069"
    if field == "title":
        value = thread_create(
            member, category=public, kind="question", title=spoof, body="Text"
        ).title
    elif field == "display name":
        value = profile_update(
            member, display_name=spoof, job_title=spoof, bio="", expertise=[]
        ).display_name
    elif field == "tag":
        thread = thread_create(
            member, category=public, kind="question", title="Ein Titel", body="x", tags=[spoof]
        )
        value = thread.tags.get().name
    else:
        value = collection_create(moderator, title=spoof).title
    assert value == "evil Antwort isoliert"
