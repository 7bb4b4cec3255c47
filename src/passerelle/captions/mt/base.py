"""The interface every machine-translation engine implements."""

from __future__ import annotations

from typing import Protocol


class TranslationEngine(Protocol):
    """A translator for some direct language pairs; texts are translated in batches (one call per batch)."""

    name: str

    def pairs(self) -> frozenset[tuple[str, str]]:
        """Direct pairs (ISO 639-1 codes) this engine translates without pivoting."""
        ...

    def translate_batch(self, texts: list[str], source: str, target: str) -> list[str]:
        """One output per input, same order. Raises TranslationFailed on engine errors."""
        ...
