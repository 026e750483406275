"""Staff turnover in real browsers: the moderator (two-factor login) marks a member who left as
departed, naming a colleague as successor; the successor hears of it live, finds the open
question in the notification centre and accepts an answer on it; the thread names the
departed author as "nicht mehr aktiv". Then the successor names a deputy for their holiday:
a wrong entry keeps what was typed and says why. Every page is checked with axe.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from accounts.models import User
from forum.models import Category, Thread
from forum.services.posts import post_create
from tests.factories import make_member, make_thread

MODERATOR = "miriam.koch@agentur.example.org"
SUCCESSOR = "jonas.becker@bochum.de"
ANSWERER = "aylin.demir@stadtdo.de"
QUESTION = "Wer fördert Dachbegrünung im Quartier?"
REASON = "Hat die Stadt Bochum zum Monatsende verlassen."


@pytest.fixture
def leaver(live) -> User:
    user = make_member(email="gerd.alt@bochum.de", handle="gerd-alt")
    User.objects.filter(pk=user.pk).update(display_name="Gerd Alt")
    return User.objects.get(pk=user.pk)


@pytest.fixture
def question(leaver) -> Thread:
    category = Category.objects.filter(visibility=Category.Visibility.PUBLIC).first()
    thread = make_thread(leaver, category=category, title=QUESTION, body="Gibt es Programme?")
    post_create(User.objects.get(email=ANSWERER), thread=thread, body="Ja, das Landesprogramm.")
    return thread


def expect_live_socket(page: Page) -> None:
    page.wait_for_function(
        "() => { const s = window.forumLive.state(); return s.socket === 1 && s.cursor !== null; }"
    )


def test_departure_successor_and_deputy(
    page, live, question, leaver, new_context, sign_in, totp, axe, watch
):
    # The successor is signed in and waiting on the notification centre.
    successor = new_context().new_page()
    sign_in(successor, SUCCESSOR)
    successor.goto("/notifications/")
    expect_live_socket(successor)

    # The moderator marks the member as departed from the profile.
    moderator = User.objects.get(email=MODERATOR)
    sign_in(page, MODERATOR, totp_secret=totp.activate(moderator))
    page.goto(f"/u/{leaver.handle}/")
    page.get_by_role("link", name="Als ausgeschieden markieren …").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Ausscheiden und Vertretung: Gerd Alt"
    )
    expect(page.get_by_role("link", name=QUESTION)).to_be_visible()
    axe(page)
    page.get_by_label("Nachfolge (Benutzername oder Name)").fill("jonas-becker")
    page.get_by_label("Begründung (für das Protokoll und die Nachfolge)").fill(REASON)
    with page.expect_navigation():
        page.get_by_role("button", name="Als ausgeschieden markieren").click()
    expect(page.locator(".messages")).to_contain_text("Gerd Alt ist als ausgeschieden markiert")
    expect(page.locator("main")).to_contain_text("nicht mehr aktiv")
    axe(page)

    # The successor hears of it live, with the question listed.
    expect(successor.locator("#live-region")).to_contain_text("Gerd Alt ist nicht mehr aktiv")
    successor.reload()
    item = successor.locator(".notification").filter(has_text="Sie übernehmen als Nachfolge")
    expect(item).to_contain_text("1 offene Frage")
    axe(successor)
    item.get_by_role("link", name=QUESTION, exact=True).click()
    expect(successor.locator(".author-line").first).to_contain_text("Gerd Alt")
    expect(successor.locator(".author-line").first).to_contain_text("nicht mehr aktiv")
    with successor.expect_navigation():
        successor.get_by_role("button", name="Als Lösung akzeptieren").first.click()
    expect(successor.locator(".badge--solved").first).to_be_visible()
    question.refresh_from_db()
    assert question.accepted_post_id is not None

    # The successor plans a holiday: a deputy who does not exist is refused, input kept.
    successor.goto("/accounts/profile/#vertretung")
    deputy = successor.get_by_label("Vertretung (Benutzername oder Name)")
    deputy.fill("niemand-da")
    successor.get_by_label("Vertretung bis einschließlich").fill("2020-01-01")
    with successor.expect_navigation():
        successor.get_by_role("button", name="Vertretung speichern").click()
    expect(successor.locator("main")).to_contain_text("Unter „niemand-da“ ist kein Mitglied")
    expect(successor.locator("main")).to_contain_text("Vergangenheit")
    expect(successor.get_by_label("Vertretung (Benutzername oder Name)")).to_have_value(
        "niemand-da"
    )
    axe(successor)
    watch.assert_clean()
