"""The catalog in memory for the assistant: product cards and a BM25 index per language.

Built from the search documents the catalog search already maintains (stemmed, folded, one
per product and language), so the assistant and the search box agree on words. A question
then costs no query: the index is rebuilt in the background when it is older than its TTL.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.assistant.lang import ANSWER_LANGUAGES
from passerelle.assistant.lexicon import expand, is_stopword, stems
from passerelle.catalog.models import Category, Product, ProductImage, ProductStatus, ProductTranslation
from passerelle.catalog.views import media_url
from passerelle.merchants.models import Merchant, MerchantStatus
from passerelle.money import FxTable, Money
from passerelle.search.models import SearchDocument
from passerelle.search.text import fold

K1 = 1.2
B = 0.75
# A word in more than this share of the documents says nothing about what is wanted.
MAX_DOCUMENT_SHARE = 0.4
_TITLE_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(slots=True)
class Entry:
    id: int
    merchant_id: int
    merchant_name: str
    price: Money
    cards: dict[str, dict[str, Any]]  # language -> card without prices
    titles: dict[str, str]


@dataclass(slots=True)
class _Postings:
    """token -> (idf, [(product, BM25 term weight)]): all but the sum is computed at build time."""

    postings: dict[str, tuple[float, list[tuple[int, float]]]] = field(default_factory=dict)
    size: int = 0


@dataclass
class CatalogIndex:
    entries: dict[int, Entry]
    by_language: dict[str, _Postings]
    # Folded title words that occur in one answer language only -> that language.
    vocabulary: dict[str, str] = field(default_factory=dict)
    _priced: dict[tuple[int, str, str], dict[str, Any]] = field(default_factory=dict)
    _prices: dict[str, dict[int, int]] = field(default_factory=dict)

    def card(self, product_id: int, language: str, currency: str, fx: FxTable) -> dict[str, Any] | None:
        """A product card as the catalog API shapes it, in the viewer's currency (memoised)."""
        key = (product_id, language, currency)
        cached = self._priced.get(key)
        if cached is not None:
            return cached
        entry = self.entries.get(product_id)
        if entry is None:
            return None
        base = entry.cards.get(language) or next(iter(entry.cards.values()))
        shown = fx.convert(entry.price, currency) if fx.knows(currency) else entry.price
        card = {
            **base,
            "price": {"amount": shown.amount, "currency": shown.currency},
            "original_price": {"amount": entry.price.amount, "currency": entry.price.currency},
        }
        if len(self._priced) < 200_000:
            self._priced[key] = card
        return card

    def price_in(self, product_id: int, currency: str, fx: FxTable) -> int:
        return self.prices(currency, fx).get(product_id, 0)

    def prices(self, currency: str, fx: FxTable) -> dict[int, int]:
        """Every product's price in `currency`, converted once per index and currency."""
        table = self._prices.get(currency)
        if table is None:
            table = {
                pid: (fx.convert(e.price, currency) if fx.knows(currency) else e.price).amount
                for pid, e in self.entries.items()
            }
            self._prices[currency] = table
        return table

    def search(self, text: str, language: str, *, limit: int = 50) -> list[tuple[int, float]]:
        """(product id, BM25 score), best first; only words that discriminate count."""
        index = self.by_language.get(language) or self.by_language.get("en")
        if index is None or not index.size:
            return []
        scores: dict[int, float] = {}
        for word, weight in _query_words(text, language):
            found = index.postings.get(word)
            if found is None:
                continue
            idf, postings = found
            boost = idf * weight
            for product_id, term in postings:
                scores[product_id] = scores.get(product_id, 0.0) + boost * term
        # Ties keep the postings' (deterministic) order.
        if len(scores) <= limit:
            return sorted(scores.items(), key=itemgetter(1), reverse=True)
        return heapq.nlargest(limit, scores.items(), key=itemgetter(1))


def _query_words(text: str, language: str) -> list[tuple[str, float]]:
    words: dict[str, float] = {}
    for word in stems(text, language):
        if is_stopword(word, language):
            continue
        words[word] = max(words.get(word, 0.0), 1.0)
        for synonym in expand(word, language):
            words.setdefault(synonym, 0.5)  # a related word counts, a little less than the word itself
    return list(words.items())


