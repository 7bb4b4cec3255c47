"""Every stock movement as one conditional UPDATE (never read-then-write).

Quantities are aggregated per SKU first, so two lines of the same SKU are checked as one
quantity, and SKUs are touched in id order so concurrent transactions on PostgreSQL lock
rows in the same order (no deadlock).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import Sku
from passerelle.errors import Conflict, DomainError


def aggregate(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for sku_id, quantity in lines:
        if quantity <= 0:
            raise DomainError("invalid_quantity", "Quantities must be positive", field="quantity", status=422)
        totals[sku_id] = totals.get(sku_id, 0) + quantity
    return dict(sorted(totals.items()))


async def _apply(session: AsyncSession, statement, sku_id: int) -> bool:  # type: ignore[no-untyped-def]
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


async def reserve(session: AsyncSession, quantities: Mapping[int, int]) -> None:
    """Hold stock for an unpaid order. Raises out_of_stock naming the first SKU short;
    the caller's transaction then rolls back what was already held."""
    for sku_id, quantity in sorted(quantities.items()):
        ok = await _apply(
            session,
            update(Sku)
            .where(Sku.id == sku_id, Sku.stock >= quantity)
            .values(stock=Sku.stock - quantity, reserved=Sku.reserved + quantity),
            sku_id,
        )
        if not ok:
            raise Conflict(
                "out_of_stock", "Not enough stock left for this item", field="sku_id", extra={"sku_id": sku_id}
            )


async def commit_reserved(session: AsyncSession, quantities: Mapping[int, int]) -> None:
    """Payment succeeded: held units become sold."""
    for sku_id, quantity in sorted(quantities.items()):
        ok = await _apply(
            session,
            update(Sku)
            .where(Sku.id == sku_id, Sku.reserved >= quantity)
            .values(reserved=Sku.reserved - quantity, sold=Sku.sold + quantity),
            sku_id,
        )
        if not ok:
            raise DomainError("stock_ledger_mismatch", f"SKU {sku_id} holds fewer units than the order", status=500)


async def release(session: AsyncSession, quantities: Mapping[int, int]) -> None:
    """Payment failed or expired: held units go back on sale."""
    for sku_id, quantity in sorted(quantities.items()):
        ok = await _apply(
            session,
            update(Sku)
            .where(Sku.id == sku_id, Sku.reserved >= quantity)
            .values(reserved=Sku.reserved - quantity, stock=Sku.stock + quantity),
            sku_id,
        )
        if not ok:
            raise DomainError("stock_ledger_mismatch", f"SKU {sku_id} holds fewer units than the order", status=500)


async def sell_directly(session: AsyncSession, quantities: Mapping[int, int]) -> bool:
    """For a payment that arrives after its hold expired: take the units straight from the
    available stock if they are all still there. All or nothing (savepoint)."""
    try:
        async with session.begin_nested():
            for sku_id, quantity in sorted(quantities.items()):
                ok = await _apply(
                    session,
                    update(Sku)
                    .where(Sku.id == sku_id, Sku.stock >= quantity)
                    .values(stock=Sku.stock - quantity, sold=Sku.sold + quantity),
                    sku_id,
                )
                if not ok:
                    raise _Short()
    except _Short:
        return False
    return True


async def restock_returned(session: AsyncSession, quantities: Mapping[int, int]) -> None:
    """Returned, resellable units leave `sold` and go back on sale."""
    for sku_id, quantity in sorted(quantities.items()):
        ok = await _apply(
            session,
            update(Sku)
            .where(Sku.id == sku_id, Sku.sold >= quantity)
            .values(sold=Sku.sold - quantity, stock=Sku.stock + quantity),
            sku_id,
        )
        if not ok:
            raise DomainError("stock_ledger_mismatch", f"SKU {sku_id} has fewer sold units than returned", status=500)


class _Short(Exception):
    pass
