"""Lookups of the marketplace's rates: commission and shipping fees."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.db.prepared import Prepared, PreparedForEach
from passerelle.merchants.models import Merchant
from passerelle.money import Money
from passerelle.orders.models import CommissionRule, ShippingFee
from passerelle.orders.pricing import DEFAULT_COMMISSION_BP

# Fees used when a merchant has set none, in major units of its currency.
DEFAULT_DOMESTIC_FEE = "4.90"
DEFAULT_INTERNATIONAL_FEE = "14.90"


class _Rule(Protocol):
    merchant_id: int | None
    category_id: int | None
    rate_bp: int


class _Fee(Protocol):
    merchant_id: int
    country: str | None
    fee_amount: int
    free_from_amount: int | None


class CommissionTable:
    """The rules of one merchant, most specific first:
    merchant+category > merchant > category > platform default."""

    def __init__(self, rules: Iterable[_Rule]) -> None:
        self._by_key = {(r.merchant_id, r.category_id): r.rate_bp for r in rules}

    def rate_bp(self, *, merchant_id: int, category_id: int | None) -> int:
        candidates: list[tuple[int | None, int | None]] = [(merchant_id, None), (None, None)]
        if category_id is not None:
            candidates = [(merchant_id, category_id), (merchant_id, None), (None, category_id), (None, None)]
        for key in candidates:
            if key in self._by_key:
                return self._by_key[key]
        return DEFAULT_COMMISSION_BP


# Built once and prepared (every checkout runs them, db/prepared.py): on SQLite one
# statement per merchant (a checkout has few), on PostgreSQL one for all of them.
# Columns, not entities: rows are read once, loading ORM objects cost more than the query.
_PLATFORM_COMMISSION = Prepared(
    select(CommissionRule.merchant_id, CommissionRule.category_id, CommissionRule.rate_bp).where(
        CommissionRule.merchant_id.is_(None)
    )
)
_MERCHANT_COMMISSION = PreparedForEach(
    lambda match: select(CommissionRule.merchant_id, CommissionRule.category_id, CommissionRule.rate_bp).where(match),
    CommissionRule.merchant_id,
    "b_merchant_id",
)
_SHIPPING_FEES = PreparedForEach(
    lambda match: (
        select(ShippingFee.merchant_id, ShippingFee.country, ShippingFee.fee_amount, ShippingFee.free_from_amount)
        .where(match)
        .order_by(ShippingFee.id)
    ),
    ShippingFee.merchant_id,
    "b_merchant_id",
)


async def commission_table(session: AsyncSession, *, merchant_ids: set[int]) -> CommissionTable:
    rules = await _PLATFORM_COMMISSION.rows(session)
    rules += await _MERCHANT_COMMISSION.rows(session, sorted(merchant_ids))
    return CommissionTable(rules)


async def shipping_fees_for(
    session: AsyncSession, *, merchants: list[Merchant], country: str
) -> dict[int, tuple[int, int | None]]:
    """Per merchant, (fee, free-from subtotal) in its currency for shipping to `country`."""
    by_merchant: dict[int, list[_Fee]] = {m.id: [] for m in merchants}
    for row in await _SHIPPING_FEES.rows(session, list(by_merchant)):
        by_merchant[row.merchant_id].append(row)
    return {m.id: _fee(by_merchant[m.id], merchant=m, country=country) for m in merchants}


async def shipping_fee_for(session: AsyncSession, *, merchant: Merchant, country: str) -> tuple[int, int | None]:
    """(fee, free-from subtotal) in the merchant's currency for shipping to `country`."""
    return (await shipping_fees_for(session, merchants=[merchant], country=country))[merchant.id]


def _fee(rows: list[_Fee], *, merchant: Merchant, country: str) -> tuple[int, int | None]:
    exact = next((r for r in rows if r.country == country), None)
    anywhere = next((r for r in rows if r.country is None), None)
    chosen = exact or anywhere
    if chosen is not None:
        return chosen.fee_amount, chosen.free_from_amount
    default = DEFAULT_DOMESTIC_FEE if country == merchant.country else DEFAULT_INTERNATIONAL_FEE
    return Money.from_major(default, merchant.currency).amount, None
