"""A mail backend for benchmarks: it counts and discards (``bench/digest.py``).

Each message is serialised to the bytes an SMTP backend would hand to the server (MIME,
both parts, headers), so the cost of building the message is measured; only the network
is left out. Counters are per process.
"""

from __future__ import annotations

import time

from django.core.mail.backends.base import BaseEmailBackend


class CountingBackend(BaseEmailBackend):
    sent = 0
    bytes = 0
    seconds = 0.0
    # The first message, as sent, for a look at headers and text (``digest-<db>.eml``).
    sample: bytes = b""

    def send_messages(self, email_messages) -> int:
        started = time.perf_counter()
        cls = type(self)
        for message in email_messages:
            data = message.message().as_bytes(linesep="\r\n")
            cls.bytes += len(data)
            if not cls.sample:
                cls.sample = data
        cls.sent += len(email_messages)
        cls.seconds += time.perf_counter() - started
        return len(email_messages)
