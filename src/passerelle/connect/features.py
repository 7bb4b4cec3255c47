"""Matching features shared by the seed, the services and the in-memory index."""

from __future__ import annotations

import gettext
from collections.abc import Iterable

from passerelle.i18n.messages import pgettext_noop

# Category slugs the matching index knows, one bit each (fits a signed 64-bit column).
CATEGORIES: tuple[str, ...] = (
    "beauty", "fashion", "home", "electronics", "food", "sports", "kids", "books",
    "games", "music", "travel", "pets", "garden", "health", "jewelry", "shoes",
    "bags", "watches", "art", "crafts", "wine", "tea", "coffee", "outdoor",
    "fitness", "baby", "toys", "auto", "tools", "office", "phones", "computers",
)  # fmt: skip
BIT = {slug: 1 << i for i, slug in enumerate(CATEGORIES)}

# What people read for each slug (pages, forms): English message ids, translated at render time
# under one context (msgctxt), so a category never takes the translation of a same-spelt message
# ("Home" is also the home page); the context is spelt out in each call for extraction tools.
# Slugs stay the stored values and what the JSON API returns.
CATEGORY_CONTEXT = "creator category"
CATEGORY_LABELS: dict[str, str] = {
    "beauty": pgettext_noop("creator category", "Beauty"),
    "fashion": pgettext_noop("creator category", "Fashion"),
    "home": pgettext_noop("creator category", "Home & living"),
    "electronics": pgettext_noop("creator category", "Electronics"),
    "food": pgettext_noop("creator category", "Food & drink"),
    "sports": pgettext_noop("creator category", "Sports"),
    "kids": pgettext_noop("creator category", "Kids"),
    "books": pgettext_noop("creator category", "Books"),
    "games": pgettext_noop("creator category", "Games"),
    "music": pgettext_noop("creator category", "Music"),
    "travel": pgettext_noop("creator category", "Travel"),
    "pets": pgettext_noop("creator category", "Pets"),
    "garden": pgettext_noop("creator category", "Garden"),
    "health": pgettext_noop("creator category", "Health"),
    "jewelry": pgettext_noop("creator category", "Jewelry"),
    "shoes": pgettext_noop("creator category", "Shoes"),
    "bags": pgettext_noop("creator category", "Bags"),
    "watches": pgettext_noop("creator category", "Watches"),
    "art": pgettext_noop("creator category", "Art"),
    "crafts": pgettext_noop("creator category", "Arts & crafts"),
    "wine": pgettext_noop("creator category", "Wine"),
    "tea": pgettext_noop("creator category", "Tea"),
    "coffee": pgettext_noop("creator category", "Coffee"),
    "outdoor": pgettext_noop("creator category", "Outdoor"),
    "fitness": pgettext_noop("creator category", "Fitness"),
    "baby": pgettext_noop("creator category", "Baby"),
    "toys": pgettext_noop("creator category", "Toys"),
    "auto": pgettext_noop("creator category", "Cars & motorbikes"),
    "tools": pgettext_noop("creator category", "Tools & DIY"),
    "office": pgettext_noop("creator category", "Office supplies"),
    "phones": pgettext_noop("creator category", "Phones"),
    "computers": pgettext_noop("creator category", "Computers"),
}


def category_label(translations: gettext.NullTranslations, slug: str) -> str:
    """The slug's label in the catalog's language (an unknown slug is shown as it is)."""
    label = CATEGORY_LABELS.get(slug)
    return translations.pgettext(CATEGORY_CONTEXT, label) if label else slug


def category_labels(translations: gettext.NullTranslations) -> dict[str, str]:
    """Every slug (in CATEGORIES order, for checkboxes) with its translated label, for templates."""
    return {slug: category_label(translations, slug) for slug in CATEGORIES}


def category_mask(slugs: Iterable[str]) -> int:
    mask = 0
    for slug in slugs:
        mask |= BIT.get(slug, 0)
    return mask
