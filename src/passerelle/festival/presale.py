"""Presale: a deposit before the festival holds a unit, the balance is paid on the day.

How it maps onto the commerce path (every payment is an ordinary order, source "presale"):
- the deposit order has one line at the deposit price; it moves no stock (its line is
  marked `part: deposit`, see `orders.service.lifecycle.line_quantities`) and charges no
  shipping: the unit stays in the deal's presale allotment;
- the balance order has the line at price - deposit credit, plus shipping; once it is
  paid the unit is sold out of the deal's units like any deal sale;
- a balance still unpaid at `balance_due_at` forfeits the deposit (the merchant keeps
  it, as the deal page tells the buyer before they pay); the unit stays unsold and goes
  back to the SKU when the deal closes.

Units: `deals.presale_taken` counts units held by deposits (awaiting or paid, or sold);
it is moved with conditional updates only, so concurrent deposits never exceed
`presale_stock`. Never commits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.errors import Conflict, Invalid, NotFound
from passerelle.festival.models import Deal, DealStatus, PresaleDeposit, PresaleStatus
from passerelle.infra import outbox
from passerelle.orders.models import Order, OrderLine, OrderStatus
from passerelle.orders.service import placement
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout, place_and_open_payment

SOURCE = "presale"
HOLDING = (PresaleStatus.awaiting_deposit, PresaleStatus.deposit_paid, PresaleStatus.completed)


def check_terms(
    *,
    price_amount: int,
    stock: int,
    starts_at: datetime,
    ends_at: datetime,
    deposit_amount: int | None,
    deposit_credit_amount: int | None,
    presale_starts_at: datetime | None,
    balance_due_at: datetime | None,
    presale_stock: int,
) -> None:
    """A presale deal's rules make sense together, or the deal is refused (nothing written)."""
    if deposit_amount is None:
        if any(v is not None for v in (deposit_credit_amount, presale_starts_at, balance_due_at)) or presale_stock:
            raise Invalid("presale_incomplete", "A presale needs a deposit amount", field="deposit_amount")
        return
    if presale_starts_at is None or balance_due_at is None:
        raise Invalid(
            "presale_incomplete", "A presale needs its deposit opening and balance due times", field="balance_due_at"
        )
    credit = deposit_amount if deposit_credit_amount is None else deposit_credit_amount
    if not 0 < deposit_amount <= credit < price_amount:
        raise Invalid(
            "invalid_deposit",
            "The deposit is positive, counts for at least itself, and for less than the deal price",
            field="deposit_amount",
        )
    if not 1 <= presale_stock <= stock:
        raise Invalid(
            "invalid_presale_stock", "Presale units are between 1 and the deal's stock", field="presale_stock"
        )
    if not presale_starts_at < starts_at:
        raise Invalid("invalid_presale_window", "Deposits open before the deal starts", field="presale_starts_at")
    if not starts_at < balance_due_at <= ends_at:
        raise Invalid(
            "invalid_balance_window", "The balance falls due after the start and by the end", field="balance_due_at"
        )


def balance_unit_amount(deal: Deal) -> int:
    assert deal.deposit_amount is not None
    credit = deal.deposit_credit_amount if deal.deposit_credit_amount is not None else deal.deposit_amount
    return deal.price_amount - credit


def terms_text_values(deal: Deal) -> dict[str, Any]:
    """The figures of the rules shown to the buyer before they pay a deposit."""
    return {
        "deposit": deal.deposit_amount,
        "credit": deal.deposit_credit_amount if deal.deposit_credit_amount is not None else deal.deposit_amount,
        "balance": balance_unit_amount(deal),
        "balance_from": deal.starts_at,
        "balance_due": deal.balance_due_at,
    }


