"""Pure pricing rules (no I/O): tiers, VAT included in prices, commission, shipping.

All amounts are integer minor units; every division rounds half-to-even once, at the line.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from pathlib import Path

DEFAULT_COMMISSION_BP = 1000  # 10 %


def round_div(numerator: int, denominator: int) -> int:
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), ROUND_HALF_EVEN))


def unit_price(base_amount: int, tiers: Sequence[tuple[int, int]], quantity: int) -> int:
    """The unit price for `quantity`: the tier with the largest threshold reached, else the base."""
    price = base_amount
    for min_quantity, amount in sorted(tiers):
        if quantity >= min_quantity:
            price = amount
    return price


@cache
def _vat_rates() -> dict[str, int]:
    raw = json.loads((Path(__file__).parents[1] / "i18n" / "data" / "vat_standard_rates.json").read_text())
    return {k: int(v) for k, v in raw.items() if not k.startswith("_")}


def vat_rate_bp(destination_country: str) -> int:
    """Destination-based standard rate inside the EU (OSS rules for distance sales);
    exports outside the EU carry no EU VAT."""
    return _vat_rates().get(destination_country, 0)


def vat_included(amount: int, rate_bp: int) -> int:
    """The VAT part of a VAT-inclusive amount: amount * r / (1 + r)."""
    return round_div(amount * rate_bp, 10_000 + rate_bp) if rate_bp else 0


def commission(amount: int, rate_bp: int) -> int:
    return round_div(amount * rate_bp, 10_000)


@dataclass(frozen=True)
class PricedLine:
    quantity: int
    unit_amount: int
    line_amount: int
    vat_rate_bp: int
    vat_amount: int
    commission_rate_bp: int
    commission_amount: int
    merchant_net_amount: int


def price_line(
    *, base_amount: int, tiers: Sequence[tuple[int, int]], quantity: int, vat_bp: int, commission_bp: int
) -> PricedLine:
    unit = unit_price(base_amount, tiers, quantity)
    line = unit * quantity
    fee = commission(line, commission_bp)
    return PricedLine(
        quantity=quantity,
        unit_amount=unit,
        line_amount=line,
        vat_rate_bp=vat_bp,
        vat_amount=vat_included(line, vat_bp),
        commission_rate_bp=commission_bp,
        commission_amount=fee,
        merchant_net_amount=line - fee,
    )


def shipping_fee(*, subtotal: int, fee: int, free_from: int | None) -> int:
    return 0 if free_from is not None and subtotal >= free_from else fee


def proportional_share(total_part: int, amount: int, total: int, *, already: int = 0, final: bool = False) -> int:
    """The share of `total_part` that `amount` of `total` carries; the final share takes the rest,
    so the shares of a series of partial refunds add up exactly to `total_part`."""
    if final:
        return total_part - already
    return min(round_div(total_part * amount, total) if total else 0, total_part - already)
