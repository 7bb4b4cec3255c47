"""Every stock movement as one conditional UPDATE (never read-then-write).

Quantities are aggregated per SKU first, so two lines of the same SKU are checked as one
quantity, and SKUs are touched in id order so concurrent transactions on PostgreSQL lock
rows in the same order (no deadlock).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache

from sqlalchemy import BindParameter, Table, bindparam, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import Sku
from passerelle.db.prepared import Prepared
from passerelle.errors import Conflict, DomainError


def aggregate(lines: Iterable[tuple[int, int]]) -> dict[int, int]:
    totals: dict[int, int] = {}
    for sku_id, quantity in lines:
        if quantity <= 0:
            raise DomainError("invalid_quantity", "Quantities must be positive", field="quantity", status=422)
        totals[sku_id] = totals.get(sku_id, 0) + quantity
    return dict(sorted(totals.items()))


Counter = str  # "stock" (available), "reserved" or "sold"


async def _move(
    session: AsyncSession, quantities: Mapping[int, int], *, source: Counter, target: Counter
) -> int | None:
    """Move each quantity from one counter of its SKU to another, in SKU order, each as one
    conditional UPDATE. Returns the first SKU that had too few units (the moves before it
    stay in the caller's transaction), or None when all moved."""
    statement = _move_statement(source, target)
    for sku_id, quantity in sorted(quantities.items()):
        if await statement.rowcount(session, {"sku_id": sku_id, "b_quantity": quantity}) != 1:
            return sku_id
    return None


@cache
def _move_statement(source: Counter, target: Counter) -> Prepared:
    """Built once per pair of counters: building a statement costs about as much as running it;
    prepared (db/prepared.py): SQLAlchemy's execution cost many times SQLite's."""
    # On the Table, not the mapped class: a Core statement skips the ORM's bulk-update
    # machinery (about as much CPU as running the statement), nothing to synchronise anyway.
    skus: Table = Sku.__table__  # type: ignore[assignment]
    from_column, to_column = skus.c[source], skus.c[target]
    quantity: BindParameter[int] = bindparam("b_quantity")
    return Prepared(
        update(skus)
        .where(skus.c.id == bindparam("sku_id"), from_column >= quantity)
        .values({source: from_column - quantity, target: to_column + quantity})
    )


def _mismatch(sku_id: int, what: str) -> DomainError:
    return DomainError("stock_ledger_mismatch", f"SKU {sku_id} has fewer {what} units than the order", status=500)


async def reserve(session: AsyncSession, quantities: Mapping[int, int]) -> None:
    """Hold stock for an unpaid order. Raises out_of_stock naming the first SKU short;
    the caller's transaction then rolls back what was already held."""
    short = await _move(session, quantities, source="stock", target="reserved")
    if short is not None:
        raise Conflict("out_of_stock", "Not enough stock left for this item", field="sku_id", extra={"sku_id": short})


async def commit_reserved(session: AsyncSession, quantities: Mapping[int, int]) -> None:
    """Payment succeeded: held units become sold."""
    short = await _move(session, quantities, source="reserved", target="sold")
    if short is not None:
        raise _mismatch(short, "held")


async def release(session: AsyncSession, quantities: Mapping[int, int]) -> None:
    """Payment failed or expired: held units go back on sale."""
    short = await _move(session, quantities, source="reserved", target="stock")
    if short is not None:
        raise _mismatch(short, "held")


async def sell_directly(session: AsyncSession, quantities: Mapping[int, int]) -> bool:
    """For a payment that arrives after its hold expired: take the units straight from the
    available stock if they are all still there. All or nothing (savepoint)."""
    try:
        async with session.begin_nested():
            if await _move(session, quantities, source="stock", target="sold") is not None:
                raise _Short()
    except _Short:
        return False
    return True


async def restock_returned(session: AsyncSession, quantities: Mapping[int, int]) -> None:
    """Returned, resellable units leave `sold` and go back on sale."""
    short = await _move(session, quantities, source="sold", target="stock")
    if short is not None:
        raise _mismatch(short, "sold")


class _Short(Exception):
    pass