async def take_deposit(
    session: AsyncSession, *, buyer: User, deal_id: int, quantity: int, terms: CheckoutTerms, now: datetime
) -> tuple[PresaleDeposit, PlacedCheckout]:
    deal = await session.get(Deal, deal_id)
    if deal is None or deal.status == DealStatus.draft or not deal.is_presale:
        raise NotFound("presale")
    assert deal.presale_starts_at is not None
    if now < deal.presale_starts_at:
        raise Conflict("presale_not_started", "Deposits for this deal are not open yet")
    if now >= deal.starts_at or deal.status != DealStatus.armed:
        raise Conflict("presale_ended", "Deposits for this deal are closed")
    if quantity < 1:
        raise Invalid("invalid_quantity", "Quantity must be at least 1", field="quantity")
    taken = await session.execute(
        update(Deal)
        .where(Deal.id == deal_id, Deal.presale_taken + quantity <= Deal.presale_stock)
        .values(presale_taken=Deal.presale_taken + quantity)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("sold_out", "Every presale unit of this deal is taken")
    # The deal's row is locked by the update above (PostgreSQL) or the database is (SQLite):
    # the per-buyer sum below cannot race another deposit of this deal.
    held = await session.scalar(
        select(func.coalesce(func.sum(PresaleDeposit.quantity), 0)).where(
            PresaleDeposit.deal_id == deal_id,
            PresaleDeposit.buyer_id == buyer.id,
            PresaleDeposit.status.in_(HOLDING),
        )
    )
    if int(held or 0) + quantity > deal.per_buyer_limit:
        raise Conflict("limit_reached", "You already have the most units this deal allows per buyer")
    presale = PresaleDeposit(deal_id=deal_id, buyer_id=buyer.id, quantity=quantity)
    session.add(presale)
    await session.flush()
    assert deal.deposit_amount is not None
    done = await _place(
        session, deal=deal, presale=presale, part="deposit", unit_amount=deal.deposit_amount, terms=terms, now=now
    )
    presale.deposit_order_id = done.placed.orders[0].id
    await session.flush()
    return presale, done


async def pay_balance(
    session: AsyncSession, *, buyer: User, presale_id: int, terms: CheckoutTerms, now: datetime
) -> PlacedCheckout:
    presale = await _own(session, buyer=buyer, presale_id=presale_id)
    deal = await session.get(Deal, presale.deal_id)
    assert deal is not None and deal.balance_due_at is not None
    if presale.status != PresaleStatus.deposit_paid:
        raise Conflict("balance_not_payable", f"This presale is {presale.status.value}")
    if now < deal.starts_at:
        raise Conflict("balance_not_open", "The balance can be paid from the deal's start")
    if now >= deal.balance_due_at:
        raise Conflict("balance_overdue", "The balance was due before now; the deposit is forfeited")
    if presale.balance_order_id is not None:
        pending = await session.get(Order, presale.balance_order_id)
        if pending is not None and pending.status == OrderStatus.pending_payment:
            raise Conflict("balance_in_progress", "A payment for this balance is already open")
    # The balance order must be paid before the due time, whatever the usual hold.
    hold = min(terms.hold_for, deal.balance_due_at - now)
    done = await _place(
        session,
        deal=deal,
        presale=presale,
        part="balance",
        unit_amount=balance_unit_amount(deal),
        terms=replace(terms, hold_for=hold),
        now=now,
    )
    presale.balance_order_id = done.placed.orders[0].id
    await session.flush()
    return done


async def _place(
    session: AsyncSession,
    *,
    deal: Deal,
    presale: PresaleDeposit,
    part: str,
    unit_amount: int,
    terms: CheckoutTerms,
    now: datetime,
) -> PlacedCheckout:
    request = placement.LineRequest(
        sku_id=deal.sku_id,
        quantity=presale.quantity,
        unit_amount=unit_amount,
        attribution={"deal_id": deal.id, "presale": presale.id, "part": part},
    )
    return await place_and_open_payment(
        session,
        buyer=await _buyer(session, presale.buyer_id),
        requests=[request],
        terms=replace(terms, coupon_code=None),  # a presale price takes no coupon
        now=now,
        source=SOURCE,
        hold_stock=False,  # the units are the deal's already
        charge_shipping=part == "balance",
    )


async def _buyer(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    assert user is not None
    return user


async def _own(session: AsyncSession, *, buyer: User, presale_id: int) -> PresaleDeposit:
    presale = await session.get(PresaleDeposit, presale_id, populate_existing=True)
    if presale is None or presale.buyer_id != buyer.id:
        raise NotFound("presale")
    return presale


async def of_buyer(session: AsyncSession, *, buyer_id: int) -> list[tuple[PresaleDeposit, Deal]]:
    rows = await session.execute(
        select(PresaleDeposit, Deal)
        .join(Deal, Deal.id == PresaleDeposit.deal_id)
        .where(PresaleDeposit.buyer_id == buyer_id)
        .order_by(PresaleDeposit.id.desc())
    )
    return [(presale, deal) for presale, deal in rows.all()]


async def _presale_of_order(session: AsyncSession, order_id: int) -> tuple[PresaleDeposit, str] | None:
    rows = await session.execute(select(OrderLine.attribution).where(OrderLine.order_id == order_id))
    for attribution in rows.scalars():
        if attribution and "presale" in attribution:
            presale = await session.get(PresaleDeposit, int(attribution["presale"]), populate_existing=True)
            if presale is not None:
                return presale, str(attribution.get("part", ""))
    return None


async def on_order_paid(session: AsyncSession, *, order_id: int) -> None:
    """Deposit paid: the unit is held until the balance. Balance paid: the unit is sold
    (also after a forfeit run raced a balance paid within its own pay-by time)."""
    found = await _presale_of_order(session, order_id)
    if found is None:
        return
    presale, part = found
    if part == "deposit" and presale.status == PresaleStatus.awaiting_deposit:
        presale.status = PresaleStatus.deposit_paid
    elif part == "balance" and presale.status in (PresaleStatus.deposit_paid, PresaleStatus.forfeited):
        if presale.status == PresaleStatus.forfeited:
            await _move_taken(session, deal_id=presale.deal_id, units=presale.quantity)
        presale.status = PresaleStatus.completed
        presale.balance_order_id = order_id
    await session.flush()


async def on_order_dropped(session: AsyncSession, *, order_id: int, now: datetime) -> None:
    """An unpaid presale order expired or was declined. A deposit order: its unit goes
    back to the presale. A balance order: the buyer may try again until the due time;
    past it, the deposit is forfeited here (the forfeit run left it to this order)."""
    found = await _presale_of_order(session, order_id)
    if found is None:
        return
    presale, part = found
    if part == "deposit" and presale.status == PresaleStatus.awaiting_deposit:
        presale.status = PresaleStatus.cancelled
        await _move_taken(session, deal_id=presale.deal_id, units=-presale.quantity)
    elif part == "balance" and presale.balance_order_id == order_id and presale.status == PresaleStatus.deposit_paid:
        presale.balance_order_id = None
        deal = await session.get(Deal, presale.deal_id)
        if deal is not None and deal.balance_due_at is not None and now >= deal.balance_due_at:
            presale.status = PresaleStatus.forfeited
            await _move_taken(session, deal_id=presale.deal_id, units=-presale.quantity)
    await session.flush()


async def forfeit_unpaid(session: AsyncSession, *, deal_id: int, now: datetime) -> int:
    """At the balance due time: every deposit whose balance is unpaid is forfeited. Its
    unit leaves the presale count and returns to the SKU when the deal closes. Returns
    how many presales were forfeited. Run again later, it changes nothing."""
    deal = await session.get(Deal, deal_id)
    if deal is None or deal.balance_due_at is None or now < deal.balance_due_at:
        return 0
    unpaid = list(
        (
            await session.execute(
                select(PresaleDeposit).where(
                    PresaleDeposit.deal_id == deal_id, PresaleDeposit.status == PresaleStatus.deposit_paid
                )
            )
        ).scalars()
    )
    for presale in unpaid:
        if presale.balance_order_id is not None:
            order = await session.get(Order, presale.balance_order_id)
            expires_at = order.expires_at if order is not None else None
            if order is not None and order.status == OrderStatus.pending_payment and expires_at and expires_at > now:
                continue  # its pay-by is still ahead (it never passes the due time): left to it
        presale.status = PresaleStatus.forfeited
        await _move_taken(session, deal_id=deal_id, units=-presale.quantity)
    await session.flush()
    return len(unpaid)


async def sold_units(session: AsyncSession, *, deal_id: int) -> int:
    """Presale units sold (balance paid): the rest of the presale allotment is unsold."""
    total = await session.scalar(
        select(func.coalesce(func.sum(PresaleDeposit.quantity), 0)).where(
            PresaleDeposit.deal_id == deal_id, PresaleDeposit.status == PresaleStatus.completed
        )
    )
    return int(total or 0)


async def _move_taken(session: AsyncSession, *, deal_id: int, units: int) -> None:
    await session.execute(
        update(Deal)
        .where(Deal.id == deal_id, Deal.presale_taken + units >= 0, Deal.presale_taken + units <= Deal.presale_stock)
        .values(presale_taken=Deal.presale_taken + units)
        .execution_options(synchronize_session=False)
    )


def schedule_forfeit(session: AsyncSession, deal: Deal) -> None:
    """Called when a presale deal is armed: the forfeit runs at the due time (and a little
    after, so balance orders whose pay-by is the due time have expired)."""
    assert deal.balance_due_at is not None
    outbox.emit(
        session,
        topic="presale.forfeit",
        payload={"deal_id": deal.id},
        at=deal.balance_due_at + timedelta(seconds=2),
    )
