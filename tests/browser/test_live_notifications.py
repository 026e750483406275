"""Live notifications in a real browser: two people in two browser contexts, one replies and
mentions the other, whose bell, live region and thread page follow without a reload.

The same scenario runs over the WebSocket and, with ``window.WebSocket`` removed, over the
polling fallback. A dropped socket that cannot come back at once (the server "down" for
sockets) catches up on what it missed when it reconnects; a visitor without an account sees
new posts of a public thread by polling.

Everything the other person does goes through the real UI, so notifications and pushes are
made in the server process (its cache and its in-memory channel layer).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from accounts.models import User
from forum.models import Category, Kind, Notification
from tests.factories import make_thread

JONAS = "jonas.becker@bochum.de"  # starts the thread and watches it
SABINE = "sabine.hoffmann@krefeld.de"  # replies
TITLE = "Spielplatzpatenschaften: Wer kümmert sich bei Ihnen um die Pflege?"
MENTIONED = f"Sabine Hoffmann hat Sie in „{TITLE}“ erwähnt"
# Jonas asked: a reply to his question reaches him as an answer.
REPLIED = f"Sabine Hoffmann hat Ihre Frage „{TITLE}“ beantwortet"
MENTION_BODY = "@jonas-becker in Krefeld pflegen Nachbarschaftsvereine drei Spielplätze mit."
REPLY_BODY = "Nachtrag: Die Paten bekommen einmal im Jahr eine Schulung vom Grünflächenamt."
POSTS_LOADED = "Neue Beiträge wurden unten eingefügt."

FAST_POLLING = "window.FORUM_LIVE_POLL_MS = 500;"
NO_WEBSOCKET = "delete window.WebSocket;"
# While the test says the server is down, each new socket of the page is cut off during its
# handshake: the client sees what it sees when the server is gone (close code 1006, no open).
SOCKET_SWITCH = """(() => {
    const Native = window.WebSocket;
    window.__socketsDown = false;
    window.__socketAttempts = 0;
    function Switched(url, protocols) {
        window.__socketAttempts += 1;
        const socket = protocols === undefined ? new Native(url) : new Native(url, protocols);
        if (window.__socketsDown) socket.close();
        return socket;
    }
    Switched.prototype = Native.prototype;
    Object.assign(Switched, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
    window.WebSocket = Switched;
})();"""
CUT_OFF = "WebSocket is closed before the connection is established"


# --- Helpers ----------------------------------------------------------------------------------


@pytest.fixture
def thread(live):
    """A public thread Jonas started (so he watches it), with only his first post."""
    jonas = User.objects.get(handle="jonas-becker")
    return make_thread(
        jonas,
        category=Category.objects.get(slug="oeffentlicher-raum-und-gruen"),
        title=TITLE,
        body="Wir suchen Ehrenamtliche für die Pflege unserer Spielplätze. Wie machen Sie das?",
    )


@pytest.fixture
def new_context(browser, live, context) -> Callable[..., BrowserContext]:
    """``new_context(*init_scripts)``: another browser (own cookies), watched like the first."""
    made: list[BrowserContext] = []

    def make(*scripts: str) -> BrowserContext:
        other = browser.new_context(
            locale="de-DE",
            timezone_id="Europe/Berlin",
            base_url=live.url,
            viewport={"width": 1280, "height": 900},
        )
        other.set_default_timeout(10_000)
        other.watch = type(context.watch)(server_netloc=live.netloc)  # conftest's PageWatch
        other.on("page", other.watch.watch)
        for script in scripts:
            other.add_init_script(script)
        made.append(other)
        return other

    yield make
    for other in made:
        other.close()


def socket_frames(page: Page) -> list[str]:
    """The messages the server sends to the page's live sockets, collected from now on."""
    frames: list[str] = []

    def on_socket(ws) -> None:
        if ws.url.endswith("/ws/live/"):
            frames.append(f"open {ws.url}")
            ws.on("framereceived", lambda payload: frames.append(str(payload)))

    page.on("websocket", on_socket)
    return frames


def wait_until(page: Page, condition: Callable[[], bool], what: str, timeout: float = 10) -> None:
    """Wait for something only the Python side can see (Playwright events are delivered
    while it waits on the page)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        page.wait_for_timeout(50)


def reply(page: Page, text: str) -> None:
    """Answer through the composer at the end of the thread page and wait for the new page."""
    composer = page.locator("#antworten")
    composer.locator('textarea[name="body"]').fill(text)
    with page.expect_navigation():
        composer.locator("button[data-submit-once]").click()
    expect(page.locator(".post__body").filter(has_text=text)).to_have_count(1)


def open_as_other(new_context, sign_in, thread, email: str = SABINE) -> Page:
    other = new_context().new_page()
    sign_in(other, email)
    other.goto(thread.get_absolute_url())
    return other


def bell(page: Page):
    return page.locator("[data-bell-count]")


def unread_of_jonas() -> int:
    """The demo network leaves Jonas unread notifications: the bell counts on from there."""
    return Notification.objects.filter(
        recipient__handle="jonas-becker", read_at__isnull=True
    ).count()


def expect_bell(page: Page, unread: int) -> None:
    """The number and the text for screen readers, as the server renders them."""
    if not unread:
        expect(bell(page)).to_be_hidden()
        expect(page.locator("[data-bell-sr]")).to_have_text("")
        return
    expect(bell(page)).to_be_visible()
    expect(bell(page)).to_have_text(str(unread))
    sr = (
        ", 1 ungelesene Benachrichtigung"
        if unread == 1
        else f", {unread} ungelesene Benachrichtigungen"
    )
    expect(page.locator("[data-bell-sr]")).to_have_text(sr)


def live_bar(page: Page):
    return page.locator("[data-live-thread]")


def mark_document(page: Page) -> None:
    """A marker that only survives as long as the page is not reloaded."""
    page.evaluate("window.__sameDocument = 'ja'")


def assert_same_document(page: Page, url: str) -> None:
    assert page.evaluate("window.__sameDocument") == "ja", "the page was reloaded"
    assert page.url == url


# --- 1 + 3: mention → bell, live region, "neuer Beitrag" (WebSocket and polling) -------------


@pytest.mark.parametrize("transport", ["websocket", "polling"])
def test_mention_updates_bell_live_region_and_thread_without_reload(
    transport, context, live, thread, new_context, sign_in, watch
):
    if transport == "polling":
        context.add_init_script(FAST_POLLING + NO_WEBSOCKET)
    page = context.new_page()
    frames = socket_frames(page)
    sign_in(page, JONAS)
    url = f"{live.url}{thread.get_absolute_url()}"
    page.goto(url)
    before = unread_of_jonas()
    expect_bell(page, before)
    expect(live_bar(page)).to_be_hidden()
    if transport == "websocket":
        # Open, the first catch-up done and the thread joined: nothing can fall in between.
        wait_until(page, lambda: any('"subscribed"' in f for f in frames), "the subscription")
        assert page.evaluate("window.forumLive.state()")["polling"] is False
    else:
        page.wait_for_function(
            "() => { const s = window.forumLive.state();"
            " return s.polling && s.socket === null && s.cursor !== null; }"
        )
    mark_document(page)

    # Sabine answers in her own browser and mentions Jonas.
    other = open_as_other(new_context, sign_in, thread)
    reply(other, MENTION_BODY)

    # Jonas's page follows: bell, screen reader announcement, the new-post button.
    expect_bell(page, before + 1)
    expect(page.locator("#live-region")).to_contain_text(MENTIONED)
    load = live_bar(page).get_by_role("button", name="1 neuer Beitrag – anzeigen")
    expect(load).to_be_visible()
    expect(page.locator("#post-2")).to_have_count(0)
    assert_same_document(page, url)

    # The button inserts the post in place and moves the focus there.
    load.click()
    new_post = page.locator("article#post-2")
    expect(new_post).to_be_visible()
    expect(new_post).to_contain_text("in Krefeld pflegen Nachbarschaftsvereine")
    expect(new_post).to_be_focused()
    expect(live_bar(page)).to_be_hidden()
    expect(page.locator("#live-region")).to_have_text(POSTS_LOADED)
    assert_same_document(page, url)
    # Loading the posts read the thread's notifications: the bell agrees.
    expect_bell(page, before)
    mention = Notification.objects.get(recipient__handle="jonas-becker", thread=thread)
    assert mention.kind == Kind.MENTION and mention.read_at is not None

    if transport == "websocket":
        received = " ".join(frames)
        assert '"type": "notification"' in received and '"type": "post.created"' in received
    else:
        assert frames == [], "a socket was opened although WebSocket was removed"
    watch.assert_clean()
    other.context.watch.assert_clean()


# --- 2: dropped socket, two events while it is away, catch-up on reconnect -------------------


def test_events_missed_while_the_socket_was_down_appear_after_reconnect(
    context, live, thread, new_context, sign_in, watch
):
    context.add_init_script(SOCKET_SWITCH)
    watch.expect_console_error(CUT_OFF)  # Chromium reports each failed reconnect
    page = context.new_page()
    frames = socket_frames(page)
    sign_in(page, JONAS)
    url = f"{live.url}{thread.get_absolute_url()}"
    page.goto(url)
    wait_until(page, lambda: any('"subscribed"' in f for f in frames), "the subscription")
    before = unread_of_jonas()
    expect_bell(page, before)
    other = open_as_other(new_context, sign_in, thread)
    mark_document(page)

    # The socket drops and the server is unreachable for sockets meanwhile.
    page.evaluate("window.__socketsDown = true; window.forumLive.drop()")
    page.wait_for_function("() => window.forumLive.state().socket !== 1")
    reply(other, MENTION_BODY)  # a mention ...
    reply(other, REPLY_BODY)  # ... and a reply to a thread Jonas watches
    # Jonas's client is still trying (at least one reconnect failed) and has heard nothing.
    page.wait_for_function("() => window.__socketAttempts >= 2")
    assert page.evaluate("window.forumLive.state()")["socket"] != 1
    expect_bell(page, before)
    expect(page.locator("#live-region")).to_have_text("")
    expect(live_bar(page)).to_be_hidden()
    assert Notification.objects.filter(recipient__handle="jonas-becker", thread=thread).count() == 2

    # The server is back: the next attempt connects and catches up on both events.
    page.evaluate("window.__socketsDown = false")
    page.wait_for_function("() => window.forumLive.state().socket === 1", timeout=15_000)
    expect_bell(page, before + 2)
    region = page.locator("#live-region")
    expect(region).to_contain_text(MENTIONED)
    expect(region).to_contain_text(REPLIED)
    load = live_bar(page).get_by_role("button", name="2 neue Beiträge – anzeigen")
    expect(load).to_be_visible()
    assert_same_document(page, url)

    load.click()
    expect(page.locator("article#post-2")).to_contain_text("in Krefeld pflegen")
    expect(page.locator("article#post-3")).to_contain_text("Nachtrag: Die Paten")
    expect(page.locator("article#post-2")).to_be_focused()
    expect_bell(page, before)
    assert_same_document(page, url)
    watch.assert_clean()
    other.context.watch.assert_clean()


# --- 4: a visitor polls a public thread -------------------------------------------------------


def test_visitor_sees_new_posts_of_a_public_thread_by_polling(live, thread, new_context, sign_in):
    visitor = new_context(FAST_POLLING).new_page()
    frames = socket_frames(visitor)
    url = f"{live.url}{thread.get_absolute_url()}"
    visitor.goto(url)
    expect(visitor.get_by_role("link", name="Anmelden", exact=True)).to_be_visible()
    expect(bell(visitor)).to_have_count(0)
    expect(live_bar(visitor)).to_be_hidden()
    mark_document(visitor)

    other = open_as_other(new_context, sign_in, thread)
    reply(other, REPLY_BODY)

    load = live_bar(visitor).get_by_role("button", name="1 neuer Beitrag – anzeigen")
    expect(load).to_be_visible()
    assert_same_document(visitor, url)
    load.click()
    expect(visitor.locator("article#post-2")).to_contain_text("Nachtrag: Die Paten")
    expect(live_bar(visitor)).to_be_hidden()
    assert_same_document(visitor, url)
    assert frames == [], "a visitor's page opened a live socket"
    visitor.context.watch.assert_clean()
    other.context.watch.assert_clean()
