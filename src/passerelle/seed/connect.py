"""The demo's influencer program (Connect): the demo influencers become approved creators with
bank details, five shops run open campaigns (one also gives free samples), and the creators
have tracked links to their products; seed/connect_history.py then plays weeks of clicks,
credited sales, a monthly payout and a click flood through the real services.

Setup goes through the Connect services (application, review, payout details, campaigns,
links). Parts already present are kept: a creator, a shop's open campaign, a creator's links
and the history are each made only when missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts import service as accounts
from passerelle.accounts.models import User
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.connect.models import Campaign, CampaignMember, Click, Commission, Creator, Link
from passerelle.connect.service import campaigns, creators, links, payouts
from passerelle.live.models import LiveRoom
from passerelle.merchants.models import MemberRole, Merchant, MerchantMember, MerchantStatus
from passerelle.seed.connect_history import seed_connect_history
from passerelle.seed.connect_plan import CreatorSeed, ProgramLink, Timeline, timeline
from passerelle.seed.products import load
from passerelle.state import AppState

LINKS_PER_SHOP = 2
# Mid-priced SKUs: a few sales then take a creator past the payout threshold.
PRICE_RANGE = (4000, 30000)
MIN_STOCK = 10


@dataclass(frozen=True)
class Shop:
    merchant: Merchant
    owner: User
    campaign_id: int | None


async def ensure_connect_demo(state: AppState) -> int:
    """Seed the program; returns how many credited past orders were made (0 when already there)."""
    settings = state.settings
    plan = timeline(
        state.clock.now(),
        window_days=settings.connect_return_window_days,
        day=settings.connect_payout_day,
        time_zone=settings.operator_time_zone,
    )
    async with state.db.sessions() as session:
        seeds, sample_campaign = await _ensure_program(session, plan)
        await session.commit()
    made = 0
    if seeds and not await _has_history(state, [s.creator_id for s in seeds]):
        made = await seed_connect_history(state, seeds, plan, sample_campaign=sample_campaign)
    async with state.db.sessions() as session:
        # The server does this at start-up too; done here so the payouts page shows it at once.
        await payouts.ensure_scheduled(
            session, now=state.clock.now(), day=settings.connect_payout_day, time_zone=settings.operator_time_zone
        )
        await session.commit()
    return made


async def _has_history(state: AppState, creator_ids: list[int]) -> bool:
    async with state.db.read_sessions() as session:
        for model in (Click, Commission):
            found = await session.execute(select(model.id).where(model.creator_id.in_(creator_ids)).limit(1))
            if found.first() is not None:
                return True
    return False


async def _ensure_program(session: AsyncSession, plan: Timeline) -> tuple[list[CreatorSeed], int | None]:
    """The creators (with their links) and the sample campaign's id."""
    spec = load("connect.json")
    shops = await _shops(session, spec, plan.start)
    sample_campaign = await _ensure_sample_campaign(session, spec["sample_campaign"], shops, plan.start)
    seeds: list[CreatorSeed] = []
    for person in spec["creators"]:
        user = await accounts.get_by_email(session, email=person["email"])
        if user is None:
            continue
        creator = await _ensure_creator(session, user, person, plan.start - timedelta(days=3))
        made = await _ensure_links(session, creator, person, shops, plan.start)
        seeds.append(CreatorSeed(creator.id, person["referrer"], made))
    return [s for s in seeds if s.sale_links], sample_campaign


async def _shops(session: AsyncSession, spec: dict[str, Any], since: datetime) -> dict[str, Shop]:
    """The program's shops (those of connect.json in this database), each with its open campaign."""
    wanted = [c["merchant"] for c in spec["campaigns"]] + [spec["sample_campaign"]["merchant"]]
    rows = await session.execute(
        select(Merchant, User)
        .join(MerchantMember, (MerchantMember.merchant_id == Merchant.id) & (MerchantMember.role == MemberRole.owner))
        .join(User, User.id == MerchantMember.user_id)
        .where(Merchant.slug.in_(wanted), Merchant.status == MerchantStatus.approved)
    )
    shops = {merchant.slug: Shop(merchant, owner, None) for merchant, owner in rows.all()}
    for terms in spec["campaigns"]:
        shop = shops.get(terms["merchant"])
        if shop is None:
            continue
        existing = (
            await session.execute(
                select(Campaign.id)
                .where(Campaign.merchant_id == shop.merchant.id, Campaign.kind == "open", Campaign.status == "active")
                .order_by(Campaign.id)
                .limit(1)
            )
        ).scalar_one_or_none()
        if existing is None:
            campaign = await campaigns.create(
                session,
                actor=shop.owner,
                merchant_id=shop.merchant.id,
                kind="open",
                title=terms["title"],
                rate_bp=terms["rate_bp"],
                categories=terms["categories"],
            )
            campaign.created_at = since  # the program started with the demo's history
            existing = campaign.id
        shops[terms["merchant"]] = Shop(shop.merchant, shop.owner, existing)
    await session.flush()
    return shops


