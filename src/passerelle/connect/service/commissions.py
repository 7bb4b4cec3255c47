"""Commission lifecycle: pending at payment, approved when the return window closes (it opens
when the order is delivered: an order never delivered stays pending), reversed on refund or
cancellation (in part for a partial refund), paid in a payout. Every movement is one balanced
ledger transaction with a unique reference, so a replay books nothing twice."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.models import Commission, Creator
from passerelle.connect.service import fraud
from passerelle.connect.service.attribution import credits_for
from passerelle.connect.service.ledger import Posting, merchant_account, owed_account, pending_account, post
from passerelle.errors import Conflict, NotFound
from passerelle.infra import outbox
from passerelle.logistics.service.returns import delivered_at
from passerelle.orders.models import Order, OrderLine, OrderStatus

OPEN = ("pending", "held")
DELIVERED = frozenset({OrderStatus.delivered, OrderStatus.completed})


async def accrue(session: AsyncSession, *, order_id: int, now: datetime, return_window_days: int) -> list[Commission]:
    """Book the commissions of a paid order. Idempotent: an order is attributed once."""
    order = await session.get(Order, order_id)
    if order is None or order.status in (OrderStatus.pending_payment, OrderStatus.cancelled):
        return []
    if (await session.execute(select(Commission.id).where(Commission.order_id == order_id).limit(1))).first():
        return []
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
            approve_at=None,  # set when the order is delivered (schedule_approval)
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
        await fraud.check_code_leak(session, order_id=order.id, now=now)
        if order.status in DELIVERED:  # delivered before its payment message was handled
            await schedule_approval(session, order_id=order.id, return_window_days=return_window_days)
    return made


async def schedule_approval(session: AsyncSession, *, order_id: int, return_window_days: int) -> datetime | None:
    """The order is delivered: its open commissions approve `return_window_days` after the
    delivery (the last parcel's arrival, or when it was marked delivered). Idempotent: only
    commissions without a date get one, and the approval message is queued only then."""
    order = await session.get(Order, order_id, populate_existing=True)
    if order is None or order.status not in DELIVERED:
        return None
    arrived = await delivered_at(session, order=order)
    if arrived is None:
        return None
    approve_at = arrived + timedelta(days=return_window_days)
    dated = await session.execute(
        update(Commission)
        .where(Commission.order_id == order_id, Commission.approve_at.is_(None), Commission.status.in_(OPEN))
        .values(approve_at=approve_at)
        .execution_options(synchronize_session=False)
    )
    if dated.rowcount == 0:  # type: ignore[attr-defined]
        return None
    outbox.emit(session, topic="connect.approve_due", payload={"order_id": order_id}, at=approve_at)
    return approve_at


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
    c = await session.get(Commission, commission_id, populate_existing=True)
    if c is not None and c.approve_at is not None and c.approve_at <= now:
        await _approve_one(session, commission_id=commission_id)
    return True


async def void_held(session: AsyncSession, *, commission_id: int) -> int:
    """An operator confirms fraud on a held commission: what is left of it goes back to the
    merchant and it is reversed for good. Returns the amount reversed."""
    c = await session.get(Commission, commission_id, populate_existing=True)
    if c is None:
        raise NotFound("commission")
    if c.status != "held":
        raise Conflict("not_held", "Only a held commission can be voided", field="status")
    delta = c.amount - c.reversed_amount
    moved = await session.execute(
        update(Commission)
        .where(Commission.id == c.id, Commission.status == "held", Commission.reversed_amount == c.reversed_amount)
        .values(status="reversed", reversed_amount=c.amount, hold_reason="fraud_confirmed")
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        raise Conflict("commission_changed", "The commission changed meanwhile; reload it")
    if delta > 0:
        await post(
            session,
            kind="connect_reverse",
            reference=f"connect:reverse:{c.id}:{c.amount}",
            currency=c.currency,
            order_id=c.order_id,
            postings=[
                Posting(pending_account(c.creator_id), delta),
                Posting(merchant_account(c.merchant_id), -delta, c.merchant_id),
            ],
            memo=f"creator {c.creator_id} commission voided (fraud confirmed)",
        )
    return delta


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
