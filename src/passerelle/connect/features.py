"""Matching features shared by the seed, the services and the in-memory index."""

from __future__ import annotations

from collections.abc import Iterable

# Category slugs the matching index knows, one bit each (fits a signed 64-bit column).
CATEGORIES: tuple[str, ...] = (
    "beauty", "fashion", "home", "electronics", "food", "sports", "kids", "books",
    "games", "music", "travel", "pets", "garden", "health", "jewelry", "shoes",
    "bags", "watches", "art", "crafts", "wine", "tea", "coffee", "outdoor",
    "fitness", "baby", "toys", "auto", "tools", "office", "phones", "computers",
)  # fmt: skip
BIT = {slug: 1 << i for i, slug in enumerate(CATEGORIES)}


def category_mask(slugs: Iterable[str]) -> int:
    mask = 0
    for slug in slugs:
        mask |= BIT.get(slug, 0)
    return mask