def _postings(documents: Iterable[tuple[int, str]]) -> _Postings:
    counts: dict[int, dict[str, int]] = {}
    lengths: dict[int, int] = {}
    for product_id, text in documents:
        words = text.split()
        lengths[product_id] = len(words)
        per_word = counts.setdefault(product_id, {})
        for word in words:
            per_word[word] = per_word.get(word, 0) + 1
    built = _Postings(size=len(lengths))
    if not lengths:
        return built
    average = sum(lengths.values()) / len(lengths)
    raw: dict[str, list[tuple[int, float]]] = {}
    for product_id, per_word in counts.items():
        norm = K1 * (1 - B + B * lengths[product_id] / average)
        for word, tf in per_word.items():
            raw.setdefault(word, []).append((product_id, tf * (K1 + 1) / (tf + norm)))
    for word, postings in raw.items():
        if len(postings) > MAX_DOCUMENT_SHARE * built.size:
            continue  # in too many documents to tell products apart
        idf = math.log(1 + (built.size - len(postings) + 0.5) / (len(postings) + 0.5))
        built.postings[word] = (idf, postings)
    return built


async def build(session: AsyncSession) -> CatalogIndex:
    """Everything public, in one query per table."""
    rows = (
        await session.execute(
            select(Product, Merchant)
            .join(Merchant, Merchant.id == Product.merchant_id)
            .where(Product.status == ProductStatus.published, Merchant.status == MerchantStatus.approved)
        )
    ).all()
    products = {p.id: (p, m) for p, m in rows}
    texts: dict[int, dict[str, ProductTranslation]] = {}
    for t in (await session.execute(select(ProductTranslation))).scalars():
        if t.product_id in products:
            texts.setdefault(t.product_id, {})[t.language] = t
    images: dict[int, str] = {}
    for pid, key in (
        await session.execute(
            select(ProductImage.product_id, ProductImage.storage_key).order_by(
                ProductImage.product_id, ProductImage.position.desc()
            )
        )
    ).all():
        images[pid] = media_url(key)
    categories = {c.id: c for c in (await session.execute(select(Category))).scalars()}
    documents: dict[str, list[tuple[int, str]]] = {}
    for doc in (await session.execute(select(SearchDocument))).scalars():
        if doc.product_id in products:
            documents.setdefault(doc.language, []).append((doc.product_id, doc.tokens))

    entries: dict[int, Entry] = {}
    for pid, (product, merchant) in products.items():
        if pid not in texts:
            continue
        cards: dict[str, dict[str, Any]] = {}
        titles: dict[str, str] = {}
        for language in ("fr", "en", "es", "de", "it", "zh", "ru"):
            text = (
                texts[pid].get(language) or texts[pid].get(product.source_language) or next(iter(texts[pid].values()))
            )
            category = categories.get(product.category_id) if product.category_id else None
            titles[language] = text.title
            cards[language] = {
                "id": pid,
                "title": text.title,
                "language": text.language,
                "fallback": text.language != language,
                "merchant": {
                    "id": merchant.id,
                    "name": merchant.name,
                    "slug": merchant.slug,
                    "kind": merchant.kind.value,
                },
                "image_url": images.get(pid),
                "min_order_quantity": product.min_order_quantity,
                "category": (category.names.get(language) or category.names.get("en") or category.slug)
                if category
                else None,
                "url": f"/p/{pid}",
            }
        entries[pid] = Entry(
            id=pid,
            merchant_id=merchant.id,
            merchant_name=merchant.name,
            price=Money(product.price_amount, product.currency),
            cards=cards,
            titles=titles,
        )
    return CatalogIndex(
        entries=entries,
        by_language={lang: _postings(docs) for lang, docs in documents.items()},
        vocabulary=_exclusive_words(entries),
    )


def _exclusive_words(entries: dict[int, Entry]) -> dict[str, str]:
    seen: dict[str, set[str]] = {}
    for entry in entries.values():
        for language in ANSWER_LANGUAGES:
            if entry.cards[language]["fallback"]:
                continue  # a French title shown to Spanish readers says nothing about Spanish
            for word in _TITLE_WORD.findall(fold(entry.titles[language])):
                if len(word) > 2 and not word.isdigit():
                    seen.setdefault(word, set()).add(language)
    return {word: next(iter(languages)) for word, languages in seen.items() if len(languages) == 1}
