"""Product listings shared by the search page, category pages, storefronts and the home page."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog import views
from passerelle.catalog.schemas import ProductCard
from passerelle.search import service as search
from passerelle.search.service import SearchQuery
from passerelle.web.context import LOCALE_QUERY_KEYS, Page
from passerelle.web.paging import Pages, paginate
from passerelle.web.search_form import SearchFilters

PER_PAGE = 24


@dataclass(frozen=True)
class Results:
    cards: list[ProductCard]
    total: int
    pages: Pages


async def find_products(
    page: Page,
    session: AsyncSession,
    filters: SearchFilters,
    *,
    category_id: int | None = None,
    merchant_id: int | None = None,
    per_page: int = PER_PAGE,
) -> Results:
    """Run a search for this viewer and turn the hits into cards, with page links."""
    locale = page.locale
    query = SearchQuery(
        text=filters.q,
        language=locale.language,
        category_id=category_id,
        merchant_id=merchant_id,
        merchant_kind=filters.merchant_kind,
        ships_to=filters.ships_to or None,
        min_price=filters.min_amount,
        max_price=filters.max_amount,
        currency=locale.currency,
        sort=filters.sort_order,
        page=filters.page,
        per_page=per_page,
    )
    found = await search.search(session, query=query, fx=locale.fx)
    cards = await views.cards(
        session, product_ids=found.product_ids, language=locale.language, currency=locale.currency, fx=locale.fx
    )
    params = [(k, v) for k, v in page.request.query_params.multi_items() if k not in LOCALE_QUERY_KEYS]
    pages = paginate(path=page.request.url.path, params=params, total=found.total, page=filters.page, per_page=per_page)
    return Results(cards=cards, total=found.total, pages=pages)
