"""Tell a live room about something another domain did (kept here so those domains stay
one call away from the room: `await bid_landed(session, state, auction_id)`)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.auctions.models import Auction
from passerelle.deps import after_commit
from passerelle.live import commerce
from passerelle.state import AppState


async def bid_landed(session: AsyncSession, state: AppState, auction_id: int) -> None:
    """After a bid: publish the auction's new price and end to its room, once committed."""
    auction = await session.get(Auction, auction_id, populate_existing=True)
    if auction is None or auction.room_id is None:
        return
    event = await commerce.record_bid(session, auction=auction, now=state.clock.now())
    live, room_id = state.live, auction.room_id
    if event is not None and live is not None:
        after_commit(session, lambda: live.hub.publish(room_id, event))
