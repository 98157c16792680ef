"""The one LRU cache every in-memory cache uses: bounds, recency, sizes, threads."""
from __future__ import annotations

import threading

import numpy as np
import pytest

from foley_studio.core.lru import LRUCache


def test_entry_bound_evicts_the_least_recently_used_and_counts_hits():
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1               # "a" is now the most recent
    cache.put("c", 3)
    assert "b" not in cache and cache.keys() == ["a", "c"]
    assert cache.get("b") is None and cache.get("b", -1) == -1
    assert (cache.hits, cache.misses) == (1, 2)


def test_peek_neither_refreshes_nor_counts():
    cache: LRUCache[str, int] = LRUCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.peek("a") == 1 and (cache.hits, cache.misses) == (0, 0)
    cache.put("c", 3)
    assert cache.keys() == ["b", "c"], "a peek must not save an entry from eviction"


def test_size_bound_tracks_replacements_and_keeps_the_newest_even_when_oversized():
    cache: LRUCache[str, np.ndarray] = LRUCache(max_size=100, size_of=lambda a: a.nbytes)
    cache.put("a", np.zeros(10, np.float32))       # 40 bytes
    cache.put("b", np.zeros(10, np.float32))       # 80
    cache.put("a", np.zeros(5, np.float32))        # replaced: 20 + 40 = 60, "a" now newest
    assert cache.size == 60 and cache.keys() == ["b", "a"]
    cache.put("c", np.zeros(15, np.float32))       # 120 > 100: "b" goes
    assert cache.keys() == ["a", "c"] and cache.size == 80
    cache.put("huge", np.zeros(1000, np.float32))  # over the whole budget alone: kept, all else goes
    assert cache.keys() == ["huge"] and cache.size == 4000
    assert cache.pop("huge").shape == (1000,) and cache.size == 0 and len(cache) == 0


def test_both_bounds_apply_and_discard_where_and_clear_keep_the_size_right():
    cache: LRUCache[tuple, bytes] = LRUCache(3, max_size=10, size_of=len)
    for i in range(4):
        cache.put(("x", i), b"ab")
    assert cache.keys() == [("x", 1), ("x", 2), ("x", 3)] and cache.size == 6
    cache.put(("y", 0), b"abcdef")                 # a fourth entry, and 12 > 10: the oldest goes
    assert cache.keys() == [("x", 2), ("x", 3), ("y", 0)] and cache.size == 10
    cache.put(("y", 1), b"a")                      # 11 > 10 and 4 > 3: one more goes
    assert cache.keys() == [("x", 3), ("y", 0), ("y", 1)] and cache.size == 9
    assert cache.discard_where(lambda k: k[0] == "x") == 1 and cache.size == 7
    cache.clear()
    assert len(cache) == 0 and cache.size == 0


def test_get_or_compute_computes_once():
    cache: LRUCache[str, int] = LRUCache(4)
    calls = []
    assert cache.get_or_compute("k", lambda: calls.append(1) or 7) == 7
    assert cache.get_or_compute("k", lambda: calls.append(1) or 8) == 7
    assert calls == [1] and (cache.hits, cache.misses) == (1, 1)


def test_bounds_are_required_and_a_size_bound_needs_a_measure():
    with pytest.raises(ValueError, match="max_entries"):
        LRUCache()
    with pytest.raises(ValueError, match="size_of"):
        LRUCache(max_size=10)


def test_threads_sharing_a_cache_never_break_its_bounds():
    cache: LRUCache[int, bytes] = LRUCache(50, max_size=400, size_of=len)
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            for _ in range(2000):
                key = int(rng.integers(0, 200))
                if rng.random() < 0.5:
                    cache.put(key, b"x" * int(rng.integers(1, 16)))
                else:
                    cache.get(key)
        except BaseException as exc:   # reported below; a thread's exception would vanish
            errors.append(exc)
    threads = [threading.Thread(target=work, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache) <= 50 and cache.size <= 400
    assert cache.size == sum(len(cache.peek(k)) for k in cache.keys())
