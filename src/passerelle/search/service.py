"""Indexing and querying products. Never commits.

Each published product gets one search document per supported language. The document
is stemmed with that language's stemmer, built from the translation in that language or,
when missing, the product's source text, so a query in any language meets a stemmer of
its own language on both sides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import (
    ColumnElement,
    Float,
    and_,
    case,
    cast,
    delete,
    exists,
    func,
    literal,
    or_,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import Category, Product, ProductStatus, ProductTranslation, Sku
from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.merchants.models import Merchant, MerchantKind, MerchantShipsTo, MerchantStatus
from passerelle.money import FxTable, minor_exponent
from passerelle.search.models import SearchDocument
from passerelle.search.text import document, tokens

MAX_PER_PAGE = 100


class Sort(StrEnum):
    relevance = "relevance"
    price_asc = "price_asc"
    price_desc = "price_desc"
    newest = "newest"


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    language: str = "fr"
    category_id: int | None = None
    merchant_id: int | None = None
    merchant_kind: MerchantKind | None = None
    ships_to: str | None = None
    min_price: int | None = None  # minor units of `currency`
    max_price: int | None = None
    currency: str = "EUR"
    sort: Sort = Sort.relevance
    page: int = 1
    per_page: int = 24


@dataclass(frozen=True)
class SearchPage:
    product_ids: list[int]
    total: int


async def index_product(session: AsyncSession, *, product_id: int) -> None:
    """(Re)build the product's documents; unpublished products leave the index."""
    await session.execute(delete(SearchDocument).where(SearchDocument.product_id == product_id))
    product = await session.get(Product, product_id)
    if product is None or product.status != ProductStatus.published:
        return
    merchant = await session.get(Merchant, product.merchant_id)
    translations = {
        t.language: t
        for t in (
            await session.execute(select(ProductTranslation).where(ProductTranslation.product_id == product_id))
        ).scalars()
    }
    category = await session.get(Category, product.category_id) if product.category_id else None
    options = (await session.execute(select(Sku.options).where(Sku.product_id == product_id))).scalars()
    option_words = " ".join(str(v) for opts in options for v in (opts or {}).values())
    source = translations.get(product.source_language)
    for language in SUPPORTED_LANGUAGES:
        chosen = translations.get(language) or source
        if chosen is None:
            continue
        category_name = ""
        if category is not None:
            category_name = category.names.get(language) or category.names.get(product.source_language, "")
        body = " ".join(
            (
                chosen.title,
                chosen.title,
                chosen.description,
                category_name,
                merchant.name if merchant else "",
                option_words,
            )
        )
        session.add(SearchDocument(product_id=product_id, language=language, tokens=document(body, language)))
    await session.flush()


async def search(session: AsyncSession, *, query: SearchQuery, fx: FxTable) -> SearchPage:
    per_page = max(1, min(query.per_page, MAX_PER_PAGE))
    page = max(1, query.page)
    conditions: list[ColumnElement[bool]] = [
        Product.status == ProductStatus.published,
        Merchant.status == MerchantStatus.approved,
    ]
    base = select(Product.id).join(Merchant, Merchant.id == Product.merchant_id)

    rank = None
    words = tokens(query.text, query.language) if query.text.strip() else []
    if query.text.strip() and not words:
        return SearchPage([], 0)
    if words:
        hits = _text_hits(session, words=words, language=query.language)
        base = base.join(hits, hits.c.product_id == Product.id)
        rank = hits.c.rank

    if query.category_id is not None:
        ids = await category_with_descendants(session, category_id=query.category_id)
        conditions.append(Product.category_id.in_(ids))
    if query.merchant_id is not None:
        conditions.append(Product.merchant_id == query.merchant_id)
    if query.merchant_kind is not None:
        conditions.append(Merchant.kind == query.merchant_kind)
    if query.ships_to:
        conditions.append(
            exists().where(
                MerchantShipsTo.merchant_id == Product.merchant_id,
                MerchantShipsTo.country == query.ships_to,
            )
        )
    if query.min_price is not None or query.max_price is not None:
        conditions.append(_price_range(query, fx))

    filtered = base.where(and_(*conditions))
    total = int((await session.execute(select(func.count()).select_from(filtered.subquery()))).scalar_one())

    ordered = filtered.order_by(*_ordering(query, fx, rank), Product.id.desc())
    rows = await session.execute(ordered.limit(per_page).offset((page - 1) * per_page))
    return SearchPage(list(rows.scalars()), total)


def _text_hits(session: AsyncSession, *, words: Sequence[str], language: str):  # type: ignore[no-untyped-def]
    """A (product_id, rank) subquery of documents containing every word; lower rank is better."""
    if session.get_bind().dialect.name == "sqlite":
        match = " AND ".join('"' + w.replace('"', '""') + '"' for w in words)
        return (
            text(
                "SELECT d.product_id AS product_id, bm25(search_fts) AS rank "
                "FROM search_fts JOIN search_documents d ON d.rowid = search_fts.rowid "
                "WHERE search_fts MATCH :match AND d.language = :language"
            )
            .bindparams(match="tokens : (" + match + ")", language=language)
            .columns(product_id=Product.id.type, rank=Float())
            .subquery("hits")
        )
    return (
        text(
            "SELECT product_id, -ts_rank(tsv, plainto_tsquery('simple', :words)) AS rank "
            "FROM search_documents WHERE language = :language "
            "AND tsv @@ plainto_tsquery('simple', :words)"
        )
        .bindparams(words=" ".join(words), language=language)
        .columns(product_id=Product.id.type, rank=Float())
        .subquery("hits")
    )


def _price_range(query: SearchQuery, fx: FxTable) -> ColumnElement[bool]:
    """The buyer's bounds converted into each priced currency: exact integer comparisons."""
    per_currency: list[ColumnElement[bool]] = []
    for currency in fx.rates:
        bounds: list[ColumnElement[bool]] = [Product.currency == currency]
        if query.min_price is not None:
            bounds.append(Product.price_amount >= fx.convert_amount_bound(query.min_price, query.currency, currency))
        if query.max_price is not None:
            bounds.append(Product.price_amount <= fx.convert_amount_bound(query.max_price, query.currency, currency))
        per_currency.append(and_(*bounds))
    return or_(*per_currency)


def _ordering(query: SearchQuery, fx: FxTable, rank):  # type: ignore[no-untyped-def]
    if query.sort == Sort.newest:
        return [Product.created_at.desc()]
    if query.sort in (Sort.price_asc, Sort.price_desc):
        # Ordering only (never money): a float factor per currency brings prices to one scale.
        factors = {c: float(Decimal(1) / (r * 10 ** minor_exponent(c))) for c, r in fx.rates.items()}
        comparable = cast(Product.price_amount, Float) * case(factors, value=Product.currency, else_=literal(1.0))
        return [comparable.asc() if query.sort == Sort.price_asc else comparable.desc()]
    if rank is not None:
        return [rank.asc()]
    return [Product.created_at.desc()]


async def category_with_descendants(session: AsyncSession, *, category_id: int) -> list[int]:
    rows = (await session.execute(select(Category.id, Category.parent_id))).all()
    children: dict[int | None, list[int]] = {}
    for cid, parent in rows:
        children.setdefault(parent, []).append(cid)
    found, stack = [], [category_id]
    while stack:
        current = stack.pop()
        found.append(current)
        stack.extend(children.get(current, []))
    return found
