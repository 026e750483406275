"""The moderation journey in three browsers: a member reports a post; the moderator (with
two-factor login) sees it in the queue with its context and hides it with a reason; the
author hears the statement of reasons live and finds it in the notification centre; the audit
log shows the action; the moderator shows the post again and the log shows that too; the
reporter hears the outcome of the report.

Everything the people do goes through the real UI, so reports, audit entries, notifications
and pushes are made in the server process (its cache and its channel layer).
"""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Locator, Page, expect

from accounts.models import User
from forum.models import AuditEntry, Notification, Report, Thread

REPORTER = "sabine.hoffmann@krefeld.de"  # started the demo thread below
AUTHOR = "thomas.wagner@gelsenkirchen.de"  # writes the post that is reported
MODERATOR = "miriam.koch@agentur.example.org"
TITLE = "Zwischenerwerb von Schrottimmobilien: Wie finanzieren Sie den Ankauf?"
AD = (
    "Kleiner Tipp in eigener Sache: Das Gutachterbüro Schnell & Partner erstellt "
    "Verkehrswertgutachten zum Festpreis – einfach Angebot anfordern."
)
REPORT_NOTE = "Das ist Werbung für ein privates Büro, keine Antwort auf die Frage."
HIDE_REASON = "Werbung für ein privates Unternehmen ist im Forum nicht erlaubt (Nutzungsregel 4)."
UNHIDE_REASON = "Nach Rücksprache: Das Büro arbeitet im Auftrag der Stadt; Beitrag wieder sichtbar."
HIDDEN_STATEMENT = (
    f"Ihr Beitrag in „{TITLE}“ wurde von der Moderation ausgeblendet. Begründung: {HIDE_REASON}"
)
UNHIDDEN_STATEMENT = (
    f"Ihr Beitrag in „{TITLE}“ wurde von der Moderation wieder eingeblendet. "
    f"Begründung: {UNHIDE_REASON}"
)
REPORT_OUTCOME = (
    f"Ihre Meldung zu einem Beitrag in „{TITLE}“ ist geprüft. Der Beitrag wurde ausgeblendet. "
    f"Begründung: {HIDE_REASON}"
)
APPEAL = "Der Hinweis auf das Büro war als Hilfe gemeint, nicht als Werbung."
ANSWER = "Danke für Ihre Erklärung; der Beitrag ist inzwischen wieder sichtbar."
HIDDEN_PLACEHOLDER = "Dieser Beitrag wurde von der Moderation ausgeblendet."


@pytest.fixture
def thread(live) -> Thread:
    return Thread.objects.get(title=TITLE)


def unread(email: str) -> int:
    return Notification.objects.filter(recipient__email=email, read_at__isnull=True).count()


def expect_bell(page: Page, count: int) -> None:
    bell = page.locator("[data-bell-count]")
    if count:
        expect(bell).to_be_visible()
        expect(bell).to_have_text(str(count))
    else:
        expect(bell).to_be_hidden()


def success(page: Page, text: str) -> None:
    expect(page.locator(".messages")).to_contain_text(text)


def log_row(page: Page, action: str) -> Locator:
    return page.locator("table.audit-table tbody tr").filter(
        has=page.locator("code", has_text=re.compile(rf"^{re.escape(action)}$"))
    )


def expect_live_socket(page: Page) -> None:
    """The page's live socket is open and the first catch-up done: nothing falls in between."""
    page.wait_for_function(
        "() => { const s = window.forumLive.state(); return s.socket === 1 && s.cursor !== null; }"
    )
    page.evaluate("window.__sameDocument = 'ja'")


def assert_same_document(page: Page) -> None:
    assert page.evaluate("window.__sameDocument") == "ja", "the page was reloaded"


