"""A process-memory cache bounded in bytes as well as in entries.

Django's LocMemCache counts entries only, and a rendered page of a busy provision weighs a
thousand times what a small one does: 300 entries can be 3 MB or 3 GB. This backend also keeps
the total size of what it holds (the pickled values and their keys) under ``MAX_BYTES``,
dropping the least recently used entries first, and never stores a value larger than that.
"""

from threading import Lock

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

# Per cache name, like LocMemCache's own stores: every thread's instance shares them.
_ledgers = {}
_ledgers_lock = Lock()


class _Ledger:
    def __init__(self):
        self.sizes = {}
        self.total = 0

    def forget(self, key):
        self.total -= self.sizes.pop(key, 0)

    def record(self, key, size):
        self.forget(key)
        self.sizes[key] = size
        self.total += size

    def clear(self):
        self.sizes.clear()
        self.total = 0


class ByteBudgetLocMemCache(LocMemCache):
    """LocMemCache with ``OPTIONS = {"MAX_BYTES": n}`` (default 32 MiB) on top of MAX_ENTRIES."""

    def __init__(self, name, params):
        super().__init__(name, params)
        self.max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", 32 * 1024 * 1024))
        with _ledgers_lock:
            self._ledger = _ledgers.setdefault(name, _Ledger())

    @property
    def total_bytes(self):
        """The bytes held now: what MAX_BYTES bounds."""
        return self._ledger.total

    def _set(self, key, value, timeout=DEFAULT_TIMEOUT):
        # Called with the lock held, by set() and add(); value is already pickled.
        size = len(key) + len(value)
        self._delete(key)
        if size > self.max_bytes:
            return
        while self._cache and self._ledger.total + size > self.max_bytes:
            self._delete(next(reversed(self._cache)))  # the least recently used
        super()._set(key, value, timeout)
        self._ledger.record(key, size)

    def _cull(self):
        before = set(self._cache)
        super()._cull()
        for key in before.difference(self._cache):
            self._ledger.forget(key)

    def _delete(self, key):
        self._ledger.forget(key)
        return super()._delete(key)

    def incr(self, key, delta=1, version=None):
        value = super().incr(key, delta, version)
        with self._lock:
            stored = self.make_and_validate_key(key, version=version)
            self._ledger.record(stored, len(stored) + len(self._cache[stored]))
        return value

    def clear(self):
        with self._lock:
            self._cache.clear()
            self._expire_info.clear()
            self._ledger.clear()
