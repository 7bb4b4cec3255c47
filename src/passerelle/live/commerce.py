"""Selling in a live room: pins, the credit split and attribution, in-stream flash deals,
auctions, and the replay log. Module functions; they never commit (the request does).

Attribution (read by the influencer program; keep the shape):
    {"room_id": 3, "host_id": 7, "cohosts": [{"user_id": 9, "share_bp": 2500}]}
The host's share is 10,000 minus the co-hosts' shares.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.auctions import service as auctions
from passerelle.auctions.models import Auction
from passerelle.catalog.models import Product, Sku
from passerelle.errors import Conflict, DomainError, Invalid, NotFound
from passerelle.festival import service as festivals
from passerelle.festival.models import Deal, Festival
from passerelle.live import service
from passerelle.live.commerce_models import AIR_EVENT, LiveCreditSplit, LiveEvent, LivePin, LiveRoomDeal
from passerelle.live.models import LiveChatMessage, LiveRoom, MemberRole, RoomStatus
from passerelle.merchants import service as merchants

MAX_PINS = 3
FULL_BP = 10_000
DEAL_SECONDS = (10, 300)


class NotRoomManager(DomainError):
    status_code = 403

    def __init__(self) -> None:
        super().__init__("not_room_manager", "Only the room's host, co-hosts and moderators may do this")


async def room_for_manager(session: AsyncSession, *, room_id: int, actor: User) -> LiveRoom:
    room = await service.get_room(session, room_id)
    if not await service.is_moderator(session, room=room, user_id=actor.id):
        raise NotRoomManager()
    return room


def _selling(room: LiveRoom) -> None:
    if room.status == RoomStatus.ended:
        raise Conflict("room_ended", "This room has ended")


async def in_showcase(session: AsyncSession, room: LiveRoom, product_id: int) -> None:
    if product_id not in await service.showcase(session, room_id=room.id):
        raise Invalid("not_in_showcase", "Add the product to the room's showcase first", field="product_id")


# --- attribution --------------------------------------------------------------------------


async def credit_split(session: AsyncSession, *, room: LiveRoom) -> dict[int, int]:
    """Co-host id -> basis points (only co-hosts still in the room)."""
    found = await session.get(LiveCreditSplit, room.id)
    cohosts = {u.id for u, role in await service.members(session, room_id=room.id) if role == MemberRole.cohost}
    shares = found.cohost_shares if found else {}
    return {int(u): int(bp) for u, bp in shares.items() if int(u) in cohosts}


async def set_credit_split(session: AsyncSession, *, room: LiveRoom, host_bp: int, cohosts: dict[int, int]) -> None:
    members = {u.id for u, role in await service.members(session, room_id=room.id) if role == MemberRole.cohost}
    if any(u not in members for u in cohosts):
        raise Invalid("not_a_cohost", "Shares go to the room's co-hosts only", field="cohosts")
    if host_bp < 0 or any(bp < 0 for bp in cohosts.values()) or host_bp + sum(cohosts.values()) != FULL_BP:
        raise Invalid("invalid_split", "Shares are basis points that add up to 10,000", field="cohosts")
    found = await session.get(LiveCreditSplit, room.id)
    shares = {str(u): bp for u, bp in cohosts.items() if bp}
    if found is None:
        session.add(LiveCreditSplit(room_id=room.id, cohost_shares=shares))
    else:
        found.cohost_shares = shares
    await session.flush()


async def attribution(session: AsyncSession, *, room: LiveRoom) -> dict[str, Any]:
    shares = await credit_split(session, room=room)
    return {
        "room_id": room.id,
        "host_id": room.host_id,
        "cohosts": [{"user_id": u, "share_bp": bp} for u, bp in sorted(shares.items())],
    }


async def deal_attribution(session: AsyncSession, *, deal_id: int) -> dict[str, Any] | None:
    """The attribution of a deal launched in a room (None for other deals)."""
    found = await session.get(LiveRoomDeal, deal_id)
    return dict(found.attribution) if found else None


# --- the replay log -----------------------------------------------------------------------


def offset_ms(room: LiveRoom, now: datetime) -> int:
    """Milliseconds into the stream (the recording starts when the room first went live)."""
    start = room.went_live_at or now
    return max(0, int((now - start).total_seconds() * 1000))


def log_event(session: AsyncSession, *, room: LiveRoom, now: datetime, event: dict[str, Any]) -> None:
    session.add(LiveEvent(room_id=room.id, offset_ms=offset_ms(room, now), at=now, payload=event))


class AirClock:
    """Wall time -> milliseconds into the recording, which holds only on-air time: after the
    encoder drops and comes back, later events are not shifted by the gap. A time while off
    air maps to where the recording paused. Rooms without air events (older rooms) keep the
    wall-clock offsets stored with each event."""

    def __init__(self, spans: list[tuple[datetime, datetime | None]]) -> None:
        self.spans = spans  # (on, off or None while still on air), in order

    @classmethod
    def from_events(cls, events: list[LiveEvent]) -> AirClock | None:
        spans: list[tuple[datetime, datetime | None]] = []
        for event in events:
            if event.payload.get("on"):
                if not spans or spans[-1][1] is not None:
                    spans.append((event.at, None))
            elif spans and spans[-1][1] is None:
                spans[-1] = (spans[-1][0], event.at)
        return cls(spans) if spans else None

    def offset_ms(self, at: datetime) -> int:
        total = 0.0
        for on, off in self.spans:
            if at <= on:
                break
            total += ((min(at, off) if off is not None else at) - on).total_seconds()
        return int(total * 1000)


async def replay_events(session: AsyncSession, *, room: LiveRoom) -> list[tuple[int, dict[str, Any]]]:
    """(offset ms into the recording, event) of the logged events and the chat, in video order."""
    query = select(LiveEvent).where(LiveEvent.room_id == room.id).order_by(LiveEvent.at, LiveEvent.id)
    logged = list((await session.execute(query)).scalars())
    air = AirClock.from_events([e for e in logged if e.payload.get("type") == AIR_EVENT])
    found = [
        (air.offset_ms(e.at) if air else e.offset_ms, dict(e.payload))
        for e in logged
        if e.payload.get("type") != AIR_EVENT
    ]
    chat = select(LiveChatMessage).where(LiveChatMessage.room_id == room.id).order_by(LiveChatMessage.id)
    for m in (await session.execute(chat.limit(5000))).scalars():
        person = {"id": m.user_id, "name": m.author} if m.user_id is not None else None
        message = {"type": "message", "id": m.uid, "user": person, "text": m.body}
        found.append((air.offset_ms(m.sent_at) if air else offset_ms(room, m.sent_at), message))
    found.sort(key=lambda pair: pair[0])  # stable: same-time events keep their order
    return found


async def analytics_scope(session: AsyncSession, *, room: LiveRoom, actor: User) -> set[int] | None:
    """None (everything) for the host and co-hosts; a merchant's staff get their own
    showcased products; anyone else is refused."""
    if actor.id == room.host_id:
        return None
    for user, role in await service.members(session, room_id=room.id):
        if user.id == actor.id and role == MemberRole.cohost:
            return None
    mine = {m.id for m, _ in await merchants.merchants_of(session, user=actor)}
    showcased = await service.showcase(session, room_id=room.id)
    rows = await session.execute(select(Product.id, Product.merchant_id).where(Product.id.in_(showcased)))
    own = {product_id for product_id, merchant_id in rows.all() if merchant_id in mine}
    if not own:
        raise DomainError("not_room_analyst", "Only the room's hosts and its merchants see its figures", status=403)
    return own


# --- pins ---------------------------------------------------------------------------------


async def pins(session: AsyncSession, *, room_id: int) -> list[int]:
    query = select(LivePin.product_id).where(LivePin.room_id == room_id).order_by(LivePin.pinned_at)
    return list((await session.execute(query)).scalars())


async def pin(session: AsyncSession, *, room: LiveRoom, product_id: int, now: datetime) -> list[int]:
    _selling(room)
    await in_showcase(session, room, product_id)
    if await session.get(LivePin, (room.id, product_id)) is None:
        count = select(func.count()).select_from(LivePin).where(LivePin.room_id == room.id)
        if int((await session.execute(count)).scalar_one()) >= MAX_PINS:
            raise Conflict("too_many_pins", f"At most {MAX_PINS} products are pinned at a time; unpin one first")
        session.add(LivePin(room_id=room.id, product_id=product_id, pinned_at=now))
        await session.flush()
    pinned = await pins(session, room_id=room.id)
    log_event(session, room=room, now=now, event={"type": "pin", "product_ids": pinned})
    return pinned


async def unpin(session: AsyncSession, *, room: LiveRoom, product_id: int, now: datetime) -> list[int]:
    await session.execute(delete(LivePin).where(LivePin.room_id == room.id, LivePin.product_id == product_id))
    pinned = await pins(session, room_id=room.id)
    log_event(session, room=room, now=now, event={"type": "pin", "product_ids": pinned})
    return pinned


async def sku_for(session: AsyncSession, *, product_id: int, sku_id: int | None = None) -> Sku:
    """The SKU asked for, else the product's first one."""
    query = select(Sku).where(Sku.product_id == product_id)
    if sku_id is not None:
        query = query.where(Sku.id == sku_id)
    found = (await session.execute(query.order_by(Sku.position, Sku.id).limit(1))).scalar_one_or_none()
    if found is None:
        raise NotFound("sku")
    return found


