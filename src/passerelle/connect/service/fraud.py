"""Fraud rules. A rule never blocks a sale: it flags for review and holds the commission.

- self_referral: the buyer is the credited creator.
- click_flood: one address exceeded the click cap on a link (flagged by the click flusher).
- refund_abuse: most of a creator's attributed orders come back.
- code_leak: a promo code suddenly used far more than usual (codes posted on coupon sites).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.models import Commission, Creator, FraudFlag

REFUND_ABUSE_MIN_ORDERS = 10
REFUND_ABUSE_SHARE = 0.5
LEAK_MIN_USES = 20
LEAK_FACTOR = 5


def is_refund_abuse(*, commissions: int, reversed_: int) -> bool:
    return commissions >= REFUND_ABUSE_MIN_ORDERS and reversed_ >= REFUND_ABUSE_SHARE * commissions


def is_code_leak(*, uses_last_day: int, uses_week_before: int) -> bool:
    return uses_last_day >= LEAK_MIN_USES and uses_last_day > LEAK_FACTOR * max(uses_week_before / 7, 1)


async def flag(
    session: AsyncSession, *, kind: str, subject: str, creator_id: int | None, detail: dict[str, Any]
) -> bool:
    """Open a flag once per (kind, subject). Returns True when it is new."""
    exists = await session.execute(select(FraudFlag.id).where(FraudFlag.kind == kind, FraudFlag.subject == subject))
    if exists.first() is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(FraudFlag(kind=kind, subject=subject[:80], creator_id=creator_id, detail=detail))
    except IntegrityError:
        return False
    return True


async def hold_reason(session: AsyncSession, *, creator: Creator, buyer_id: int, order_id: int) -> str:
    if creator.user_id is not None and creator.user_id == buyer_id:
        await flag(
            session,
            kind="self_referral",
            subject=f"order:{order_id}:creator:{creator.id}",
            creator_id=creator.id,
            detail={"order_id": order_id},
        )
        return "self_referral"
    under_review = await session.execute(
        select(FraudFlag.id).where(FraudFlag.creator_id == creator.id, FraudFlag.status == "open").limit(1)
    )
    return "under_review" if under_review.first() is not None else ""


async def check_refund_abuse(session: AsyncSession, *, order_id: int) -> None:
    creator_ids = (
        await session.execute(select(Commission.creator_id).where(Commission.order_id == order_id).distinct())
    ).scalars()
    for creator_id in list(creator_ids):
        total, reversed_ = (
            await session.execute(
                select(func.count(), func.sum(case((Commission.status == "reversed", 1), else_=0))).where(
                    Commission.creator_id == creator_id, Commission.kind == "sale"
                )
            )
        ).one()
        reversed_ = int(reversed_ or 0)
        if is_refund_abuse(commissions=int(total), reversed_=reversed_):
            await flag(
                session,
                kind="refund_abuse",
                subject=f"creator:{creator_id}",
                creator_id=creator_id,
                detail={"commissions": int(total), "reversed": reversed_},
            )


async def check_code_leak(session: AsyncSession, *, order_id: int, now: datetime) -> None:
    """A code used LEAK_FACTOR times more in the last day than its daily average of the week before."""
    rows = await session.execute(
        select(Commission.creator_id, Commission.detail).where(
            Commission.order_id == order_id, Commission.rule == "promo_code"
        )
    )
    for creator_id, detail in rows.all():
        code = str(detail.get("code", ""))
        if not code:
            continue
        uses = select(func.count(func.distinct(Commission.order_id))).where(
            Commission.creator_id == creator_id, Commission.rule == "promo_code"
        )
        last_day = (await session.execute(uses.where(Commission.created_at >= now - timedelta(days=1)))).scalar_one()
        week = (
            await session.execute(
                uses.where(
                    Commission.created_at >= now - timedelta(days=8), Commission.created_at < now - timedelta(days=1)
                )
            )
        ).scalar_one()
        if is_code_leak(uses_last_day=int(last_day), uses_week_before=int(week)):
            await flag(
                session,
                kind="code_leak",
                subject=f"code:{code}",
                creator_id=creator_id,
                detail={"uses_last_day": int(last_day), "uses_week_before": int(week)},
            )


async def open_flags(session: AsyncSession, *, limit: int = 200) -> list[FraudFlag]:
    rows = await session.execute(
        select(FraudFlag).where(FraudFlag.status == "open").order_by(FraudFlag.id.desc()).limit(limit)
    )
    return list(rows.scalars())
