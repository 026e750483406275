"""The Redis cache with a local fallback, so that a Redis outage never becomes a server error.

django-redis's own ``IGNORE_EXCEPTIONS`` answers every call with ``None`` while Redis is down.
That is fine for page fragments, but allauth's rate limits take a lock with ``cache.add()``
first: with ``None`` for every ``add`` no lock is ever won, and every login is refused as
"too many attempts" after a second's wait. This backend therefore keeps the cache semantics:
while Redis is unreachable each process uses its own local-memory cache (rate limits then count
per worker process, page fragments are rendered per process), and it tries Redis again after
``RETRY_AFTER`` seconds instead of on every call.

Keys deleted during an outage (the bell's unread count, the current terms) are deleted in Redis
again when it answers again, and the local copy is dropped then, so that neither side serves a
value that changed while the other was in use.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django_redis.cache import RedisCache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

REDIS_DOWN = (ConnectionInterrupted, RedisConnectionError, RedisTimeoutError, OSError)
# Seconds to stay on the local cache after a failure before Redis is tried again.
RETRY_AFTER = 5.0
# Keys deleted during an outage that are remembered for deletion in Redis afterwards.
MAX_PENDING_DELETES = 10_000


class FallbackRedisCache(RedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        # Redis errors must reach this class, not be turned into None by django-redis.
        self._ignore_exceptions = False
        self._local = LocMemCache(f"redis-fallback-{id(self)}", {"OPTIONS": {"MAX_ENTRIES": 5000}})
        self._down_until = 0.0
        self._pending_deletes: set[tuple[str, int | None]] = set()
        self._used_local = False
        self._state_lock = threading.Lock()

    # --- Switching between Redis and the local cache ------------------------------------

    @property
    def redis_available(self) -> bool:
        return time.monotonic() >= self._down_until

    def _failed(self, exc: BaseException) -> None:
        with self._state_lock:
            first = self.redis_available
            self._down_until = time.monotonic() + RETRY_AFTER
        if first:
            logger.warning(
                "Redis-Cache nicht erreichbar, lokaler Cache für %.0f s: %s", RETRY_AFTER, exc
            )

    def _recovered(self) -> bool:
        """Redis may be back after an outage: replay the deletions made meanwhile and forget
        the local copies before Redis serves anything. False when it is still down."""
        with self._state_lock:
            pending, self._pending_deletes = self._pending_deletes, set()
        try:
            for version in {v for _k, v in pending}:
                super().delete_many([k for k, v in pending if v == version], version=version)
        except REDIS_DOWN as exc:
            with self._state_lock:
                self._pending_deletes |= pending
            self._failed(exc)
            return False
        self._local.clear()
        self._used_local = False
        logger.warning("Redis-Cache wieder erreichbar.")
        return True

    def _call(self, name: str, *args, **kwargs):
        if self.redis_available and (not self._used_local or self._recovered()):
            try:
                return getattr(super(), name)(*args, **kwargs)
            except REDIS_DOWN as exc:
                self._failed(exc)
        self._used_local = True
        return getattr(self._local, name)(*args, **kwargs)

    def _remember_deleted(self, keys, version) -> None:
        if self.redis_available:
            return
        with self._state_lock:
            if len(self._pending_deletes) < MAX_PENDING_DELETES:
                self._pending_deletes.update((k, version) for k in keys)

    # --- The cache API ------------------------------------------------------------------

    def get(self, key, default=None, version=None, client=None):
        return self._call("get", key, default=default, version=version)

    def get_many(self, keys, version=None, client=None):
        return self._call("get_many", keys, version=version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, client=None, nx=False):
        if nx:
            return self.add(key, value, timeout=timeout, version=version)
        return self._call("set", key, value, timeout=timeout, version=version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None, client=None):
        return self._call("set_many", data, timeout=timeout, version=version)

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None, client=None):
        return self._call("add", key, value, timeout=timeout, version=version)

    def delete(self, key, version=None, prefix=None, client=None):
        result = self._call("delete", key, version=version)
        self._remember_deleted([key], version)
        return result

    def delete_many(self, keys, version=None, client=None):
        keys = list(keys)
        result = self._call("delete_many", keys, version=version)
        self._remember_deleted(keys, version)
        return result

    def has_key(self, key, version=None, client=None):
        return self._call("has_key", key, version=version)

    def incr(self, key, delta=1, version=None, client=None, ignore_key_check=False):
        return self._call("incr", key, delta=delta, version=version)

    def decr(self, key, delta=1, version=None, client=None):
        return self._call("decr", key, delta=delta, version=version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None, client=None):
        return self._call("touch", key, timeout=timeout, version=version)

    def clear(self):
        self._local.clear()
        return self._call("clear")

    def delete_pattern(self, pattern, version=None, prefix=None, client=None, itersize=None):
        """django-redis's pattern delete; while Redis is down the local copy is dropped whole
        (it has no pattern matching) and nothing is remembered for Redis."""
        if self.redis_available:
            try:
                return super().delete_pattern(pattern, version=version, prefix=prefix)
            except REDIS_DOWN as exc:
                self._failed(exc)
        self._local.clear()
        return 0
