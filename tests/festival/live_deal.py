"""A festival running now with one live deal, set up through the services for tests that
drive a real `passerelle serve`."""

from __future__ import annotations

from datetime import timedelta

from passerelle.bench.fixtures import make_buyers, make_catalog
from passerelle.db.base import utcnow
from passerelle.festival import service as festivals
from passerelle.state import AppState


async def festival_with_live_deal(state: AppState, out: dict[str, object], stock: int) -> None:
    """A running festival with one armed deal of `stock` units and 40 buyers: fills
    out["deal_id"] and out["tokens"] (bearer tokens)."""
    from sqlalchemy import select

    from passerelle.accounts.models import Role, User
    from passerelle.merchants.models import MerchantMember

    catalog = await make_catalog(state, merchants_count=1, products_each=2)
    out["tokens"] = await make_buyers(state, 40)
    now = utcnow()
    async with state.db.sessions() as session:
        operator = (await session.execute(select(User).where(User.role == Role.operator))).scalars().first()
        member = (await session.execute(select(MerchantMember).limit(1))).scalar_one()
        seller = await session.get(User, member.user_id)
        assert operator is not None and seller is not None
        fest = await festivals.create_festival(
            session,
            actor=operator,
            name="Crash",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=2),
            time_zone="UTC",
        )
        deal = await festivals.create_deal(
            session,
            actor=seller,
            merchant_id=member.merchant_id,
            festival_id=fest.id,
            sku_id=catalog.sku_ids[0],
            price_amount=100,
            stock=stock,
            per_buyer_limit=1000,
            starts_at=now - timedelta(minutes=1),
            ends_at=now + timedelta(hours=1),
        )
        await festivals.arm_deal(session, actor=seller, deal_id=deal.id)
        await session.commit()
        out["deal_id"] = deal.id
