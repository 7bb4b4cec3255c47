"""The search filters as a page reads them: lenient with input, strict with what it passes on.

Anything a person can type wrong (a price with letters, an unknown country) becomes a
message next to the field rather than an error page; the rest is simply ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from starlette.datastructures import QueryParams

from passerelle.errors import DomainError
from passerelle.i18n.countries import is_country
from passerelle.i18n.messages import N_
from passerelle.merchants.models import MerchantKind
from passerelle.money import Money
from passerelle.search.service import Sort

MAX_PAGE = 10_000
MAX_MAJOR_PRICE = Decimal(10**9)


@dataclass
class SearchFilters:
    q: str = ""
    category: str = ""
    kind: str = ""
    ships_to: str = ""
    min_price: str = ""
    max_price: str = ""
    sort: str = Sort.relevance.value
    page: int = 1
    # field -> message id (translated when rendered)
    errors: dict[str, str] = field(default_factory=dict)
    min_amount: int | None = None
    max_amount: int | None = None

    @property
    def merchant_kind(self) -> MerchantKind | None:
        return MerchantKind(self.kind) if self.kind else None

    @property
    def sort_order(self) -> Sort:
        return Sort(self.sort)

    @property
    def is_filtered(self) -> bool:
        return bool(self.category or self.kind or self.ships_to or self.min_price or self.max_price)


def _text(params: QueryParams, name: str, max_length: int) -> str:
    return (params.get(name) or "").strip()[:max_length]


def _amount(raw: str, currency: str) -> tuple[int | None, str | None]:
    """Major units typed by a person ('12,50' or '12.50') -> minor units, or an error message id."""
    if not raw:
        return None, None
    try:
        value = Decimal(raw.replace(" ", "").replace(",", "."))
    except InvalidOperation:
        return None, N_("Enter a number, such as 25 or 12.50")
    if not value.is_finite() or value < 0 or value > MAX_MAJOR_PRICE:
        return None, N_("Enter a number, such as 25 or 12.50")
    try:
        return Money.from_major(value, currency).amount, None
    except DomainError:
        return None, N_("Too many decimals for this currency")


def parse_filters(params: QueryParams, *, currency: str) -> SearchFilters:
    filters = SearchFilters(
        q=_text(params, "q", 200),
        category=_text(params, "category", 80),
        kind=_text(params, "kind", 20),
        ships_to=_text(params, "ships_to", 2).upper(),
        min_price=_text(params, "min_price", 20),
        max_price=_text(params, "max_price", 20),
        sort=_text(params, "sort", 20),
    )
    if filters.kind not in MerchantKind.__members__:
        filters.kind = ""
    if filters.sort not in Sort.__members__:
        filters.sort = Sort.relevance.value
    if filters.ships_to and not is_country(filters.ships_to):
        filters.ships_to = ""
    page = _text(params, "page", 6)
    filters.page = min(int(page), MAX_PAGE) if page.isdigit() and int(page) > 0 else 1
    filters.min_amount, min_error = _amount(filters.min_price, currency)
    filters.max_amount, max_error = _amount(filters.max_price, currency)
    if min_error:
        filters.errors["min_price"] = min_error
    if max_error:
        filters.errors["max_price"] = max_error
    if filters.min_amount is not None and filters.max_amount is not None and filters.min_amount > filters.max_amount:
        filters.errors["max_price"] = N_("The maximum is below the minimum")
        filters.max_amount = None
    return filters
