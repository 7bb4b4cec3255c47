"""What a payment's outcome does to the orders of its purchase. Idempotent: a second
delivery of the same outcome changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from passerelle.infra import outbox
from passerelle.ledger import service as ledger
from passerelle.orders import stock
from passerelle.orders.models import Order, OrderStatus
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


async def book_sale(session: AsyncSession, *, order: Order) -> None:
    """Credit the merchant and the platform from the money received for `order`. A coupon
    the platform pays for is the platform's expense: the merchant is credited as if the
    buyer had paid the full price."""
    promotion = order.discount_amount if order.discount_funder == "platform" else 0
    net = order.total_amount + promotion - order.commission_amount
    await ledger.post(
        session,
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


_ORDERS_OF_PURCHASE = (  # built once (every paid webhook runs it)
    select(Order)
    .where(Order.purchase_id == bindparam("purchase_id"))
    .order_by(Order.id)
    .execution_options(populate_existing=True)
)


async def _orders(session: AsyncSession, purchase_id: int) -> list[Order]:
    rows = await session.execute(_ORDERS_OF_PURCHASE, {"purchase_id": purchase_id})
    return list(rows.scalars())


async def on_payment_succeeded(session: AsyncSession, *, purchase_id: int, now: datetime) -> list[Unfulfillable]:
    unfulfillable: list[Unfulfillable] = []
    for order in await _orders(session, purchase_id):
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
                await session.refresh(order)
            else:
                await stock.commit_reserved(session, await line_quantities(session, order_id=order.id))
                # What set_status wrote, without reading the row back.
                set_committed_value(order, "status", OrderStatus.paid)
                set_committed_value(order, "updated_at", now)
                await book_sale(session, order=order)
                await _announce_paid(session, order=order, now=now)
                if order.source in PAID_TOPICS:
                    outbox.emit(session, topic=PAID_TOPICS[order.source], payload={"order_id": order.id})
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
                await session.refresh(order)
                await book_sale(session, order=order)
                await _announce_paid(session, order=order, now=now)
            else:
                unfulfillable.append(Unfulfillable(order.id, order.buyer_total_amount, order.buyer_currency))
    return unfulfillable


async def _announce_paid(session: AsyncSession, *, order: Order, now: datetime) -> None:
    """Tell the consumers (mail...) after commit, and count the sale on the festival's big
    screen in this very transaction, so the screen never runs behind the orders."""
    # Imported here: the festival builds on orders, not the other way round.
    from passerelle.festival import screen

    outbox.emit(session, topic="orders.paid", payload={"order_id": order.id})
    await screen.count_paid_order(session, order=order, now=now)


async def _was_paid(session: AsyncSession, order_id: int) -> bool:
    from passerelle.ledger.models import LedgerTransaction

    found = await session.execute(
        select(LedgerTransaction.id).where(LedgerTransaction.reference == f"sale:order:{order_id}")
    )
    return found.first() is not None


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
