"""JSON routes of live commerce under /api/v1/live/rooms/{id}: pins, credit split, buy,
in-stream deals and auctions, card clicks, replay events and analytics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.cart import service as carts
from passerelle.deps import CurrentUser, Session, State, UnitOfWorkRoute, after_commit
from passerelle.festival import service as festivals
from passerelle.festival.models import Deal
from passerelle.http import PathId, client_ip
from passerelle.infra.ratelimit import MemoryTokenBucket
from passerelle.live import analytics, commerce, service, ticker
from passerelle.live.api import publish_after_commit
from passerelle.live.commerce_models import LiveRoomDeal
from passerelle.live.commerce_schemas import (
    CartIn,
    ClickIn,
    CreditIn,
    CreditOut,
    PinsOut,
    ReplayEvent,
    ReplayOut,
    RoomAuctionIn,
    RoomDealIn,
)
from passerelle.live.models import LiveRoom
from passerelle.state import AppState

router = APIRouter(prefix="/live", tags=["live"], route_class=UnitOfWorkRoute)
CLICKS = MemoryTokenBucket(rate=2.0, burst=20.0)  # per room and address


def announce_pins(session: AsyncSession, state: AppState, room_id: int, pinned: list[int]) -> None:
    publish_after_commit(session, state, room_id, {"type": "pin", "product_ids": pinned})


@router.get("/rooms/{room_id}/pins", response_model=PinsOut)
async def get_pins(room_id: PathId, session: Session) -> PinsOut:
    await service.get_room(session, room_id)
    return PinsOut(product_ids=await commerce.pins(session, room_id=room_id))


@router.put("/rooms/{room_id}/pins/{product_id}", response_model=PinsOut)
async def pin(room_id: PathId, product_id: PathId, user: CurrentUser, session: Session, state: State) -> PinsOut:
    """Pin a showcased product (at most 3 at a time): every viewer gets its card."""
    room = await commerce.room_for_manager(session, room_id=room_id, actor=user)
    pinned = await commerce.pin(session, room=room, product_id=product_id, now=state.clock.now())
    announce_pins(session, state, room.id, pinned)
    return PinsOut(product_ids=pinned)


@router.delete("/rooms/{room_id}/pins/{product_id}", response_model=PinsOut)
async def unpin(room_id: PathId, product_id: PathId, user: CurrentUser, session: Session, state: State) -> PinsOut:
    room = await commerce.room_for_manager(session, room_id=room_id, actor=user)
    pinned = await commerce.unpin(session, room=room, product_id=product_id, now=state.clock.now())
    announce_pins(session, state, room.id, pinned)
    return PinsOut(product_ids=pinned)


async def _credit_out(session: AsyncSession, room: LiveRoom) -> CreditOut:
    credit = await commerce.attribution(session, room=room)
    return CreditOut(attribution=credit, host_bp=commerce.FULL_BP - sum(c["share_bp"] for c in credit["cohosts"]))


@router.get("/rooms/{room_id}/credit", response_model=CreditOut)
async def get_credit(room_id: PathId, user: CurrentUser, session: Session) -> CreditOut:
    return await _credit_out(session, await commerce.room_for_manager(session, room_id=room_id, actor=user))


@router.put("/rooms/{room_id}/credit", response_model=CreditOut)
async def set_credit(room_id: PathId, body: CreditIn, user: CurrentUser, session: Session) -> CreditOut:
    """How the room's sales are credited between the host and co-hosts (basis points, 10,000 in all)."""
    room = await service.room_for_host(session, room_id=room_id, actor=user)
    shares = {c.user_id: c.share_bp for c in body.cohosts}
    await commerce.set_credit_split(session, room=room, host_bp=body.host_bp, cohosts=shares)
    return await _credit_out(session, room)


async def add_to_cart(session: AsyncSession, *, room: LiveRoom, buyer: User, body: CartIn) -> dict[str, Any]:
    sku = await commerce.sku_for(session, product_id=body.product_id, sku_id=body.sku_id)
    cart = await carts.cart_for(session, user_id=buyer.id, guest_token=None, create=True)
    assert cart is not None
    credit = await commerce.attribution(session, room=room)
    await carts.add_item(session, cart=cart, sku_id=sku.id, quantity=body.quantity, attribution=credit)
    return {"sku_id": sku.id, "quantity": body.quantity, "attribution": credit}


