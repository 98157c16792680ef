"""One least-recently-used cache for every in-memory cache of the program.

Bounded by a number of entries, by a total size (bytes, or any cost `size_of` returns), or both.
Thread-safe: the job worker, preview pools and the GUI thread share caches. When only a size bound
is set, the newest entry is always kept even if it alone is over the bound (a source larger than
the whole budget must still be usable once decoded).

`functools.lru_cache` memoises a function; this holds values that callers put and drop
explicitly (invalidated by file changes, cleared on a device move), with hit counts for tests.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

_MISSING: object = object()


class LRUCache(Generic[K, V]):
    """A thread-safe map that forgets its least recently used entries beyond its bounds."""

    def __init__(self, max_entries: int | None = None, *, max_size: int | None = None,
                 size_of: Callable[[V], int] | None = None):
        if max_entries is None and max_size is None:
            raise ValueError("an LRUCache needs max_entries, max_size or both")
        if max_size is not None and size_of is None:
            raise ValueError("max_size needs size_of to measure the entries")
        self.max_entries = max_entries
        self.max_size = max_size
        self._size_of = size_of
        self._items: OrderedDict[K, V] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    # -- reading -------------------------------------------------------------------------------
    def get(self, key: K, default: V | None = None) -> V | None:
        """The value (now the most recently used), or `default`; counts a hit or a miss."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                self.hits += 1
                return self._items[key]
            self.misses += 1
            return default

    def peek(self, key: K, default: V | None = None) -> V | None:
        """The value without marking it used or counting (a stand-in lookup, a check)."""
        with self._lock:
            return self._items.get(key, default)

    def get_or_compute(self, key: K, compute: Callable[[], V]) -> V:
        """The cached value, or `compute()` put under `key` (computed outside the lock)."""
        value = self.get(key, _MISSING)
        if value is _MISSING:
            value = compute()
            self.put(key, value)
        return value

    def __contains__(self, key: object) -> bool:
        with self._lock:
            return key in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def keys(self) -> list[K]:
        """The keys, least recently used first (a copy: safe to iterate while others write)."""
        with self._lock:
            return list(self._items)

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())

    @property
    def size(self) -> int:
        """The summed `size_of` of the entries (0 without a size function)."""
        with self._lock:
            return self._size

    # -- writing -------------------------------------------------------------------------------
    def put(self, key: K, value: V) -> None:
        """Store `value` as the most recently used entry, then evict beyond the bounds."""
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._size -= self._measure(old)
            self._items[key] = value
            self._size += self._measure(value)
            self._evict()

    def pop(self, key: K, default: V | None = None) -> V | None:
        with self._lock:
            if key not in self._items:
                return default
            value = self._items.pop(key)
            self._size -= self._measure(value)
            return value

    def discard_where(self, predicate: Callable[[K], bool]) -> int:
        """Drop every entry whose key matches; returns how many were dropped."""
        with self._lock:
            doomed = [k for k in self._items if predicate(k)]
            for k in doomed:
                self._size -= self._measure(self._items.pop(k))
            return len(doomed)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._size = 0

    # -- internals -----------------------------------------------------------------------------
    def _measure(self, value: V) -> int:
        return int(self._size_of(value)) if self._size_of is not None else 0

    def _evict(self) -> None:
        while self.max_entries is not None and len(self._items) > self.max_entries:
            self._size -= self._measure(self._items.popitem(last=False)[1])
        while self.max_size is not None and self._size > self.max_size and len(self._items) > 1:
            self._size -= self._measure(self._items.popitem(last=False)[1])
