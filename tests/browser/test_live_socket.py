"""The live server speaks WebSocket too: a page's socket under the strict CSP, with the session."""

from __future__ import annotations

SOCKET_PING = """async () => {
    const socket = new WebSocket(`ws://${location.host}/ws/live/`);
    return await new Promise((resolve) => {
        const timer = setTimeout(() => resolve({error: 'timeout'}), 5000);
        socket.onopen = () => socket.send(JSON.stringify({type: 'ping'}));
        socket.onmessage = (event) => {
            clearTimeout(timer);
            socket.close();
            resolve(JSON.parse(event.data));
        };
        socket.onclose = (event) => { clearTimeout(timer); resolve({closed: event.code}); };
    });
}"""


def test_signed_in_member_gets_a_live_socket(page, sign_in, watch):
    sign_in(page, "jonas.becker@bochum.de")
    assert page.evaluate(SOCKET_PING) == {"type": "pong"}
    watch.assert_clean()


def test_guest_socket_is_refused(page, watch):
    page.goto("/")
    # The consumer accepts and closes at once with 4401, so the client can tell "sign in
    # first" from a network error and stops reconnecting.
    assert page.evaluate(SOCKET_PING) == {"closed": 4401}
    watch.assert_clean()
