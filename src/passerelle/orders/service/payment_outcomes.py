"""What a payment's outcome does to the orders of its purchase. Idempotent: a second
delivery of the same outcome changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.db.prepared import Prepared
from passerelle.infra import outbox
from passerelle.ledger import service as ledger
from passerelle.orders import stock
from passerelle.orders.models import Order, OrderStatus, OrderTotals
from passerelle.orders.service.lifecycle import line_quantities, release_hold, set_status

PAYABLE = frozenset({OrderStatus.pending_payment})
# Orders whose units are held by another part (a deal, a presale, an auction): that part
# learns of the payment through its topic.
PAID_TOPICS = {"deal": "deals.confirm", "presale": "presale.paid", "auction": "auctions.paid"}


@dataclass(frozen=True)
class Unfulfillable:
    """An order paid after its hold expired whose stock is gone: the buyer must be refunded."""

    order_id: int
    buyer_amount: int
    buyer_currency: str


class SoldOrder(OrderTotals, Protocol):
    """What booking and announcing a sale read of an order: an `Order`, or a row of
    `SETTLED_COLUMNS` (the paid webhook reads no ORM object)."""

    @property
    def discount_amount(self) -> int: ...
    @property
    def discount_funder(self) -> str: ...
    @property
    def commission_amount(self) -> int: ...
    @property
    def ship_to_country(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


def sale(order: SoldOrder) -> ledger.NewTransaction:
    """The ledger transaction of a paid order: the merchant and the platform credited from
    the money received. A coupon the platform pays for is the platform's expense: the
    merchant is credited as if the buyer had paid the full price."""
    promotion = order.discount_amount if order.discount_funder == "platform" else 0
    net = order.total_amount + promotion - order.commission_amount
    return ledger.NewTransaction(
        kind="sale",
        reference=f"sale:order:{order.id}",
        currency=order.currency,
        order_id=order.id,
        postings=[
            ledger.Posting(ledger.CLEARING, order.total_amount),
            ledger.Posting(ledger.PROMOTIONS, promotion),
            ledger.Posting(ledger.COMMISSION, -order.commission_amount),
            ledger.Posting(ledger.merchant_account(order.merchant_id), -net, order.merchant_id),
        ],
        memo=f"order {order.id}",
    )


async def book_sale(session: AsyncSession, *, order: SoldOrder) -> None:
    """Post `sale(order)` to the ledger."""
    booked = sale(order)
    await ledger.post(
        session,
        kind=booked.kind,
        reference=booked.reference,
        currency=booked.currency,
        order_id=booked.order_id,
        postings=booked.postings,
        memo=booked.memo,
    )


_ORDERS_OF_PURCHASE = (  # built once (a failed payment's webhook runs it)
    select(Order)
    .where(Order.purchase_id == bindparam("purchase_id"))
    .order_by(Order.id)
    .execution_options(populate_existing=True)
)


async def _orders(session: AsyncSession, purchase_id: int) -> list[Order]:
    rows = await session.execute(_ORDERS_OF_PURCHASE, {"purchase_id": purchase_id})
    return list(rows.scalars())


# The paid webhook's reads of its orders: the columns it uses (`SoldOrder`), as rows (no ORM object to
# build, none left in the session), prepared (db/prepared.py).
_ORDERS_TABLE: Table = Order.__table__  # type: ignore[assignment]
SETTLED_COLUMNS = [
    _ORDERS_TABLE.c[name]
    for name in (
        "id",
        "status",
        "source",
        "merchant_id",
        "currency",
        "total_amount",
        "discount_amount",
        "discount_funder",
        "commission_amount",
        "buyer_total_amount",
        "buyer_currency",
        "ship_to_country",
        "created_at",
    )
]
_TO_SETTLE = Prepared(
    select(*SETTLED_COLUMNS)
    .where(_ORDERS_TABLE.c.purchase_id == bindparam("b_purchase_id"))
    .order_by(_ORDERS_TABLE.c.id)
)
_SETTLED = Prepared(select(*SETTLED_COLUMNS).where(_ORDERS_TABLE.c.id == bindparam("b_id")))


async def _settled(session: AsyncSession, order_id: int) -> Any:
    """The order's row as it is now (after a change of its status)."""
    row = await _SETTLED.first(session, {"b_id": order_id})
    assert row is not None
    return row


