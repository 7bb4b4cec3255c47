"""Short links to a product, a store or a live room, and personal promo codes."""

from __future__ import annotations

import secrets
import string
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog.models import Product
from passerelle.connect.models import Campaign, Creator, Link, PromoCode
from passerelle.connect.service import campaigns
from passerelle.db.base import utcnow
from passerelle.errors import Invalid, NotFound
from passerelle.festival import coupons
from passerelle.merchants.models import Merchant

ALPHABET = string.ascii_letters + string.digits
TARGETS = frozenset({"product", "store", "room"})


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


async def create_link(
    session: AsyncSession, *, creator: Creator, target_kind: str, target_id: int, campaign_id: int | None = None
) -> Link:
    if target_kind not in TARGETS:
        raise Invalid("invalid_target", "A link points to a product, a store or a live room", field="target_kind")
    merchant_id: int | None
    if target_kind == "product":
        product = await session.get(Product, target_id)
        if product is None:
            raise NotFound("product")
        merchant_id, url = product.merchant_id, f"/p/{product.id}"
    elif target_kind == "store":
        merchant = await session.get(Merchant, target_id)
        if merchant is None:
            raise NotFound("store")
        merchant_id, url = merchant.id, f"/m/{merchant.slug}"
    else:
        merchant_id, url = None, f"/live/{target_id}"
    if campaign_id is not None:
        campaign = await session.get(Campaign, campaign_id)
        if campaign is None or (merchant_id is not None and campaign.merchant_id != merchant_id):
            raise Invalid("invalid_campaign", "This campaign is not the target's merchant's", field="campaign_id")
        if campaign.kind == "open":
            # Promoting an open campaign is joining it: later rate cuts then wait out the notice.
            await campaigns.join(session, creator=creator, campaign_id=campaign.id, now=utcnow())
    link = Link(
        code=new_code(),
        creator_id=creator.id,
        campaign_id=campaign_id,
        merchant_id=merchant_id,
        target_kind=target_kind,
        target_id=target_id,
        url=url,
    )
    session.add(link)
    await session.flush()
    return link


async def links_of(session: AsyncSession, *, creator_id: int) -> list[Link]:
    rows = await session.execute(select(Link).where(Link.creator_id == creator_id).order_by(Link.id.desc()).limit(200))
    return list(rows.scalars())


async def create_promo_code(
    session: AsyncSession,
    *,
    actor: User,
    campaign_id: int,
    creator_id: int,
    code: str,
    discount_amount: int,
    min_spend_amount: int,
    starts_at: datetime,
    ends_at: datetime,
) -> PromoCode:
    """A merchant gives a creator a personal code: a merchant-funded coupon that credits the creator."""
    campaign = await session.get(Campaign, campaign_id)
    creator = await session.get(Creator, creator_id)
    if campaign is None or creator is None or creator.status != "approved":
        raise NotFound("campaign or creator")
    coupon = await coupons.create_coupon(
        session,
        actor=actor,  # create_coupon checks the actor is the merchant's staff
        code=code,
        merchant_id=campaign.merchant_id,
        currency=campaign.currency,
        min_spend_amount=min_spend_amount,
        discount_amount=discount_amount,
        total_limit=None,
        per_buyer_limit=1,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    promo = PromoCode(code=coupon.code, creator_id=creator.id, campaign_id=campaign.id, coupon_id=coupon.id)
    session.add(promo)
    await session.flush()
    return promo
