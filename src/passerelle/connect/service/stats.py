"""Dashboard figures. Each function is scoped to one owner: a creator, a merchant, or the operator."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.models import Campaign, CampaignMember, Click, Commission, Creator, FraudFlag, Payout

NET = Commission.amount - Commission.reversed_amount


async def _clicks_by_day(
    session: AsyncSession, *, creator_id: int, now: datetime, days: int = 30
) -> list[dict[str, Any]]:
    since = now - timedelta(days=days - 1)
    day = func.date(Click.at)
    rows = await session.execute(
        select(day, func.count()).where(Click.creator_id == creator_id, Click.at >= since).group_by(day).order_by(day)
    )
    counted = {str(d): int(n) for d, n in rows.all()}
    # Every day of the period, zeros included, so a chart reads as a period and not as a dot.
    period = [(since + timedelta(days=i)).date().isoformat() for i in range(days)]
    return [{"day": day, "clicks": counted.get(day, 0)} for day in period]


async def creator(session: AsyncSession, *, creator_id: int, now: datetime) -> dict[str, Any]:
    clicks = (await session.execute(select(Creator.clicks).where(Creator.id == creator_id))).scalar_one()
    orders = (
        await session.execute(
            select(func.count(func.distinct(Commission.order_id))).where(
                Commission.creator_id == creator_id, Commission.kind == "sale"
            )
        )
    ).scalar_one()
    earnings: dict[str, dict[str, int]] = {}
    rows = await session.execute(
        select(Commission.status, Commission.currency, func.sum(NET))
        .where(Commission.creator_id == creator_id)
        .group_by(Commission.status, Commission.currency)
    )
    for status, currency, total in rows.all():
        earnings.setdefault(status, {})[currency] = int(total or 0)
    recent = await session.execute(
        select(Commission).where(Commission.creator_id == creator_id).order_by(Commission.id.desc()).limit(50)
    )
    return {
        "clicks": int(clicks),
        "orders": int(orders),
        "conversion_bp": int(orders) * 10_000 // int(clicks) if clicks else 0,
        "earnings": earnings,
        "clicks_by_day": await _clicks_by_day(session, creator_id=creator_id, now=now),
        "commissions": [
            {
                "id": c.id,
                "order_id": c.order_id,
                "status": c.status,
                "rule": c.rule,
                "amount": c.amount - c.reversed_amount,
                "currency": c.currency,
                "rate_bp": c.rate_bp,
                "hold_reason": c.hold_reason,
                "created_at": c.created_at.isoformat(),
            }
            for c in recent.scalars()
        ],
    }


async def merchant(session: AsyncSession, *, merchant_id: int) -> dict[str, Any]:
    members = (
        await session.execute(
            select(func.count(func.distinct(CampaignMember.creator_id)))
            .join(Campaign, Campaign.id == CampaignMember.campaign_id)
            .where(Campaign.merchant_id == merchant_id, CampaignMember.status == "active")
        )
    ).scalar_one()
    by_creator = await session.execute(
        select(Creator.handle, Commission.currency, func.sum(Commission.base_amount), func.sum(NET))
        .join(Creator, Creator.id == Commission.creator_id)
        .where(Commission.merchant_id == merchant_id, Commission.kind == "sale", Commission.status != "reversed")
        .group_by(Creator.handle, Commission.currency)
        .order_by(func.sum(Commission.base_amount).desc())
        .limit(50)
    )
    by_room = await session.execute(
        select(Commission.room_id, Commission.currency, func.sum(Commission.base_amount))
        .where(
            Commission.merchant_id == merchant_id,
            Commission.room_id.is_not(None),
            Commission.rule == "live_room_host",
            Commission.status != "reversed",
        )
        .group_by(Commission.room_id, Commission.currency)
        .limit(50)
    )
    return {
        "creators": int(members),
        "gmv_by_creator": [
            {"handle": h, "currency": cur, "gmv": int(g or 0), "commission": int(c or 0)}
            for h, cur, g, c in by_creator.all()
        ],
        "gmv_by_room": [{"room_id": r, "currency": cur, "gmv": int(g or 0)} for r, cur, g in by_room.all()],
    }


async def operator(session: AsyncSession) -> dict[str, Any]:
    creators = dict((await session.execute(select(Creator.status, func.count()).group_by(Creator.status))).all())
    tiers = dict(
        (
            await session.execute(
                select(Creator.tier, func.count()).where(Creator.status == "approved").group_by(Creator.tier)
            )
        ).all()
    )
    commissions: dict[str, dict[str, int]] = {}
    for status, currency, total in (
        await session.execute(
            select(Commission.status, Commission.currency, func.sum(NET)).group_by(
                Commission.status, Commission.currency
            )
        )
    ).all():
        commissions.setdefault(status, {})[currency] = int(total or 0)
    paid = dict(
        (await session.execute(select(Payout.currency, func.sum(Payout.amount)).group_by(Payout.currency))).all()
    )
    flags = (await session.execute(select(func.count()).where(FraudFlag.status == "open"))).scalar_one()
    clicks = (await session.execute(select(func.coalesce(func.sum(Creator.clicks), 0)))).scalar_one()
    return {
        "creators": {k: int(v) for k, v in creators.items()},
        "tiers": {k or "-": int(v) for k, v in tiers.items()},
        "clicks": int(clicks),
        "commissions": commissions,
        "paid_out": {k: int(v) for k, v in paid.items()},
        "open_flags": int(flags),
    }
