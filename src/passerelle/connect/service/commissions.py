"""Commission lifecycle: pending at payment, approved when the return window closes, reversed
on refund or cancellation (in part for a partial refund), paid in a payout. Every movement is
one balanced ledger transaction with a unique reference, so a replay books nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.models import Commission, Creator
from passerelle.connect.service import fraud
from passerelle.connect.service.attribution import credits_for
from passerelle.connect.service.ledger import Posting, merchant_account, owed_account, pending_account, post
from passerelle.infra import outbox
from passerelle.orders.models import Order, OrderLine, OrderStatus

OPEN = ("pending", "held")


async def accrue(session: AsyncSession, *, order_id: int, now: datetime, return_window_days: int) -> list[Commission]:
    """Book the commissions of a paid order. Idempotent: an order is attributed once."""
    order = await session.get(Order, order_id)
    if order is None or order.status in (OrderStatus.pending_payment, OrderStatus.cancelled):
        return []
    if (await session.execute(select(Commission.id).where(Commission.order_id == order_id).limit(1))).first():
        return []
    approve_at = now + timedelta(days=return_window_days)
    made: list[Commission] = []
    for credit in await credits_for(session, order=order, paid_at=now):
        creator = await session.get(Creator, credit.creator_id)
        assert creator is not None
        hold = await fraud.hold_reason(session, creator=creator, buyer_id=order.buyer_id, order_id=order.id)
        commission = Commission(
            kind="sale",
            order_id=order.id,
            order_line_id=credit.line.id,
            creator_id=credit.creator_id,
            campaign_id=credit.campaign_id,
            merchant_id=order.merchant_id,
            buyer_id=order.buyer_id,
            room_id=credit.detail.get("room_id"),
            currency=order.currency,
            base_amount=credit.base,
            rate_bp=credit.rate_bp,
            amount=credit.amount,
            reversed_amount=0,
            rule=credit.rule,
            detail=credit.detail,
            status="held" if hold else "pending",
            hold_reason=hold,
            approve_at=approve_at,
            created_at=now,
        )
        session.add(commission)
        await session.flush()
        await post(
            session,
            kind="connect_accrue",
            reference=f"connect:accrue:{commission.id}",
            currency=order.currency,
            order_id=order.id,
            postings=[
                Posting(merchant_account(order.merchant_id), commission.amount, order.merchant_id),
                Posting(pending_account(commission.creator_id), -commission.amount),
            ],
            memo=f"creator {commission.creator_id} commission ({commission.rule})",
        )
        made.append(commission)
    for creator_id in {c.creator_id for c in made}:
        await session.execute(update(Creator).where(Creator.id == creator_id).values(orders=Creator.orders + 1))
    if made:
        outbox.emit(session, topic="connect.approve_due", payload={"order_id": order.id}, at=approve_at)
        await fraud.check_code_leak(session, order_id=order.id, now=now)
    return made


async def approve_due(session: AsyncSession, *, order_id: int, now: datetime) -> int:
    """Approve the order's pending commissions whose return window has closed. Held ones wait
    for an operator. Returns how many moved."""
    ids = (
        await session.execute(
            select(Commission.id).where(
                Commission.order_id == order_id, Commission.status == "pending", Commission.approve_at <= now
            )
        )
    ).scalars()
    moved = 0
    for commission_id in list(ids):
        moved += await _approve_one(session, commission_id=commission_id)
    return moved


async def _approve_one(session: AsyncSession, *, commission_id: int) -> int:
    claimed = await session.execute(
        update(Commission)
        .where(Commission.id == commission_id, Commission.status == "pending")
        .values(status="approved")
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        return 0
    c = (await session.execute(select(Commission).where(Commission.id == commission_id))).scalar_one()
    await session.refresh(c)
    net = c.amount - c.reversed_amount
    await post(
        session,
        kind="connect_approve",
        reference=f"connect:approve:{c.id}",
        currency=c.currency,
        order_id=c.order_id,
        postings=[Posting(pending_account(c.creator_id), net), Posting(owed_account(c.creator_id), -net)],
    )
    return 1


async def release(session: AsyncSession, *, commission_id: int, now: datetime) -> bool:
    """An operator clears a held commission: it approves on schedule (at once if already due)."""
    moved = await session.execute(
        update(Commission).where(Commission.id == commission_id, Commission.status == "held").values(status="pending")
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        return False
    c = await session.get(Commission, commission_id)
    if c is not None and c.approve_at <= now:
        await _approve_one(session, commission_id=commission_id)
    return True


def _remaining(c: Commission, order: Order, line: OrderLine | None) -> int:
    """What the commission should still be worth after the order's refunds."""
    if order.status in (OrderStatus.refunded, OrderStatus.cancelled) or order.refunded_amount >= order.total_amount:
        return 0
    by_lines = c.amount
    if line is not None and line.returned_quantity:
        by_lines = c.amount * (line.quantity - line.returned_quantity) // line.quantity
    by_amount = c.amount * (order.total_amount - order.refunded_amount) // order.total_amount
    return min(by_lines, by_amount)


async def reverse_for_order(session: AsyncSession, *, order_id: int) -> int:
    """Take back what refunds and cancellations removed from the sale. Returns the amount reversed."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None:
        return 0
    total = 0
    rows = await session.execute(select(Commission).where(Commission.order_id == order_id, Commission.kind == "sale"))
    for c in list(rows.scalars()):
        if c.status == "reversed":
            continue
        line = await session.get(OrderLine, c.order_line_id) if c.order_line_id else None
        delta = (c.amount - c.reversed_amount) - _remaining(c, order, line)
        if delta <= 0:
            continue
        new_reversed = c.reversed_amount + delta
        fully = new_reversed == c.amount
        status = c.status
        next_status = "reversed" if fully and status != "paid" else status
        # Optimistic: only the transaction that saw this reversed amount moves it.
        moved = await session.execute(
            update(Commission)
            .where(Commission.id == c.id, Commission.reversed_amount == c.reversed_amount, Commission.status == status)
            .values(reversed_amount=new_reversed, status=next_status)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount == 0:  # type: ignore[attr-defined]
            continue
        source = pending_account(c.creator_id) if status in OPEN else owed_account(c.creator_id)
        await post(
            session,
            kind="connect_reverse",
            reference=f"connect:reverse:{c.id}:{new_reversed}",
            currency=c.currency,
            order_id=c.order_id,
            postings=[Posting(source, delta), Posting(merchant_account(c.merchant_id), -delta, c.merchant_id)],
            memo=f"creator {c.creator_id} commission reversed",
        )
        total += delta
    if total:
        await fraud.check_refund_abuse(session, order_id=order_id)
    return total