async def on_payment_succeeded(session: AsyncSession, *, purchase_id: int, now: datetime) -> list[Unfulfillable]:
    """Orders are read as rows: an `Order` of this purchase already in the session is not
    refreshed (every status change here is a Core UPDATE)."""
    unfulfillable: list[Unfulfillable] = []
    for order in await _TO_SETTLE.rows(session, {"b_purchase_id": purchase_id}):
        if order.status == OrderStatus.pending_payment:
            previous = await set_status(
                session,
                order_id=order.id,
                from_statuses=PAYABLE,
                to_status=OrderStatus.paid,
                actor_id=None,
                actor_kind="psp",
                now=now,
            )
            if previous is None:  # expired in the meantime: handled as a late payment below
                order = await _settled(session, order.id)
            else:
                await stock.commit_reserved(session, await line_quantities(session, order_id=order.id))
                await book_sale(session, order=order)
                await _announce_paid(session, order=order, now=now)
                if order.source in PAID_TOPICS:
                    await outbox.emit_many(
                        session, [outbox.Message(topic=PAID_TOPICS[order.source], payload={"order_id": order.id})]
                    )
                continue
        if order.status == OrderStatus.cancelled and not await _was_paid(session, order.id):
            # The hold ran out before the money came: sell only if the stock is still there.
            # A flash deal's, presale's or auction's unit went back where it came from: a
            # late payer is refunded, not served.
            if order.source not in PAID_TOPICS and await stock.sell_directly(
                session, await line_quantities(session, order_id=order.id)
            ):
                await set_status(
                    session,
                    order_id=order.id,
                    from_statuses=frozenset({OrderStatus.cancelled}),
                    to_status=OrderStatus.paid,
                    actor_id=None,
                    actor_kind="psp",
                    now=now,
                    note="paid after the hold expired; stock re-checked and still available",
                )
                order = await _settled(session, order.id)
                await book_sale(session, order=order)
                await _announce_paid(session, order=order, now=now)
            else:
                unfulfillable.append(Unfulfillable(order.id, order.buyer_total_amount, order.buyer_currency))
    return unfulfillable


async def _announce_paid(session: AsyncSession, *, order: SoldOrder, now: datetime) -> None:
    """Tell the consumers (mail...) after commit, and count the sale on the festival's big
    screen in this very transaction, so the screen never runs behind the orders."""
    # Imported here: the festival builds on orders, not the other way round.
    from passerelle.festival import screen

    await outbox.emit_many(session, [outbox.Message(topic="orders.paid", payload={"order_id": order.id})])
    await screen.count_paid_order(session, order=order, now=now)


async def _was_paid(session: AsyncSession, order_id: int) -> bool:
    return await ledger.is_posted(session, reference=f"sale:order:{order_id}")


async def on_payment_failed(session: AsyncSession, *, purchase_id: int, now: datetime, reason: str) -> None:
    for order in await _orders(session, purchase_id):
        previous = await set_status(
            session,
            order_id=order.id,
            from_statuses=PAYABLE,
            to_status=OrderStatus.cancelled,
            actor_id=None,
            actor_kind="psp",
            now=now,
            note=f"payment failed: {reason}"[:500],
        )
        if previous is not None:
            await release_hold(session, order=order)
            outbox.emit(
                session,
                topic="orders.status_changed",
                payload={"order_id": order.id, "status": "cancelled", "reason": "payment_failed"},
            )
            if order.source == "cart":
                outbox.emit(session, topic="cart.restore", payload={"order_id": order.id})
