"""Demo live rooms: one live now (chat open, no video until someone pushes a stream) and one
scheduled later, hosted by the demo influencer with products from the demo shops."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, insert, select

from passerelle.accounts.models import Role, User
from passerelle.catalog.models import Product, ProductStatus
from passerelle.live import service as live
from passerelle.live.models import LiveChatMessage, LiveRoom, RoomStatus
from passerelle.state import AppState

CHAT = (
    "Bonsoir tout le monde !",
    "Le parfum à la rose, il tient longtemps ?",
    "Toute la soirée, promis 🌹",
    "Is there an English version of the box?",
)


async def ensure_live_rooms(state: AppState) -> int:
    """Create the demo rooms unless rooms exist. Returns how many were created."""
    now = state.clock.now()
    async with state.db.sessions() as session:
        if (await session.execute(select(func.count()).select_from(LiveRoom))).scalar_one():
            return 0
        people = list((await session.execute(select(User).order_by(User.id))).scalars())
        host = next((u for u in people if u.role == Role.influencer), None)
        buyers = [u for u in people if u.role == Role.buyer][:2]
        if host is None:
            return 0
        products = list(
            (
                await session.execute(
                    select(Product.id).where(Product.status == ProductStatus.published).order_by(Product.id).limit(12)
                )
            ).scalars()
        )
        on_now, _ = await live.create_room(
            session,
            host=host,
            title="Live 11.11 — parfums et coffrets",
            language="fr",
            starts_at=now - timedelta(minutes=10),
            cohosts=[u.id for u in buyers[:1]],
            product_ids=products[:6],
        )
        on_now.status = RoomStatus.live
        on_now.went_live_at = now - timedelta(minutes=10)
        await live.create_room(
            session,
            host=host,
            title="Tea tasting live (English)",
            language="en",
            starts_at=now + timedelta(hours=2),
            product_ids=products[6:12],
        )
        if buyers:
            rows = [
                {
                    "room_id": on_now.id,
                    "user_id": buyers[i % len(buyers)].id if i != 2 else host.id,
                    "uid": f"seed-{on_now.id}-{i}",
                    "author": (buyers[i % len(buyers)] if i != 2 else host).display_name,
                    "body": text,
                    "sent_at": now - timedelta(minutes=5 - i),
                }
                for i, text in enumerate(CHAT)
            ]
            await session.execute(insert(LiveChatMessage), rows)
        await session.commit()
        return 2