# --- in-stream flash deals ----------------------------------------------------------------


async def _festival_for(session: AsyncSession, *, room: LiveRoom, starts_at: datetime, ends_at: datetime) -> Festival:
    """A festival covering the deal, else a short "live shopping" window made for it: room
    deals never wait for an operator to open a festival."""
    running = (
        await session.execute(
            select(Festival)
            .where(Festival.starts_at <= starts_at, Festival.ends_at >= ends_at)
            .order_by(Festival.starts_at)
            .limit(1)
        )
    ).scalar_one_or_none()
    if running is not None:
        return running
    window = Festival(
        name=f"Live shopping · {room.title}"[:120],
        slug=f"live-{room.id}-{int(starts_at.timestamp() * 1000)}",
        starts_at=starts_at,
        ends_at=ends_at,
        time_zone="UTC",
    )
    session.add(window)
    await session.flush()
    return window


async def launch_deal(
    session: AsyncSession,
    *,
    room: LiveRoom,
    actor: User,
    product_id: int,
    price_amount: int,
    stock: int,
    per_buyer_limit: int,
    seconds: int,
    now: datetime,
    sku_id: int | None = None,
) -> Deal:
    """A flash deal running now for `seconds`, armed at once (the engine learns it after
    commit). The actor must be staff of the merchant selling the SKU."""
    _selling(room)
    await in_showcase(session, room, product_id)
    if not DEAL_SECONDS[0] <= seconds <= DEAL_SECONDS[1]:
        raise Invalid("invalid_duration", "A live deal lasts 10 to 300 seconds", field="seconds")
    sku = await sku_for(session, product_id=product_id, sku_id=sku_id)
    ends_at = now + timedelta(seconds=seconds)
    festival = await _festival_for(session, room=room, starts_at=now, ends_at=ends_at)
    deal = await festivals.create_deal(
        session,
        actor=actor,
        merchant_id=sku.merchant_id,
        festival_id=festival.id,
        sku_id=sku.id,
        price_amount=price_amount,
        stock=stock,
        per_buyer_limit=per_buyer_limit,
        starts_at=now,
        ends_at=ends_at,
        hold_seconds=600,
    )
    await festivals.arm_deal(session, actor=actor, deal_id=deal.id)
    credit = await attribution(session, room=room)
    session.add(LiveRoomDeal(deal_id=deal.id, room_id=room.id, product_id=product_id, attribution=credit))
    log_event(session, room=room, now=now, event=deal_event(deal, product_id=product_id, remaining=deal.stock))
    await session.flush()
    return deal


