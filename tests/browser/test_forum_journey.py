"""The forum core in a real browser: ask, quote, mention, accept, summarise; experience
reports with a filterable project profile; drafts, double submits and hostile input.

Every test ends with ``watch.assert_clean()``: no request left the server's host and the
console stayed free of errors (a CSP refusal of an injected script would be reported there).
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from forum.models import POST_MAX_LENGTH, PostMention, Thread

SABINE = "sabine.hoffmann@krefeld.de"  # Stadt Krefeld
THOMAS = "thomas.wagner@gelsenkirchen.de"  # Stadt Gelsenkirchen
AYLIN = "aylin.demir@stadtdo.de"  # Stadt Dortmund
DEMO_QUESTION = "Zwischenerwerb von Schrottimmobilien: Wie finanzieren Sie den Ankauf?"
DEMO_REPORT = "Erfahrungsbericht: Zwischennutzung der Brache am Westpark mit Kulturvereinen"
DRAFT_RESTORED = "Ihr Entwurf wurde wiederhergestellt."


# --- Helpers ----------------------------------------------------------------------------------


@pytest.fixture
def other_context(browser, live, context) -> BrowserContext:
    """A second person's browser (own cookies and storage), watched like the first one."""
    other = browser.new_context(
        locale="de-DE",
        timezone_id="Europe/Berlin",
        base_url=live.url,
        viewport={"width": 1280, "height": 900},
    )
    other.set_default_timeout(10_000)
    # conftest's PageWatch, without importing conftest.
    other.watch = type(context.watch)(server_netloc=live.netloc)
    other.on("page", other.watch.watch)
    try:
        yield other
    finally:
        other.close()


def submit(page: Page, name: str = "Absenden"):
    """Press a button of the main content and wait for the page that answers."""
    with page.expect_navigation() as navigation:
        page.get_by_role("main").get_by_role("button", name=name, exact=True).click()
    return navigation.value


def reply_box(page: Page):
    return page.get_by_role("textbox", name="Ihre Antwort")


def post(page: Page, number: int, *, accepted: bool = False):
    return page.locator(f"#{'accepted-' if accepted else ''}post-{number}")


def expect_failed_document(watch, live, path: str, status: str) -> None:
    """Chromium logs the error status of a document itself as a console error."""
    watch.expect_console_error(f"status of {status} ({live.url}{path})")


# --- 1. Question, quote, mention, accepted answer and result ---------------------------------


TITLE = "Grundsteuer C und Zwischenerwerb: Erfahrungen mit leerstehenden Ladenlokalen?"
BODY = (
    "Wir überlegen in Krefeld, **Grundsteuer C** auf baureife Grundstücke zu erheben und "
    "parallel leerstehende Ladenlokale zwischenzuerwerben.\n\n"
    "- Wer hat schon einen Hebesatz beschlossen?\n"
    "- Wie reagieren die Eigentümer?"
)
TAGS = ["Leerstand", "Zwischenerwerb", "Grundsteuer"]
REPLY = "@sabine-hoffmann in Gelsenkirchen gilt die Grundsteuer C seit 2025; der Hebesatz ..."
SUMMARY = "Grundsteuer C wirkt erst mit einem deutlichen Hebesatz; Zwischenerwerb bleibt nötig."


