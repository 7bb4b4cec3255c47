"""Refunds, full or partial, by the merchant: money back through the provider, ledger
entries reversed in proportion, returned units restocked when resellable."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.errors import Conflict, Forbidden, Invalid
from passerelle.infra import outbox
from passerelle.ledger import service as ledger
from passerelle.money import Money
from passerelle.orders import pricing, stock
from passerelle.orders.models import Order, OrderEvent, OrderLine, OrderStatus, Refund
from passerelle.orders.service.lifecycle import load_for_actor
from passerelle.payments.providers.base import PaymentProvider

REFUNDABLE = frozenset(
    {OrderStatus.paid, OrderStatus.accepted, OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed}
)


@dataclass(frozen=True)
class ReturnedLine:
    line_id: int
    quantity: int
    restock: bool = True


async def refund(
    session: AsyncSession,
    *,
    actor: User,
    order_id: int,
    amount: int | None,
    returned: list[ReturnedLine],
    reason: str,
    provider: PaymentProvider,
    provider_ref: str,
    now: datetime,
) -> Refund:
    order, relation = await load_for_actor(session, order_id=order_id, actor=actor)
    if relation not in ("merchant", "operator"):
        raise Forbidden("Only the merchant can refund an order")
    return await refund_order(
        session,
        order=order,
        actor_id=actor.id,
        amount=amount,
        returned=returned,
        reason=reason,
        provider=provider,
        provider_ref=provider_ref,
        now=now,
    )


async def refund_order(
    session: AsyncSession,
    *,
    order: Order,
    actor_id: int | None,
    amount: int | None,
    returned: list[ReturnedLine],
    reason: str,
    provider: PaymentProvider,
    provider_ref: str,
    now: datetime,
) -> Refund:
    if order.status not in REFUNDABLE:
        raise Conflict("not_refundable", f"An order that is {order.status.value} cannot be refunded")
    lines = {
        line.id: line
        for line in (await session.execute(select(OrderLine).where(OrderLine.order_id == order.id))).scalars()
    }
    restock: dict[int, int] = {}
    returned_value = 0
    for item in returned:
        line = lines.get(item.line_id)
        if line is None:
            raise Invalid("unknown_line", f"Order line {item.line_id} is not in this order", field="lines")
        if item.quantity <= 0 or line.returned_quantity + item.quantity > line.quantity:
            raise Invalid("invalid_quantity", "More units returned than were bought", field="lines")
        returned_value += line.unit_amount * item.quantity
        # A presale deposit line never took a unit out of stock: there is nothing to put back.
        if item.restock and (line.attribution or {}).get("part") != "deposit":
            restock[line.sku_id] = restock.get(line.sku_id, 0) + item.quantity
    remaining = order.total_amount - order.refunded_amount
    amount = returned_value if amount is None else amount
    if amount <= 0 or amount > remaining:
        raise Invalid("invalid_amount", f"Refund between 1 and {remaining} minor units", field="amount")

    # Claim the amount first: the row stays locked (PostgreSQL) or the database stays
    # written (SQLite) until commit, so the shares below read settled totals.
    guard = await session.execute(
        update(Order)
        .where(Order.id == order.id, Order.refunded_amount + amount <= Order.total_amount, Order.status.in_(REFUNDABLE))
        .values(refunded_amount=Order.refunded_amount + amount, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if guard.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("order_changed", "The order changed meanwhile; reload it")
    refunded_now = (await session.execute(select(Order.refunded_amount).where(Order.id == order.id))).scalar_one()
    final = refunded_now == order.total_amount
    already = int(
        (
            await session.execute(
                select(func.coalesce(func.sum(Refund.commission_amount), 0)).where(Refund.order_id == order.id)
            )
        ).scalar_one()
    )
    commission_back = pricing.proportional_share(
        order.commission_amount, amount, order.total_amount, already=already, final=final
    )
    # A coupon the platform paid for: the refund gives the platform back its share of it.
    promotion = order.discount_amount if order.discount_funder == "platform" else 0
    promotion_already = int(
        (
            await session.execute(
                select(func.coalesce(func.sum(Refund.promotion_amount), 0)).where(Refund.order_id == order.id)
            )
        ).scalar_one()
    )
    promotion_back = pricing.proportional_share(
        promotion, amount, order.total_amount, already=promotion_already, final=final
    )

    for item in returned:
        await session.execute(
            update(OrderLine)
            .where(OrderLine.id == item.line_id, OrderLine.returned_quantity + item.quantity <= OrderLine.quantity)
            .values(returned_quantity=OrderLine.returned_quantity + item.quantity)
        )
    if restock:
        await stock.restock_returned(session, restock)

    buyer_already = int(
        (
            await session.execute(
                select(func.coalesce(func.sum(Refund.buyer_amount), 0)).where(Refund.order_id == order.id)
            )
        ).scalar_one()
    )
    buyer_amount = pricing.proportional_share(
        order.buyer_total_amount, amount, order.total_amount, already=buyer_already, final=final
    )
    refund_ref = await provider.refund(
        provider_ref=provider_ref, amount=Money(buyer_amount, order.buyer_currency), reference=f"order:{order.id}"
    )
    record = Refund(
        order_id=order.id,
        amount=amount,
        currency=order.currency,
        commission_amount=commission_back,
        buyer_amount=buyer_amount,
        buyer_currency=order.buyer_currency,
        promotion_amount=promotion_back,
        reason=reason[:500],
        returned=[{"line_id": r.line_id, "quantity": r.quantity, "restock": r.restock} for r in returned],
        actor_id=actor_id,
        provider_ref=refund_ref,
        created_at=now,
    )
    session.add(record)
    await session.flush()
    await ledger.post(
        session,
        kind="refund",
        reference=f"refund:{record.id}",
        currency=order.currency,
        order_id=order.id,
        postings=[
            ledger.Posting(ledger.CLEARING, -amount),
            ledger.Posting(ledger.COMMISSION, commission_back),
            ledger.Posting(ledger.PROMOTIONS, -promotion_back),
            ledger.Posting(
                ledger.merchant_account(order.merchant_id), amount + promotion_back - commission_back, order.merchant_id
            ),
        ],
        memo=reason[:200],
    )
    if final:
        previous = order.status
        await session.execute(update(Order).where(Order.id == order.id).values(status=OrderStatus.refunded))
        session.add(
            OrderEvent(
                order_id=order.id,
                from_status=previous.value,
                to_status="refunded",
                actor_id=actor_id,
                actor_kind="merchant",
                note=reason[:500],
                at=now,
            )
        )
    else:
        session.add(
            OrderEvent(
                order_id=order.id,
                from_status=order.status.value,
                to_status=order.status.value,
                actor_id=actor_id,
                actor_kind="merchant",
                note=f"partial refund {amount} {order.currency}: {reason}"[:500],
                at=now,
            )
        )
    outbox.emit(session, topic="orders.refunded", payload={"order_id": order.id, "refund_id": record.id})
    await session.flush()
    await session.refresh(order)
    return record
