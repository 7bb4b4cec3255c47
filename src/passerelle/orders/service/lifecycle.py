"""Order status changes. Each one is a conditional UPDATE on the current status, so two
racing changes (a payment and an expiry, two clicks) cannot both apply; each is recorded
with who did it and when."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import Role, User
from passerelle.db.prepared import Prepared, bound
from passerelle.errors import Conflict, Forbidden, NotFound
from passerelle.infra import outbox
from passerelle.merchants import service as merchants
from passerelle.orders import stock
from passerelle.orders.models import Order, OrderEvent, OrderLine, OrderStatus

S = OrderStatus
# to_status -> (allowed from-statuses, who may ask for it)
TRANSITIONS: dict[OrderStatus, tuple[frozenset[OrderStatus], frozenset[str]]] = {
    S.accepted: (frozenset({S.paid}), frozenset({"merchant"})),
    S.shipped: (frozenset({S.paid, S.accepted}), frozenset({"merchant"})),
    S.delivered: (frozenset({S.shipped}), frozenset({"merchant", "buyer", "system"})),
    S.completed: (frozenset({S.delivered}), frozenset({"buyer", "system"})),
    S.cancelled: (frozenset({S.pending_payment}), frozenset({"buyer", "merchant", "system"})),
}


# Built once and prepared (db/prepared.py): statements on every order's path cost about as
# much to build as to run, and SQLAlchemy's execution several times what SQLite takes.
# Core, on the tables: no ORM object, no unit-of-work flush, no session to synchronise.
_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_EVENTS: Table = OrderEvent.__table__  # type: ignore[assignment]
_LINES: Table = OrderLine.__table__  # type: ignore[assignment]
_SET_STATUS = Prepared(
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"), _ORDERS.c.status == bindparam("previous"))
    .values(status=bindparam("to_status"), updated_at=bindparam("now"))
)
_INSERT_EVENT = Prepared(
    insert(_EVENTS).values(bound("order_id", "from_status", "to_status", "actor_id", "actor_kind", "note", "at"))
)
_LINE_QUANTITIES = Prepared(
    select(_LINES.c.sku_id, _LINES.c.quantity, _LINES.c.attribution).where(_LINES.c.order_id == bindparam("b_order_id"))
)


async def set_status(
    session: AsyncSession,
    *,
    order_id: int,
    from_statuses: frozenset[OrderStatus],
    to_status: OrderStatus,
    actor_id: int | None,
    actor_kind: str,
    now: datetime,
    note: str = "",
) -> OrderStatus | None:
    """Move the order if it is in one of `from_statuses`; returns the previous status, or
    None when another change got there first."""
    for previous in from_statuses:
        if await move_status(session, order_id=order_id, previous=previous, to_status=to_status, now=now):
            await record_status_events(
                session,
                [
                    status_event(
                        order_id, previous, to_status, actor_id=actor_id, actor_kind=actor_kind, now=now, note=note
                    )
                ],
            )
            return previous
    return None


async def move_status(
    session: AsyncSession, *, order_id: int, previous: OrderStatus, to_status: OrderStatus, now: datetime
) -> bool:
    """The conditional UPDATE of `set_status` alone: True when the order was `previous` and
    is now `to_status`. The caller records the event (`status_event`)."""
    moved = await _SET_STATUS.rowcount(
        session, {"order_id": order_id, "previous": previous, "to_status": to_status, "now": now}
    )
    return moved == 1


def status_event(
    order_id: int,
    previous: OrderStatus,
    to_status: OrderStatus,
    *,
    actor_id: int | None,
    actor_kind: str,
    now: datetime,
    note: str = "",
) -> dict[str, object]:
    """The history row of a status change (who and when)."""
    return {
        "order_id": order_id,
        "from_status": previous.value,
        "to_status": to_status.value,
        "actor_id": actor_id,
        "actor_kind": actor_kind,
        "note": note[:500],
        "at": now,
    }


async def record_status_events(session: AsyncSession, events: list[dict[str, object]]) -> None:
    """Write `status_event` rows, all in one INSERT."""
    await _INSERT_EVENT.run_many(session, events)


DROPPED_TOPICS = {"presale": "presale.dropped", "auction": "auctions.order_dropped"}


async def release_hold(session: AsyncSession, *, order: Order) -> None:
    """Give back what an unpaid order held: SKU stock for a cart order; for a flash-deal
    order the units belong to the deal, so the engine gets its reservation back."""
    if order.source == "deal":
        rows = await session.execute(select(OrderLine.attribution).where(OrderLine.order_id == order.id))
        for attribution in rows.scalars():
            if attribution and "reservation" in attribution:
                outbox.emit(session, topic="deals.release", payload={"reservation": attribution["reservation"]})
        return
    if order.source in DROPPED_TOPICS:  # the unit is the presale's or the auction's: they take it back
        outbox.emit(session, topic=DROPPED_TOPICS[order.source], payload={"order_id": order.id})
        return
    await stock.release(session, await line_quantities(session, order_id=order.id))


async def line_quantities(session: AsyncSession, *, order_id: int) -> dict[int, int]:
    """Units each SKU of the order moves. A presale deposit line moves none: the unit stays
    in the deal until the balance order sells it."""
    return moving_quantities(await _LINE_QUANTITIES.rows(session, {"b_order_id": order_id}))


def moving_quantities(lines: Iterable[tuple[int, int, dict[str, Any] | None]]) -> dict[int, int]:
    """`line_quantities` of lines read already: (sku_id, quantity, attribution) each."""
    return stock.aggregate(
        (sku_id, quantity) for sku_id, quantity, attribution in lines if (attribution or {}).get("part") != "deposit"
    )


async def load_for_actor(session: AsyncSession, *, order_id: int, actor: User) -> tuple[Order, str]:
    """The order and the actor's relation to it (buyer / merchant / operator); 404 for anyone else."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None:
        raise NotFound("order")
    if order.buyer_id == actor.id:
        return order, "buyer"
    if await merchants.membership(session, user=actor, merchant_id=order.merchant_id) is not None:
        return order, "merchant"
    if actor.role == Role.operator:
        return order, "operator"
    raise NotFound("order")


async def request_transition(
    session: AsyncSession, *, actor: User, order_id: int, to_status: OrderStatus, now: datetime, note: str = ""
) -> Order:
    order, relation = await load_for_actor(session, order_id=order_id, actor=actor)
    allowed_from, who = TRANSITIONS.get(to_status, (frozenset(), frozenset()))
    if relation not in who and relation != "operator":
        raise Forbidden(f"You cannot mark this order {to_status.value}")
    if order.status not in allowed_from:
        raise Conflict(
            "invalid_transition",
            f"An order that is {order.status.value} cannot become {to_status.value}",
            field="status",
        )
    previous = await set_status(
        session,
        order_id=order.id,
        from_statuses=allowed_from,
        to_status=to_status,
        actor_id=actor.id,
        actor_kind=relation,
        now=now,
        note=note,
    )
    if previous is None:
        raise Conflict("order_changed", "The order changed meanwhile; reload it")
    if to_status == S.cancelled:
        await release_hold(session, order=order)
    outbox.emit(session, topic="orders.status_changed", payload={"order_id": order.id, "status": to_status.value})
    await session.refresh(order)
    return order


async def history(session: AsyncSession, *, order_id: int) -> list[OrderEvent]:
    rows = await session.execute(select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(OrderEvent.id))
    return list(rows.scalars())