async def _ensure_sample_campaign(
    session: AsyncSession, terms: dict[str, Any], shops: dict[str, Shop], since: datetime
) -> int | None:
    shop = shops.get(terms["merchant"])
    if shop is None:
        return None
    found = await session.execute(
        select(Campaign.id)
        .where(Campaign.merchant_id == shop.merchant.id, Campaign.kind == "sample")
        .order_by(Campaign.id)
        .limit(1)
    )
    existing = found.scalar_one_or_none()
    if existing is not None:
        return existing
    skus = await _skus(session, shop.merchant.id, limit=1)
    if not skus:
        return None
    campaign = await campaigns.create(
        session,
        actor=shop.owner,
        merchant_id=shop.merchant.id,
        kind="sample",
        title=terms["title"],
        sample_sku_id=skus[0][1],
        sample_stock=terms["stock"],
        categories=["beauty"],
    )
    campaign.created_at = since
    await session.flush()
    return campaign.id


async def _ensure_creator(session: AsyncSession, user: User, person: dict[str, Any], since: datetime) -> Creator:
    creator = await creators.of_user(session, user_id=user.id)
    if creator is None:
        creator = await creators.apply(
            session,
            user=user,
            handle=person["handle"],
            display_name=user.display_name,
            channels=person["channels"],
            posts=person["posts"],
            countries=person["countries"],
            languages=person["languages"],
            categories=person["categories"],
            bio=person["bio"],
        )
        creator.created_at = since
    if creator.status == "applied":
        await creators.review(session, creator_ids=[creator.id], approve=True)
        await session.refresh(creator)
    if not creator.iban:
        # Through the service: the IBAN is checked and stored compact, as a creator's own form does.
        await creators.set_payout_details(session, creator=creator, iban=person["iban"], holder=person["holder"])
    return creator


async def _skus(session: AsyncSession, merchant_id: int, *, limit: int) -> list[tuple[int, int]]:
    """(product id, SKU id) of the merchant's first published products with a mid-priced SKU in stock."""
    rows = await session.execute(
        select(Product.id, Sku.id)
        .join(Sku, Sku.product_id == Product.id)
        .where(
            Product.merchant_id == merchant_id,
            Product.status == ProductStatus.published,
            Product.min_order_quantity == 1,
            Sku.stock >= MIN_STOCK,
            Sku.price_amount.between(*PRICE_RANGE),
        )
        .order_by(Product.id, Sku.price_amount.desc(), Sku.id)
    )
    picked: dict[int, int] = {}
    for product_id, sku_id in rows.all():
        picked.setdefault(product_id, sku_id)
        if len(picked) == limit:
            break
    return list(picked.items())


async def _ensure_links(
    session: AsyncSession, creator: Creator, person: dict[str, Any], shops: dict[str, Shop], since: datetime
) -> list[ProgramLink]:
    made = await links.links_of(session, creator_id=creator.id)
    if not made:
        for slug in person["merchants"]:
            shop = shops.get(slug)
            if shop is None or shop.campaign_id is None:
                continue
            for product_id, _sku in await _skus(session, shop.merchant.id, limit=LINKS_PER_SHOP):
                made.append(
                    await links.create_link(
                        session,
                        creator=creator,
                        target_kind="product",
                        target_id=product_id,
                        campaign_id=shop.campaign_id,
                    )
                )
        room = (
            await session.execute(
                select(LiveRoom.id).where(LiveRoom.host_id == creator.user_id).order_by(LiveRoom.id).limit(1)
            )
        ).scalar_one_or_none()
        if person["room_link"] and room is not None:
            made.append(await links.create_link(session, creator=creator, target_kind="room", target_id=room))
        for link in made:
            link.created_at = since
        # Joining through a link dates the membership now; the demo's creators joined at the start.
        members = await session.execute(select(CampaignMember).where(CampaignMember.creator_id == creator.id))
        for member in members.scalars():
            member.joined_at = since
        await session.flush()
    return [await _program_link(session, link) for link in sorted(made, key=lambda link: link.id)]


async def _program_link(session: AsyncSession, link: Link) -> ProgramLink:
    sku_id: int | None = None
    if link.target_kind == "product":
        sku_id = (
            await session.execute(
                select(Sku.id)
                .where(Sku.product_id == link.target_id, Sku.stock >= 1, Sku.price_amount.between(*PRICE_RANGE))
                .order_by(Sku.price_amount.desc(), Sku.id)
                .limit(1)
            )
        ).scalar_one_or_none()
    return ProgramLink(link.id, link.creator_id, link.campaign_id, link.merchant_id, sku_id, link.url)
