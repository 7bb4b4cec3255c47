"""JSON routes for "make an offer" (C2C): buyers and individual sellers negotiate one item."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog.availability import availability
from passerelle.catalog.schemas import MoneyOut
from passerelle.deps import CurrentUser, RequestLocale, Session, State, UnitOfWorkRoute
from passerelle.http import IdempotencyKey
from passerelle.merchants import service as merchants
from passerelle.offers import service
from passerelle.offers.models import Offer, OfferStatus
from passerelle.offers.schemas import CounterIn, OfferIn, OfferList, OfferOut, ProposalOut
from passerelle.orders.checkout_request import idempotent_checkout
from passerelle.orders.schemas import CheckoutIn, CheckoutOut

router = APIRouter(tags=["offers"], route_class=UnitOfWorkRoute)
Id = Annotated[int, Path(ge=1, le=2**62)]


async def _outs(
    session: AsyncSession, offers: list[Offer], *, viewer: Literal["buyer", "seller"], now: datetime
) -> list[OfferOut]:
    proposals = await service.proposals_of(session, offer_ids=[o.id for o in offers])
    skus = await service.skus_of(session, sku_ids=list({o.sku_id for o in offers}))
    outs = []
    for offer in offers:
        status = service.effective_status(offer, now)
        sku = skus[offer.sku_id]
        awaiting: Literal["buyer", "seller"] | None = None
        if status == OfferStatus.open:
            awaiting = "buyer" if offer.awaiting == "buyer" else "seller"
        outs.append(
            OfferOut(
                id=offer.id,
                status=status,
                sku_id=offer.sku_id,
                merchant_id=offer.merchant_id,
                buyer_id=offer.buyer_id,
                amount=MoneyOut(amount=offer.amount, currency=offer.currency),
                asking_price=MoneyOut(amount=sku.price_amount, currency=offer.currency),
                awaiting=awaiting,
                your_turn=awaiting == viewer,
                rounds=offer.rounds,
                expires_at=offer.expires_at,
                accepted_at=offer.accepted_at,
                closed_by=offer.closed_by,
                purchase_id=offer.purchase_id,
                item=availability(stock=sku.stock, reserved=sku.reserved, sold=sku.sold),
                history=[
                    ProposalOut(
                        made_by="buyer" if p.made_by == "buyer" else "seller",
                        amount=MoneyOut(amount=p.amount, currency=offer.currency),
                        message=p.message,
                        at=p.created_at,
                    )
                    for p in proposals.get(offer.id, [])
                ],
            )
        )
    return outs


async def _out_for(session: AsyncSession, offer_id: int, user: User, now: datetime) -> OfferOut:
    offer, party = await service.load_for_party(session, offer_id=offer_id, actor=user)
    return (await _outs(session, [offer], viewer=party, now=now))[0]


@router.post(
    "/offers",
    status_code=201,
    response_model=OfferOut,
    responses={409: {"description": "offers_c2c_only, offer_already_open, item_sold"}},
)
async def make_offer(body: OfferIn, user: CurrentUser, session: Session, state: State) -> OfferOut:
    """Offer an amount for an individual seller's item; the seller has 48 h to answer."""
    now = state.clock.now()
    offer = await service.make_offer(
        session, buyer=user, sku_id=body.sku_id, amount=body.amount, message=body.message, now=now
    )
    return (await _outs(session, [offer], viewer="buyer", now=now))[0]


@router.get("/offers", response_model=OfferList)
async def my_offers(
    user: CurrentUser,
    session: Session,
    state: State,
    status: OfferStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> OfferList:
    now = state.clock.now()
    offers, total = await service.list_offers(
        session, now=now, buyer_id=user.id, status=status, limit=limit, offset=offset
    )
    return OfferList(items=await _outs(session, offers, viewer="buyer", now=now), total=total)


@router.get("/me/merchants/{merchant_id}/offers", response_model=OfferList)
async def merchant_offers(
    merchant_id: Id,
    user: CurrentUser,
    session: Session,
    state: State,
    status: OfferStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10**6)] = 0,
) -> OfferList:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    now = state.clock.now()
    offers, total = await service.list_offers(
        session, now=now, merchant_id=merchant_id, status=status, limit=limit, offset=offset
    )
    return OfferList(items=await _outs(session, offers, viewer="seller", now=now), total=total)


@router.get("/offers/{offer_id}", response_model=OfferOut)
async def get_offer(offer_id: Id, user: CurrentUser, session: Session, state: State) -> OfferOut:
    return await _out_for(session, offer_id, user, state.clock.now())


@router.post("/offers/{offer_id}/accept", response_model=OfferOut)
async def accept_offer(offer_id: Id, user: CurrentUser, session: Session, state: State) -> OfferOut:
    """Take the other side's latest amount."""
    now = state.clock.now()
    await service.accept(session, actor=user, offer_id=offer_id, now=now)
    return await _out_for(session, offer_id, user, now)


@router.post("/offers/{offer_id}/decline", response_model=OfferOut)
async def decline_offer(offer_id: Id, user: CurrentUser, session: Session, state: State) -> OfferOut:
    """End the negotiation (refuse the other side's amount, or withdraw your own)."""
    now = state.clock.now()
    await service.decline(session, actor=user, offer_id=offer_id, now=now)
    return await _out_for(session, offer_id, user, now)


@router.post("/offers/{offer_id}/counter", response_model=OfferOut)
async def counter_offer(offer_id: Id, body: CounterIn, user: CurrentUser, session: Session, state: State) -> OfferOut:
    """Propose another amount; the other side then has 48 h to answer."""
    now = state.clock.now()
    await service.counter(session, actor=user, offer_id=offer_id, amount=body.amount, message=body.message, now=now)
    return await _out_for(session, offer_id, user, now)


@router.post(
    "/offers/{offer_id}/checkout",
    status_code=201,
    response_model=CheckoutOut,
    responses={409: {"description": "offer_not_accepted, offer_expired, offer_already_used, out_of_stock"}},
)
async def checkout_offer(
    offer_id: Id,
    body: CheckoutIn,
    user: CurrentUser,
    session: Session,
    state: State,
    locale: RequestLocale,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """The offering buyer buys the item at the agreed amount (once)."""

    return await idempotent_checkout(
        session,
        body=body,
        user=user,
        state=state,
        locale=locale,
        key=idempotency_key,
        scope=f"offer:{offer_id}:checkout",
        place=lambda terms: service.checkout(
            session, actor=user, offer_id=offer_id, terms=terms, now=state.clock.now()
        ),
    )
