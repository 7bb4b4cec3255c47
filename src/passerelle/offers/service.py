""" "Make an offer" on an individual seller's item.

The buyer proposes an amount; the seller accepts, declines or counters; the buyer then
accepts, declines or counters back, and so on. Each proposal lapses after 48 h. An accepted
offer lets that buyer, and only them, check the item out once at the agreed amount.
Every step is one conditional UPDATE on the state it expects (status, whose turn, not
lapsed), so a double click or two racing answers apply once. Services never commit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from passerelle.accounts.models import User
from passerelle.catalog.availability import availability
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.errors import Conflict, Forbidden, Invalid, NotFound
from passerelle.infra import outbox
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant, MerchantKind, MerchantStatus
from passerelle.offers.models import Offer, OfferProposal, OfferStatus
from passerelle.orders.models import Order, OrderStatus
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout, place_and_open_payment
from passerelle.orders.service.placement import LineRequest

S = OfferStatus
Party = Literal["buyer", "seller"]
OFFER_TTL = timedelta(hours=48)
MAX_ROUNDS = 10
LIVE = (S.open, S.accepted)


def effective_status(offer: Offer, now: datetime) -> OfferStatus:
    """A live offer past `expires_at` is expired even before the sweep records it."""
    if offer.status in LIVE and offer.expires_at <= now:
        return S.expired
    return offer.status


def _other(party: Party) -> Party:
    return "seller" if party == "buyer" else "buyer"


_REFUSALS: dict[OfferStatus, tuple[str, str]] = {
    S.open: ("offer_not_accepted", "This offer has not been accepted"),
    S.accepted: ("offer_already_accepted", "This offer is already accepted"),
    S.ordered: ("offer_already_used", "This offer was already checked out"),
    S.declined: ("offer_declined", "This offer was declined"),
    S.expired: ("offer_expired", "This offer has expired"),
}


def _refuse(status: OfferStatus) -> Conflict:
    code, message = _REFUSALS[status]
    return Conflict(code, message, extra={"status": status.value})


async def _item(session: AsyncSession, *, sku_id: int) -> tuple[Sku, Product, Merchant]:
    row = (
        await session.execute(
            select(Sku, Product, Merchant)
            .join(Product, Product.id == Sku.product_id)
            .join(Merchant, Merchant.id == Product.merchant_id)
            .where(Sku.id == sku_id)
        )
    ).first()
    if row is None:
        raise NotFound("sku")
    sku, product, merchant = row
    return sku, product, merchant


def _check_amount(amount: int, sku: Sku) -> None:
    if amount < 1:
        raise Invalid("invalid_amount", "Offer a positive amount", field="amount")
    if amount > sku.price_amount:
        # More than the asking price is no offer: the item can simply be bought.
        raise Invalid("offer_above_price", "Offer less than the asking price, or buy it", field="amount")


async def make_offer(
    session: AsyncSession, *, buyer: User, sku_id: int, amount: int, message: str, now: datetime
) -> Offer:
    sku, product, merchant = await _item(session, sku_id=sku_id)
    if product.status != ProductStatus.published or merchant.status != MerchantStatus.approved:
        raise NotFound("sku")
    if merchant.kind != MerchantKind.individual:
        raise Conflict("offers_c2c_only", "Offers are for items of individual sellers", field="sku_id")
    if await merchants.membership(session, user=buyer, merchant_id=merchant.id) is not None:
        raise Conflict("own_item", "You cannot make an offer on your own item", field="sku_id")
    state = availability(stock=sku.stock, reserved=sku.reserved, sold=sku.sold)
    if state != "available":
        raise Conflict("item_sold" if state == "sold" else "out_of_stock", f"This item is {state}", field="sku_id")
    _check_amount(amount, sku)
    await _expire_lapsed(session, now=now, buyer_id=buyer.id, sku_id=sku_id)
    live = (
        await session.execute(
            select(Offer.id).where(Offer.buyer_id == buyer.id, Offer.sku_id == sku_id, Offer.status.in_(LIVE))
        )
    ).scalar_one_or_none()
    if live is not None:
        raise Conflict("offer_already_open", "You already have an offer on this item", extra={"offer_id": live})
    offer = Offer(
        buyer_id=buyer.id,
        merchant_id=merchant.id,
        sku_id=sku_id,
        currency=merchant.currency,
        status=S.open,
        amount=amount,
        awaiting="seller",
        rounds=1,
        expires_at=now + OFFER_TTL,
        created_at=now,
        updated_at=now,
    )
    try:
        async with session.begin_nested():
            session.add(offer)
            await session.flush()
    except IntegrityError:
        # Two first offers raced; the partial unique index let one in.
        raise Conflict("offer_already_open", "You already have an offer on this item") from None
    session.add(
        OfferProposal(
            offer_id=offer.id,
            made_by="buyer",
            actor_id=buyer.id,
            amount=amount,
            message=message.strip(),
            created_at=now,
        )
    )
    await outbox.emit_wake(session, topic="offers.expire_due", at=offer.expires_at)
    await session.flush()
    return offer


async def load_for_party(session: AsyncSession, *, offer_id: int, actor: User) -> tuple[Offer, Party]:
    """The offer and who `actor` is in it; 404 for anyone else: nobody but the two sides sees it."""
    offer = await session.get(Offer, offer_id, populate_existing=True)
    if offer is None:
        raise NotFound("offer")
    if offer.buyer_id == actor.id:
        return offer, "buyer"
    if await merchants.membership(session, user=actor, merchant_id=offer.merchant_id) is not None:
        return offer, "seller"
    raise NotFound("offer")


def _require_turn(offer: Offer, party: Party, now: datetime) -> None:
    status = effective_status(offer, now)
    if status != S.open:
        raise _refuse(status)
    if offer.awaiting != party:
        raise Conflict("not_your_turn", f"The {offer.awaiting} has to answer this offer first")


async def _move(
    session: AsyncSession,
    *,
    offer_id: int,
    expected: OfferStatus,
    now: datetime,
    turn_of: Party | None = None,
    **values: object,
) -> None:
    conditions: list[ColumnElement[bool]] = [Offer.id == offer_id, Offer.status == expected, Offer.expires_at > now]
    if turn_of is not None:
        conditions.append(Offer.awaiting == turn_of)
    result = await session.execute(
        update(Offer).where(*conditions).values(updated_at=now, **values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("offer_changed", "The offer changed meanwhile; reload it")


async def accept(session: AsyncSession, *, actor: User, offer_id: int, now: datetime) -> Offer:
    """The side whose turn it is takes the latest amount; the buyer then has 48 h to check out."""
    offer, party = await load_for_party(session, offer_id=offer_id, actor=actor)
    _require_turn(offer, party, now)
    until = now + OFFER_TTL
    await _move(
        session,
        offer_id=offer.id,
        expected=S.open,
        turn_of=party,
        now=now,
        status=S.accepted,
        accepted_at=now,
        expires_at=until,
        closed_by=party,
    )
    await outbox.emit_wake(session, topic="offers.expire_due", at=until)
    await session.refresh(offer)
    return offer


async def counter(
    session: AsyncSession, *, actor: User, offer_id: int, amount: int, message: str, now: datetime
) -> Offer:
    """The side whose turn it is proposes another amount; the turn passes to the other side."""
    offer, party = await load_for_party(session, offer_id=offer_id, actor=actor)
    _require_turn(offer, party, now)
    if offer.rounds >= MAX_ROUNDS:
        raise Conflict("too_many_counters", f"After {MAX_ROUNDS} proposals, accept or decline")
    sku = await session.get(Sku, offer.sku_id)
    assert sku is not None  # a foreign key
    _check_amount(amount, sku)
    until = now + OFFER_TTL
    await _move(
        session,
        offer_id=offer.id,
        expected=S.open,
        turn_of=party,
        now=now,
        amount=amount,
        awaiting=_other(party),
        rounds=Offer.rounds + 1,
        expires_at=until,
    )
    session.add(
        OfferProposal(
            offer_id=offer.id, made_by=party, actor_id=actor.id, amount=amount, message=message.strip(), created_at=now
        )
    )
    await outbox.emit_wake(session, topic="offers.expire_due", at=until)
    await session.flush()
    await session.refresh(offer)
    return offer


async def decline(session: AsyncSession, *, actor: User, offer_id: int, now: datetime) -> Offer:
    """Either side ends an open negotiation (refusing the other's amount, or withdrawing its own)."""
    offer, party = await load_for_party(session, offer_id=offer_id, actor=actor)
    status = effective_status(offer, now)
    if status != S.open:
        raise _refuse(status)
    await _move(session, offer_id=offer.id, expected=S.open, now=now, status=S.declined, closed_by=party)
    await session.refresh(offer)
    return offer


async def checkout(
    session: AsyncSession, *, actor: User, offer_id: int, terms: CheckoutTerms, now: datetime
) -> PlacedCheckout:
    """The offering buyer buys the item at the agreed amount, once. If that checkout was never
    paid (its order cancelled), the agreement still holds until it expires."""
    offer, party = await load_for_party(session, offer_id=offer_id, actor=actor)
    if party != "buyer":
        raise Forbidden("Only the buyer who made the offer can check it out")
    status = effective_status(offer, now)
    if status == S.ordered:
        if offer.purchase_id is None or await _purchase_live(session, purchase_id=offer.purchase_id):
            raise _refuse(status)
        if offer.expires_at <= now:
            raise _refuse(S.expired)
        claim = and_(Offer.status == S.ordered, Offer.purchase_id == offer.purchase_id)
    elif status == S.accepted:
        claim = Offer.status == S.accepted
    else:
        raise _refuse(status)
    # Claim the agreement first: a second click waits on this row, then finds it taken.
    claimed = await session.execute(
        update(Offer)
        .where(Offer.id == offer.id, claim, Offer.expires_at > now)
        .values(status=S.ordered, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("offer_changed", "The offer changed meanwhile; reload it")
    requests = [LineRequest(sku_id=offer.sku_id, quantity=1, unit_amount=offer.amount)]
    purchase = await place_and_open_payment(
        session, buyer=actor, requests=requests, agreed_currency=offer.currency, terms=terms, now=now, source="offer"
    )
    await session.execute(
        update(Offer)
        .where(Offer.id == offer.id)
        .values(purchase_id=purchase.placed.purchase.id)
        .execution_options(synchronize_session=False)
    )
    return purchase


async def _purchase_live(session: AsyncSession, *, purchase_id: int) -> bool:
    """True while an order of the purchase is not cancelled (pending payment, paid, shipped...)."""
    query = select(exists().where(Order.purchase_id == purchase_id, Order.status != OrderStatus.cancelled))
    return bool((await session.execute(query)).scalar())


async def _expire_lapsed(
    session: AsyncSession, *, now: datetime, buyer_id: int | None = None, sku_id: int | None = None
) -> int:
    conditions: list[ColumnElement[bool]] = [Offer.status.in_(LIVE), Offer.expires_at <= now]
    if buyer_id is not None:
        conditions.append(Offer.buyer_id == buyer_id)
    if sku_id is not None:
        conditions.append(Offer.sku_id == sku_id)
    result = await session.execute(
        update(Offer)
        .where(*conditions)
        .values(status=S.expired, closed_by="system", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def expire_due(session: AsyncSession, *, now: datetime) -> int:
    """Record as expired every live offer past its time. Idempotent."""
    return await _expire_lapsed(session, now=now)


def _status_filter(status: OfferStatus, now: datetime) -> ColumnElement[bool]:
    if status == S.expired:
        return or_(Offer.status == S.expired, and_(Offer.status.in_(LIVE), Offer.expires_at <= now))
    if status in LIVE:
        return and_(Offer.status == status, Offer.expires_at > now)
    return Offer.status == status


async def list_offers(
    session: AsyncSession,
    *,
    now: datetime,
    buyer_id: int | None = None,
    merchant_id: int | None = None,
    status: OfferStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Offer], int]:
    conditions: list[ColumnElement[bool]] = []
    if buyer_id is not None:
        conditions.append(Offer.buyer_id == buyer_id)
    if merchant_id is not None:
        conditions.append(Offer.merchant_id == merchant_id)
    if status is not None:
        conditions.append(_status_filter(status, now))
    rows = await session.execute(select(Offer).where(*conditions).order_by(Offer.id.desc()).limit(limit).offset(offset))
    total = await session.execute(select(func.count()).select_from(Offer).where(*conditions))
    return list(rows.scalars()), int(total.scalar_one())


async def proposals_of(session: AsyncSession, *, offer_ids: Sequence[int]) -> dict[int, list[OfferProposal]]:
    rows = await session.execute(
        select(OfferProposal).where(OfferProposal.offer_id.in_(list(offer_ids))).order_by(OfferProposal.id)
    )
    by_offer: dict[int, list[OfferProposal]] = defaultdict(list)
    for proposal in rows.scalars():
        by_offer[proposal.offer_id].append(proposal)
    return by_offer


async def skus_of(session: AsyncSession, *, sku_ids: Sequence[int]) -> dict[int, Sku]:
    rows = await session.execute(select(Sku).where(Sku.id.in_(list(sku_ids))))
    return {sku.id: sku for sku in rows.scalars()}