def test_report_hide_statement_of_reasons_audit_log_and_restore(
    context, live, thread, new_context, sign_in, totp, axe
):
    thread_url = thread.get_absolute_url()

    # --- The author writes a reply (an advertisement) and then waits on his notifications.
    author = new_context().new_page()
    sign_in(author, AUTHOR)
    author.goto(thread_url)
    composer = author.locator("#antworten")
    composer.locator('textarea[name="body"]').fill(AD)
    with author.expect_navigation():
        composer.locator("button[data-submit-once]").click()
    expect(author.locator(".post__body").filter(has_text=AD)).to_have_count(1)
    post = thread.posts.get(body=AD)
    article = f"article#post-{post.number}"

    author.goto("/notifications/")
    expect_live_socket(author)
    before = unread(AUTHOR)
    expect_bell(author, before)
    expect(author.locator("#live-region")).to_have_text("")

    # --- The member reports it: a reason (radio), a note, the acknowledgement.
    member = new_context().new_page()
    sign_in(member, REPORTER)
    member.goto(thread_url)
    expect(member.locator(article)).to_contain_text("Gutachterbüro Schnell & Partner")
    member.locator(article).get_by_role("link", name=f"Melden (#{post.number})").click()
    expect(member.get_by_role("heading", level=1)).to_have_text("Beitrag melden")
    expect(member.locator("blockquote.report-quote")).to_contain_text("Schnell & Partner")
    member.get_by_role("radio", name="Werbung oder Spam").check()
    member.get_by_label("Erläuterung für die Moderation").fill(REPORT_NOTE)
    with member.expect_navigation():
        member.get_by_role("button", name="Meldung absenden").click()
    success(member, "Danke, Ihre Meldung ist bei der Moderation eingegangen.")
    report = Report.objects.get(post=post)
    assert (report.reporter.email, report.reason, report.status) == (REPORTER, "spam", "open")

    # --- The moderator signs in with the second factor and finds it in the queue.
    moderator_user = User.objects.get(email=MODERATOR)
    secret = totp.activate(moderator_user)
    moderator = context.new_page()
    sign_in(moderator, MODERATOR, totp_secret=secret)
    moderator.goto("/mod/")
    expect(moderator.get_by_role("heading", level=1)).to_have_text("Prüfliste der Moderation")
    item = moderator.locator(f"li#meldung-{post.pk}")
    expect(item.get_by_role("heading", level=3)).to_have_text(
        f"Beitrag #{post.number} in „{TITLE}“"
    )
    expect(item).to_contain_text("Thomas Wagner")
    expect(item.locator("blockquote")).to_contain_text("Gutachterbüro Schnell & Partner")
    reasons = item.get_by_role("list", name="Meldungen")
    expect(reasons).to_contain_text(f"Werbung oder Spam: {REPORT_NOTE}")
    expect(reasons).to_contain_text("Sabine Hoffmann")
    axe(moderator)

    item.get_by_label("Begründung (geht an die Person, die den Beitrag geschrieben hat)").fill(
        HIDE_REASON
    )
    with moderator.expect_navigation():
        item.get_by_role("button", name="Beitrag ausblenden").click()
    success(moderator, "Der Beitrag ist ausgeblendet")
    expect(moderator.locator(f"li#meldung-{post.pk}")).to_have_count(0)
    expect(moderator.get_by_text("Keine offenen Meldungen.")).to_be_visible()

    # --- The author's page follows without a reload: bell and statement of reasons.
    expect_bell(author, before + 1)
    expect(author.locator("#live-region")).to_have_text(HIDDEN_STATEMENT)
    assert_same_document(author)
    # ... and the notification centre lists it, with the reason.
    author.reload()
    expect(author.locator(".notification-list")).to_contain_text(HIDDEN_STATEMENT)
    expect_live_socket(author)  # live again for what follows
    # Moderation statements go out by e-mail by default, with the reason.
    deadline = time.monotonic() + 5
    mails: list = []
    while not any(AUTHOR in str(m["To"]) for m in mails) and time.monotonic() < deadline:
        mails += live.new_mails()
        author.wait_for_timeout(100)
    to_author = [m for m in mails if AUTHOR in str(m["To"])]
    assert to_author, "no e-mail to the author"
    assert HIDE_REASON in to_author[-1].get_body(preferencelist=("plain",)).get_content()

    # --- Members no longer see the text; the reporter heard the outcome.
    member.goto(thread_url)
    hidden = member.locator(article)
    expect(hidden).to_contain_text(HIDDEN_PLACEHOLDER)
    expect(hidden).not_to_contain_text("Schnell & Partner")
    expect(member.get_by_text("Schnell & Partner")).to_have_count(0)
    expect(hidden.get_by_role("link", name=re.compile("^Melden"))).to_have_count(0)
    member.goto("/notifications/")
    expect(member.locator(".notification-list")).to_contain_text(REPORT_OUTCOME)

    # --- The audit log shows the action with its reason.
    moderator.goto("/mod/log/")
    expect(moderator.get_by_role("heading", level=1)).to_have_text("Protokoll der Moderation")
    hidden_row = log_row(moderator, "post.hidden")
    expect(hidden_row).to_have_count(1)
    expect(hidden_row).to_contain_text("Miriam Koch")
    expect(hidden_row).to_contain_text(f"#{post.number} von Thomas Wagner in „{TITLE}“")
    expect(hidden_row).to_contain_text(HIDE_REASON)
    axe(moderator)

    # --- The moderator shows it again from the thread, with a reason.
    moderator.goto(f"/t/{thread.pk}/?beitrag={post.number}")
    mod_article = moderator.locator(article)
    expect(mod_article.locator(".post__body")).to_contain_text("Schnell & Partner")
    restore = mod_article.locator("details.post__moderation")
    restore.locator("summary").filter(has_text="Wieder einblenden …").click()
    restore.get_by_label("Begründung (geht an die Person, die den Beitrag geschrieben hat)").fill(
        UNHIDE_REASON
    )
    with moderator.expect_navigation():
        restore.get_by_role("button", name="Einblenden").click()
    success(moderator, "Der Beitrag ist wieder sichtbar")
    expect(
        moderator.locator(article).locator("summary").filter(has_text="Ausblenden …")
    ).to_be_visible()

    moderator.goto("/mod/log/")
    unhidden_row = log_row(moderator, "post.unhidden")
    expect(unhidden_row).to_have_count(1)
    expect(unhidden_row).to_contain_text(UNHIDE_REASON)
    expect(log_row(moderator, "post.hidden")).to_have_count(1)
    actions = AuditEntry.objects.filter(target_id=str(post.pk), action__startswith="post.")
    actions = actions.order_by("id")
    assert list(actions.values_list("action", flat=True)) == ["post.hidden", "post.unhidden"]

    # The author hears of that too, without a reload; members see the text again.
    expect_bell(author, before + 2)
    expect(author.locator("#live-region")).to_have_text(UNHIDDEN_STATEMENT)
    assert_same_document(author)
    member.goto(thread_url)
    expect(member.locator(article).locator(".post__body")).to_contain_text("Schnell & Partner")

    # --- The author appeals the hiding from its notice; the moderator answers in the queue.
    author.goto("/notifications/")
    notice = author.locator(".notification").filter(has_text=HIDDEN_STATEMENT)
    with author.expect_navigation():
        notice.get_by_role("link", name=re.compile("^Einspruch einlegen")).click()
    expect(author.get_by_role("heading", level=1)).to_have_text("Einspruch einlegen")
    expect(author.locator("blockquote")).to_contain_text(HIDE_REASON)
    axe(author)
    author.get_by_label("Ihr Einspruch").fill(APPEAL)
    with author.expect_navigation():
        author.get_by_role("button", name="Einspruch absenden").click()
    success(author, "Ihr Einspruch ist eingegangen.")
    moderator.goto("/mod/")
    appeal = moderator.locator("li[id^=einspruch-]")
    expect(appeal).to_contain_text(APPEAL)
    expect(appeal).to_contain_text("Beitrag ausgeblendet")
    appeal.get_by_label("Antwort (geht an die Person, die Einspruch eingelegt hat)").fill(ANSWER)
    with moderator.expect_navigation():
        appeal.get_by_role("button", name="Antwort senden").click()
    success(moderator, "Ihre Antwort ist verschickt.")
    expect(moderator.get_by_text("Keine offenen Einsprüche.")).to_be_visible()
    expect(author.locator("#live-region")).to_contain_text(ANSWER)

    # --- The merge and split forms pass axe too.
    moderator.goto(f"/mod/thema/{thread.pk}/teilen/")
    expect(moderator.get_by_role("heading", level=1)).to_have_text(
        "Beiträge in ein neues Thema abtrennen"
    )
    axe(moderator)
    moderator.goto(f"/mod/thema/{thread.pk}/zusammenfuehren/")
    moderator.context.watch.expect_console_error("status of 400")  # the refused form
    with moderator.expect_navigation():
        moderator.get_by_role("button", name="Zusammenführen").click()
    expect(moderator.get_by_text("Bitte geben Sie das Thema an")).to_be_visible()
    axe(moderator)

    for page in (author, member, moderator):
        page.context.watch.assert_clean()
