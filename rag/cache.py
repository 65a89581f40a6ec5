"""A size-bounded in-memory cache shared by threads without a lock."""
from __future__ import annotations


class BoundedCache(dict):
    """A dict that holds at most ``limit`` entries: :meth:`put` drops the oldest first.

    Safe to share between threads without a lock for values that are the same whoever computes
    them (a lost entry is computed again): two threads may race to drop the same oldest entry.
    """

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def put(self, key, value) -> None:
        if len(self) >= self.limit:
            try:  # the oldest entry (another thread may have dropped it first)
                self.pop(next(iter(self)), None)
            except (StopIteration, RuntimeError):
                pass
        self[key] = value