@router.post("/rooms/{room_id}/cart", status_code=201)
async def buy(room_id: PathId, body: CartIn, user: CurrentUser, session: Session) -> dict[str, Any]:
    """ "Buy" on a card: the product goes to the cart credited to the room, its host and co-hosts."""
    room = await service.get_room(session, room_id)
    await commerce.in_showcase(session, room, body.product_id)  # also after the live: replays sell too
    return await add_to_cart(session, room=room, buyer=user, body=body)


@router.post("/rooms/{room_id}/deals", status_code=201)
async def launch_deal(
    room_id: PathId, body: RoomDealIn, user: CurrentUser, session: Session, state: State
) -> dict[str, Any]:
    """A flash deal running from now for 10-300 s; viewers claim with POST /api/v1/deals/{id}/claims."""
    room = await commerce.room_for_manager(session, room_id=room_id, actor=user)
    deal = await commerce.launch_deal(
        session,
        room=room,
        actor=user,
        product_id=body.product_id,
        sku_id=body.sku_id,
        price_amount=body.price_amount,
        stock=body.stock,
        per_buyer_limit=body.per_buyer_limit,
        seconds=body.seconds,
        now=state.clock.now(),
    )
    start_deal_after_commit(session, state, room.id, deal_id=deal.id)
    return commerce.deal_event(deal, product_id=body.product_id, remaining=deal.stock)


def start_deal_after_commit(session: AsyncSession, state: AppState, room_id: int, *, deal_id: int) -> None:
    """Once committed: the engine sells the deal and a ticker tells viewers what is left."""

    async def start() -> None:
        async with state.db.read_sessions() as reading:
            deal = await reading.get(Deal, deal_id)
            found = await reading.get(LiveRoomDeal, deal_id)
        if deal is None or found is None:
            return
        if state.engine is not None:
            await state.engine.arm([festivals.engine_deal(deal)])
        event = commerce.deal_event(deal, product_id=found.product_id, remaining=deal.stock)
        ticker.follow(state, room_id=room_id, deal_id=deal_id, ends_at=deal.ends_at, event=event)

    after_commit(session, start)


@router.post("/rooms/{room_id}/auctions", status_code=201)
async def start_auction(
    room_id: PathId, body: RoomAuctionIn, user: CurrentUser, session: Session, state: State
) -> dict[str, Any]:
    """Auction a showcased C2C item in the room; bids are published to every viewer."""
    room = await commerce.room_for_manager(session, room_id=room_id, actor=user)
    auction = await commerce.start_auction(
        session,
        room=room,
        actor=user,
        product_id=body.product_id,
        starting_amount=body.starting_amount,
        increment_amount=body.increment_amount,
        seconds=body.seconds,
        now=state.clock.now(),
    )
    event = commerce.auction_event(auction, product_id=body.product_id)
    publish_after_commit(session, state, room.id, event)
    return event


@router.post("/rooms/{room_id}/clicks", status_code=204)
async def click(room_id: PathId, body: ClickIn, state: State, request: Request) -> Response:
    """A viewer opened a product card (counted in batches, no session needed; a client
    clicking faster than a person can is not counted)."""
    if state.live is not None and CLICKS.allow(f"{room_id}:{client_ip(request)}")[0]:
        state.live.recorder.clicked(room_id=room_id, product_id=body.product_id)
    return Response(status_code=204)


@router.get("/rooms/{room_id}/replay", response_model=ReplayOut)
async def replay(room_id: PathId, session: Session) -> ReplayOut:
    """Pins, deals, auctions and chat with their offset into the stream, in video order."""
    room = await service.get_room(session, room_id)
    return ReplayOut(
        room_id=room.id,
        went_live_at=room.went_live_at.isoformat() if room.went_live_at else None,
        events=[ReplayEvent(offset_ms=o, event=e) for o, e in await commerce.replay_events(session, room=room)],
    )


@router.get("/rooms/{room_id}/analytics")
async def room_analytics(room_id: PathId, user: CurrentUser, session: Session, state: State) -> dict[str, Any]:
    """Viewers, watch time, chat, card clicks, orders, GMV and conversion per product. The
    host and co-hosts see it all; a merchant's staff see the rows of their own products."""
    room = await service.get_room(session, room_id)
    products = await commerce.analytics_scope(session, room=room, actor=user)
    fx = await state.fx()
    return await analytics.report(
        session,
        room_id=room.id,
        recorder=state.live.recorder if state.live else None,
        now=state.clock.now(),
        fx=fx,
        base=state.settings.base_currency,
        product_ids=products,
    )
