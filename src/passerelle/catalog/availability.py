"""How a SKU shows to buyers, from its stock counters."""

from __future__ import annotations

from typing import Literal

Availability = Literal["available", "reserved", "sold", "unavailable"]


def availability(*, stock: int, reserved: int, sold: int) -> Availability:
    """How an item shows to buyers. A one-off C2C item whose unit was bought shows `sold`
    (not a vague "out of stock"); one held by an unpaid checkout shows `reserved`, since
    it comes back if that buyer does not pay."""
    if stock > 0:
        return "available"
    if reserved > 0:
        return "reserved"
    return "sold" if sold > 0 else "unavailable"