def deal_event(deal: Deal, *, product_id: int, remaining: int) -> dict[str, Any]:
    return {
        "type": "deal",
        "deal_id": deal.id,
        "product_id": product_id,
        "remaining": remaining,
        "stock": deal.stock,
        "price": {"amount": deal.price_amount, "currency": deal.currency},
        "per_buyer_limit": deal.per_buyer_limit,
        "ends_at": deal.ends_at.isoformat(),
    }


async def room_deals(session: AsyncSession, *, room_id: int, now: datetime | None = None) -> list[tuple[Deal, int]]:
    """(deal, product id) of the room's deals, the running ones only when `now` is given."""
    query = select(Deal, LiveRoomDeal.product_id).join(LiveRoomDeal, LiveRoomDeal.deal_id == Deal.id)
    query = query.where(LiveRoomDeal.room_id == room_id)
    if now is not None:
        query = query.where(Deal.starts_at <= now, Deal.ends_at > now)
    return [(d, p) for d, p in (await session.execute(query.order_by(Deal.id))).all()]


# --- auctions -----------------------------------------------------------------------------


async def start_auction(
    session: AsyncSession,
    *,
    room: LiveRoom,
    actor: User,
    product_id: int,
    starting_amount: int,
    increment_amount: int,
    seconds: int,
    now: datetime,
) -> Auction:
    _selling(room)
    await in_showcase(session, room, product_id)
    sku = await sku_for(session, product_id=product_id)
    auction = await auctions.create(
        session,
        actor=actor,
        merchant_id=sku.merchant_id,
        sku_id=sku.id,
        starting_amount=starting_amount,
        increment_amount=increment_amount,
        starts_at=now,
        ends_at=now + timedelta(seconds=seconds),
        room_id=room.id,
        snipe_window_seconds=10,
        extend_seconds=10,
    )
    log_event(session, room=room, now=now, event=auction_event(auction, product_id=product_id))
    return auction


def auction_event(auction: Auction, *, product_id: int | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "auction",
        "auction_id": auction.id,
        "price": {"amount": auction.price_amount or auction.starting_amount, "currency": auction.currency},
        "ends_at": auction.ends_at.isoformat(),
        "bids": auction.bids_count,
        "status": auction.status.value,
    }
    if product_id is not None:
        event["product_id"] = product_id
    return event


async def room_auctions(session: AsyncSession, *, room_id: int) -> list[Auction]:
    query = select(Auction).where(Auction.room_id == room_id).order_by(Auction.id)
    return list((await session.execute(query)).scalars())


async def record_bid(session: AsyncSession, *, auction: Auction, now: datetime) -> dict[str, Any] | None:
    """After a bid on an auction run in a room: the event to publish (and keep for replay)."""
    if auction.room_id is None:
        return None
    room = await session.get(LiveRoom, auction.room_id)
    if room is None:
        return None
    event = auction_event(auction)
    log_event(session, room=room, now=now, event=event)
    return event


async def sku_by_id(session: AsyncSession, sku_id: int) -> Sku:
    found = await session.get(Sku, sku_id)
    if found is None:
        raise NotFound("sku")
    return found


async def merchant_currency(session: AsyncSession, merchant_id: int) -> str | None:
    merchant = await merchants.get(session, merchant_id=merchant_id)
    return merchant.currency