def test_question_is_answered_with_quote_and_mention_accepted_and_summarised(
    page, other_context, live, sign_in, watch
):
    # Member A starts a question in a members-only category.
    sign_in(page, SABINE)
    page.goto("/")
    page.get_by_role("main").get_by_role("link", name="Neues Thema").click()
    expect(page).to_have_url(f"{live.url}/t/neu/")
    page.get_by_label("Themenfeld").select_option(label="Leerstand und Immobilien")
    page.get_by_role("radio", name="Frage", exact=True).check()
    page.get_by_label("Titel", exact=True).fill(TITLE)
    page.get_by_role("textbox", name="Text", exact=True).fill(BODY)
    page.get_by_label(re.compile("^Schlagwörter")).fill(", ".join(TAGS))
    submit(page)

    thread = Thread.objects.get(title=TITLE)
    assert thread.category.slug == "leerstand-und-immobilien"
    assert thread.kind == Thread.Kind.QUESTION
    assert sorted(thread.tags.names()) == sorted(TAGS)
    thread_url = f"{live.url}{thread.get_absolute_url()}"
    expect(page).to_have_url(thread_url)
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    tags = page.locator("header.thread-head").get_by_role("list", name="Schlagwörter")
    expect(tags.get_by_role("link")).to_have_text(TAGS)
    expect(post(page, 1).locator("strong")).to_have_text("Grundsteuer C")  # Markdown rendered

    # Member B from another city quotes post #1 and mentions A.
    page_b = other_context.new_page()
    sign_in(page_b, THOMAS)
    page_b.goto(thread.get_absolute_url())
    post(page_b, 1).get_by_role("link", name="Zitieren").click()
    expect(page_b).to_have_url(re.compile(r"\?zitat=1#antworten$"))
    box = reply_box(page_b)
    expect(box).to_have_value(re.compile(r"^@sabine-hoffmann schrieb in #1:\n> Wir überlegen"))
    box.fill(box.input_value() + REPLY)
    submit(page_b)

    reply = post(page_b, 2)
    expect(reply.locator("blockquote")).to_contain_text("Grundsteuer C")
    mention = reply.locator(".post__body").get_by_role("link", name="@sabine-hoffmann").last
    expect(mention).to_have_attribute("href", "/u/sabine-hoffmann/")
    expect(reply.locator(".post__body")).to_contain_text("in Gelsenkirchen gilt")

    # Member A accepts the reply and writes down the result.
    page.reload()
    expect(post(page, 2)).to_be_visible()
    with page.expect_navigation():
        post(page, 2).get_by_role("button", name="Als Lösung akzeptieren").click()
    expect(page.locator(".messages").get_by_role("status")).to_have_text(
        "Die Antwort ist als Lösung markiert."
    )
    page.get_by_role("link", name="Ergebnis festhalten").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Ergebnis festhalten")
    page.get_by_label("Ergebnis").fill(SUMMARY)
    submit(page, "Speichern")

    expect(page).to_have_url(thread_url)
    expect(page.locator(".thread-head").get_by_text("gelöst", exact=True)).to_be_visible()
    summary = page.get_by_role("region", name="Ergebnis")
    expect(summary).to_contain_text(SUMMARY)
    expect(summary).to_contain_text("festgehalten von Sabine Hoffmann · Stadt Krefeld")
    accepted = page.get_by_role("region", name="Akzeptierte Antwort")
    expect(accepted).to_contain_text("in Gelsenkirchen gilt")
    expect(post(page, 2, accepted=True).locator(".author-line")).to_have_text(
        "Thomas Wagner · Stadt Gelsenkirchen"
    )
    expect(post(page, 1).locator(".author-line")).to_have_text("Sabine Hoffmann · Stadt Krefeld")
    replies = page.get_by_role("region", name="1 Antwort")
    expect(post(page, 2).locator(".author-line")).to_have_text(
        "Thomas Wagner · Stadt Gelsenkirchen"
    )
    # The accepted answer and the result come before the replies.
    order = page.evaluate(
        """() => {
            const at = (s) => document.querySelector(s);
            const before = (a, b) =>
                !!(at(a).compareDocumentPosition(at(b)) & Node.DOCUMENT_POSITION_FOLLOWING);
            return [before('section.accepted', 'section.replies'),
                    before('section.summary', 'section.replies'),
                    before('#post-1', 'section.accepted')];
        }"""
    )
    assert order == [True, True, True]
    expect(replies.locator("#post-2")).to_have_count(1)

    thread.refresh_from_db()
    assert thread.accepted_post.author.handle == "thomas-wagner"
    assert thread.summary == SUMMARY
    assert PostMention.objects.filter(
        post=thread.accepted_post, user__handle="sabine-hoffmann"
    ).exists()

    watch.assert_clean()
    other_context.watch.assert_clean()


# --- 2. Experience report with project profile, found through the list filters ---------------


REPORT_TITLE = "Erfahrungsbericht: Leerstandsmanagement mit Eigentümerstammtisch in der Nordstadt"


