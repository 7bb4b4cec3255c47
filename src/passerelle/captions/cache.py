"""A bounded in-memory translation cache: a chat line seen by 10,000 viewers is translated once per language.

A plain dict in insertion order: the hit path is one dict lookup (millions per second); when full,
the oldest entries go first. Engines fill it from worker threads; single dict operations are
atomic under the GIL, and a rare duplicate translation on a race is harmless.
"""

from __future__ import annotations

from passerelle.captions.types import Translation

Key = tuple[str, str, str]  # (source, target, text)


class TranslationCache:
    def __init__(self, max_entries: int = 200_000) -> None:
        self._data: dict[Key, Translation] = {}
        self._max = max_entries
        self.hits = 0
        self.misses = 0

    def get(self, source: str, target: str, text: str) -> Translation | None:
        found = self._data.get((source, target, text))
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def put(self, source: str, target: str, text: str, value: Translation) -> None:
        if len(self._data) >= self._max:
            for key in list(self._data)[: max(1, self._max // 10)]:  # evict the oldest tenth at once
                del self._data[key]
        self._data[(source, target, text)] = value

    def __len__(self) -> int:
        return len(self._data)
