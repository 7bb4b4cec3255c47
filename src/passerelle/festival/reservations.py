"""Paying for a flash-deal reservation: it becomes an ordinary order (source "deal") at
the deal price, whose payment goes through the commerce payments. The deal's units are
already set aside, so no SKU stock moves at checkout."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.errors import Conflict, NotFound
from passerelle.festival.engine import rules
from passerelle.festival.engine.engine import DealEngine
from passerelle.festival.models import Deal, DealCheckout
from passerelle.live import commerce as live_commerce
from passerelle.orders.models import OrderLine
from passerelle.orders.service import placement
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout, place_and_open_payment


async def checkout(
    session: AsyncSession,
    *,
    engine: DealEngine,
    buyer: User,
    seq: int,
    terms: CheckoutTerms,
    now: datetime,
) -> PlacedCheckout:
    found = await engine.reservation(seq)
    if found is None or found[1] != buyer.id:
        raise NotFound("reservation")
    deal_id, _, quantity, expires_at, status = found
    if status != rules.HELD:
        raise Conflict("reservation_not_held", "This reservation was already paid or has expired")
    pay_by = datetime.fromtimestamp(expires_at, UTC)
    if pay_by <= now:
        raise Conflict("reservation_expired", "This reservation has expired")
    deal = await session.get(Deal, deal_id)
    if deal is None:
        raise NotFound("deal")
    attribution: dict[str, Any] = {"deal_id": deal_id, "reservation": seq}
    # A deal launched in a live room credits the room, its host and co-hosts.
    attribution |= await live_commerce.deal_attribution(session, deal_id=deal_id) or {}
    request = placement.LineRequest(
        sku_id=deal.sku_id, quantity=quantity, unit_amount=deal.price_amount, attribution=attribution
    )
    # The units are the deal's already (taken from the SKU when it was armed): no stock hold.
    done = await place_and_open_payment(
        session,
        buyer=buyer,
        requests=[request],
        terms=replace(terms, hold_for=pay_by - now),
        now=now,
        source="deal",
        hold_stock=False,
    )
    try:
        async with session.begin_nested():
            session.add(DealCheckout(reservation_seq=seq, deal_id=deal_id, order_id=done.placed.orders[0].id))
    except IntegrityError:
        raise Conflict("already_checked_out", "This reservation already has an order") from None
    return done


async def reservations_of_order(session: AsyncSession, *, order_id: int) -> list[int]:
    rows = await session.execute(select(OrderLine.attribution).where(OrderLine.order_id == order_id))
    return [int(a["reservation"]) for a in rows.scalars() if a and "reservation" in a]