def test_experience_report_profile_is_shown_and_filterable(page, live, sign_in, axe, watch):
    sign_in(page, AYLIN)
    page.goto("/t/neu/")
    profile = page.get_by_role("group", name="Projektsteckbrief (nur für Erfahrungsberichte)")
    expect(profile).to_be_hidden()  # only for experience reports
    page.get_by_label("Themenfeld").select_option(label="Wohnen und Quartier")
    page.get_by_role("radio", name="Erfahrungsbericht").check()
    expect(profile).to_be_visible()
    page.get_by_label("Titel", exact=True).fill(REPORT_TITLE)
    page.get_by_role("textbox", name="Text", exact=True).fill(
        "Seit 2022 treffen sich Eigentümer und Stadt monatlich.\n\n## Was gut lief\n\n- Vertrauen"
    )
    page.get_by_label(re.compile("^Schlagwörter")).fill("Leerstand, Eigentümer")
    profile.get_by_label("Programm / Förderung").select_option(label="Lebendige Zentren")
    profile.get_by_label("Programm im Detail").fill("Förderjahr 2022")
    page.fill('input[name="profile-start_month"]', "2022-03")
    page.fill('input[name="profile-end_month"]', "2024-06")
    profile.get_by_label("Budget in Euro").fill("250000")
    profile.get_by_label("Förderanteil in Prozent").fill("60")
    profile.get_by_label("Stand", exact=True).select_option(label="abgeschlossen")
    profile.get_by_label("Partner").fill("Haus & Grund Dortmund\nIHK zu Dortmund")
    profile.get_by_label("Ergebnisse").fill("Zwölf Ladenlokale wieder vermietet.")
    profile.get_by_label("Erkenntnisse").fill("Persönliche Ansprache wirkt mehr als Briefe.")
    profile.get_by_label("Ansprechperson").fill("Aylin Demir, Amt für Stadterneuerung")
    submit(page)

    thread = Thread.objects.get(title=REPORT_TITLE)
    assert thread.kind == Thread.Kind.EXPERIENCE
    p = thread.profile
    assert (p.programme, p.status) == ("lebendige_zentren", "completed")
    assert (p.start_month.isoformat(), p.end_month.isoformat()) == ("2022-03-01", "2024-06-01")
    assert (p.budget_eur, p.funding_share_pct) == (250000, 60)
    expect(page).to_have_url(f"{live.url}{thread.get_absolute_url()}")
    card = page.get_by_role("region", name="Projektsteckbrief")
    for text in [
        "Stadt Dortmund",
        "Lebendige Zentren – Förderjahr 2022",
        "März 2022 – Juni 2024",
        "250.000 €",
        "Förderanteil 60 %",
        "abgeschlossen",
        "IHK zu Dortmund",
        "Zwölf Ladenlokale",
        "Persönliche Ansprache",
        "Aylin Demir, Amt für Stadterneuerung",
    ]:
        expect(card).to_contain_text(text)

    # The home page's filters find the report ...
    page.goto("/")
    filters = page.get_by_role("form", name="Themen filtern")
    filters.get_by_label("Art").select_option(label="Erfahrungsbericht")
    filters.get_by_label("Programm").select_option(label="Lebendige Zentren")
    filters.get_by_label("Projektstand").select_option(label="abgeschlossen")
    with page.expect_navigation():
        filters.get_by_role("button", name="Anwenden").click()
    assert "art=experience" in page.url
    assert "programm=lebendige_zentren" in page.url
    assert "stand=completed" in page.url
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=REPORT_TITLE)).to_be_visible()
    expect(main.get_by_role("link", name=DEMO_REPORT)).to_have_count(0)  # another programme
    expect(main.locator(".thread-row")).to_have_count(1)
    expect(main.locator(".thread-row")).to_contain_text("Lebendige Zentren, abgeschlossen")
    # The filters keep their values after applying them.
    expect(filters.get_by_label("Programm")).to_have_value("lebendige_zentren")
    axe(page)

    # ... and another programme does not.
    filters.get_by_label("Programm").select_option(label="Wachstum und nachhaltige Erneuerung")
    with page.expect_navigation():
        filters.get_by_role("button", name="Anwenden").click()
    expect(main.get_by_role("link", name=REPORT_TITLE)).to_have_count(0)
    expect(main.get_by_role("link", name=DEMO_REPORT)).to_be_visible()

    # The category page lists it too, and its filters work there as well.
    page.goto("/c/wohnen-und-quartier/?art=experience&stand=completed")
    expect(main.get_by_role("link", name=REPORT_TITLE)).to_be_visible()
    axe(page)
    page.goto("/c/wohnen-und-quartier/?stand=running")
    expect(main.get_by_role("link", name=REPORT_TITLE)).to_have_count(0)
    expect(main.get_by_text("Hier gibt es noch keine Themen.")).to_be_visible()

    watch.assert_clean()


# --- 3. Drafts survive a reload; a double click posts once -----------------------------------


def test_reply_draft_survives_reload_and_double_click_posts_once(page, sign_in, watch):
    thread = Thread.objects.get(title=DEMO_QUESTION)
    sign_in(page, SABINE)
    page.goto(thread.get_absolute_url())
    draft = "Ein Nachtrag aus Krefeld: Der Rat hat den Zwischenerwerb beschlossen."
    reply_box(page).fill(draft)  # fires "input": the composer stores the draft

    page.reload()
    expect(reply_box(page)).to_have_value(draft)
    composer = page.locator("form[data-draft-key]")
    expect(composer.locator(".draft-note")).to_have_text(DRAFT_RESTORED)
    # Announced through the page's live region (a pre-filled status is not read out).
    expect(page.locator("#live-region")).to_have_text(DRAFT_RESTORED)

    posts_before = thread.posts.count()
    with page.expect_navigation():
        composer.get_by_role("button", name="Absenden", exact=True).dblclick()
    expect(post(page, posts_before + 1)).to_contain_text("Der Rat hat")
    assert thread.posts.count() == posts_before + 1
    # Every reply once in the list of replies (the accepted answer also stands above it).
    expect(page.locator("section.replies article.post")).to_have_count(posts_before)
    expect(page.locator(".post__body").get_by_text(draft)).to_have_count(1)

    # Sent: the draft is forgotten, a reload brings an empty composer without the note.
    page.reload()
    expect(reply_box(page)).to_have_value("")
    expect(page.get_by_text(DRAFT_RESTORED)).to_have_count(0)

    # Without the script's guard, two racing submits of one form still make one post.
    reply_box(page).fill("Zweimal gleichzeitig abgeschickt.")
    statuses = composer.evaluate(
        """async (form) => {
            const send = () => fetch(form.action, {method: 'POST', body: new FormData(form)});
            const responses = await Promise.all([send(), send()]);
            return responses.map((r) => r.status);
        }"""
    )
    assert statuses == [200, 200]  # both redirected to the one post
    assert thread.posts.count() == posts_before + 2
    assert thread.posts.filter(body="Zweimal gleichzeitig abgeschickt.").count() == 1
    watch.assert_clean()


# --- 4. Hostile input ---------------------------------------------------------------------------


HOSTILE = (
    "<script>window.__pwned=1</script>\n\n"
    "[x](javascript:window.__pwned=2)\n\n"
    '<img src=x onerror="window.__pwned=3">\n\n'
    "Harmlos bis hier."
)


def test_hostile_markup_is_neutralised(page, sign_in, watch):
    thread = Thread.objects.get(title=DEMO_QUESTION)
    sign_in(page, THOMAS)
    page.goto(thread.get_absolute_url())
    reply_box(page).fill(HOSTILE)
    submit(page)

    new = thread.posts.order_by("-number").first()
    assert new.body == HOSTILE  # the source is kept as written ...
    body = post(page, new.number).locator(".post__body")  # ... and shown defused
    expect(body).to_contain_text("Harmlos bis hier.")
    expect(body.locator("script")).to_have_count(0)
    expect(body.locator("[onerror]")).to_have_count(0)
    expect(body.locator("img[src]")).to_have_count(0)
    link = body.get_by_text("x", exact=True)
    expect(link).to_have_count(1)
    expect(link).not_to_have_attribute("href", re.compile("javascript", re.IGNORECASE))
    link.click()  # runs nothing
    page.wait_for_timeout(100)
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    for fragment in ("<script", "javascript:", "onerror"):
        assert fragment not in new.body_html, new.body_html
    # axe is run on such a page in test_forum_a11y.py (an <img> without src stays behind).
    watch.assert_clean()


def test_too_long_reply_comes_back_with_a_german_message(page, live, sign_in, watch):
    thread = Thread.objects.get(title=DEMO_QUESTION)
    sign_in(page, THOMAS)
    page.goto(thread.get_absolute_url())
    posts_before = thread.posts.count()
    too_long = "Sehr ausführlicher Bericht. " * 1100  # 30,800 characters
    box = reply_box(page)
    box.fill(too_long)
    # The textarea has maxlength="30000": Chromium cuts what is typed or pasted there.
    assert len(box.input_value()) == POST_MAX_LENGTH
    # A client that ignores maxlength (a script, an old browser) still meets the server's check.
    box.evaluate("(el, text) => { el.removeAttribute('maxlength'); el.value = text; }", too_long)
    expect_failed_document(watch, live, f"/t/{thread.pk}/antworten/", "400 (Bad Request)")
    assert submit(page).status == 400

    assert thread.posts.count() == posts_before
    expect(page.get_by_role("alert")).to_contain_text("Ein Feld braucht Ihre Aufmerksamkeit.")
    box = reply_box(page)
    value = box.input_value()
    assert value == too_long, f"{len(value)} of {len(too_long)} characters came back"
    expect(box).to_have_attribute("aria-invalid", "true")
    message = re.compile(r"zu lang; erlaubt sind 30\.?000")
    expect(page.locator(".kern-error")).to_have_text(message)
    expect(box).to_have_accessible_description(message)
    watch.assert_clean()


def test_reply_the_textarea_accepts_is_not_refused_for_its_line_breaks(page, live, sign_in, watch):
    thread = Thread.objects.get(title=DEMO_QUESTION)
    sign_in(page, THOMAS)
    page.goto(thread.get_absolute_url())
    text = "\n".join(["Zeile mit Inhalt. " * 5 + "Ende."] * 312)  # 29,951 characters
    box = reply_box(page)
    box.fill(text)
    if len(text) > POST_MAX_LENGTH or box.input_value() != text:
        pytest.fail("precondition: the textarea must take the whole text")
    expect_failed_document(watch, live, f"/t/{thread.pk}/antworten/", "400 (Bad Request)")
    response = submit(page)
    errors = page.locator(".kern-error").all_inner_texts()
    assert response.status == 200, f"refused: {errors}"
    watch.assert_clean()
