"""Gathers what the pure rules need for one paid order (clicks, promo code, live room, rates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import Product
from passerelle.connect import rules
from passerelle.connect.models import Campaign, Click, Commission, Creator, Link, PromoCode
from passerelle.connect.service import campaigns
from passerelle.orders.models import Order, OrderLine, OrderStatus, Purchase

MAX_WINDOW = timedelta(days=90)
DAY = 86400


@dataclass(frozen=True)
class Credit:
    """One creator's share of one order line, before it becomes a commission row."""

    line: OrderLine
    creator_id: int
    rule: str
    rate_bp: int
    amount: int
    campaign_id: int | None
    detail: dict[str, Any]
    base: int


def line_discount(order: Order, line: OrderLine) -> int:
    """The line's share of the order's coupon discount (floor, in proportion to its amount)."""
    if not order.discount_amount or order.subtotal_amount <= 0:
        return 0
    return order.discount_amount * line.line_amount // order.subtotal_amount


async def _touches(session: AsyncSession, *, visitors: set[str], paid_at: datetime) -> dict[str, list[rules.Touch]]:
    if not visitors:
        return {}
    rows = await session.execute(
        select(
            Click.visitor,
            Click.creator_id,
            Click.link_id,
            Click.campaign_id,
            Link.merchant_id,
            Click.at,
            Campaign.window_days,
        )
        .join(Link, Link.id == Click.link_id)
        .outerjoin(Campaign, Campaign.id == Click.campaign_id)
        .where(Click.visitor.in_(visitors), Click.at >= paid_at - MAX_WINDOW, Click.at <= paid_at)
    )
    found: dict[str, list[rules.Touch]] = {}
    for visitor, creator_id, link_id, campaign_id, merchant_id, at, window in rows.all():
        touch = rules.Touch(creator_id, link_id, campaign_id, merchant_id, at.timestamp(), (window or 30) * DAY)
        found.setdefault(visitor, []).append(touch)
    return found


def _code_query(purchase_id: Any, merchant_id: Any) -> Select[int, int | None, str]:
    """The creator's promo code the purchase used with this merchant's campaign, if any."""
    return (
        select(PromoCode.creator_id, PromoCode.campaign_id, PromoCode.code)
        .join(Purchase, Purchase.coupon_id == PromoCode.coupon_id)
        .join(Campaign, Campaign.id == PromoCode.campaign_id)
        .where(Purchase.id == purchase_id, Campaign.merchant_id == merchant_id)
    )


async def _code(session: AsyncSession, *, purchase_id: int, merchant_id: int) -> rules.CodeUse | None:
    row = (await session.execute(_code_query(purchase_id, merchant_id))).first()
    return rules.CodeUse(row[0], row[1], row[2]) if row is not None else None


# Built once (every paid order runs it): per line of each order, its attribution, with the
# order's status, whether a promo code applies and whether commissions are booked already.
_ACCRUAL_INPUTS = (
    select(
        Order.id,
        Order.status,
        OrderLine.attribution,
        _code_query(Order.purchase_id, Order.merchant_id).exists().label("coded"),
        select(Commission.id).where(Commission.order_id == Order.id).exists().label("booked"),
    )
    .join(OrderLine, OrderLine.order_id == Order.id)
    .where(Order.id.in_(bindparam("order_ids", expanding=True)))
)
UNPAID = (OrderStatus.pending_payment, OrderStatus.cancelled)


def _could_attribute(attribution: dict[str, Any] | None) -> bool:
    if not attribution:
        return False
    return "visitor" in attribution or ("room_id" in attribution and "host_id" in attribution)


async def may_credit_any(session: AsyncSession, *, order_ids: list[int]) -> set[int]:
    """Of `order_ids`, those some rule might credit (one statement). The others certainly
    credit nobody: not paid, booked already, or no promo code, no live room and no visitor
    on any line. `credits_for` stays the judge for the ones returned; this is only the
    cheap way out for the rest."""
    rows = (await session.execute(_ACCRUAL_INPUTS, {"order_ids": order_ids})).all()
    return {
        row.id
        for row in rows
        if row.status not in UNPAID and not row.booked and (row.coded or _could_attribute(row.attribution))
    }


async def may_credit(session: AsyncSession, *, order_id: int) -> bool:
    return order_id in await may_credit_any(session, order_ids=[order_id])


async def _room(session: AsyncSession, attribution: dict[str, Any] | None) -> rules.Room | None:
    """The live-room shape (see rules.py) with user ids turned into approved creators' ids."""
    if not attribution or "room_id" not in attribution or "host_id" not in attribution:
        return None
    cohosts_in = [c for c in attribution.get("cohosts") or [] if isinstance(c, dict)]
    user_ids = {int(attribution["host_id"]), *(int(c.get("user_id", 0)) for c in cohosts_in)}
    found = dict(
        (
            await session.execute(
                select(Creator.user_id, Creator.id).where(Creator.user_id.in_(user_ids), Creator.status == "approved")
            )
        ).all()
    )
    host = found.get(int(attribution["host_id"]))
    if host is None:
        return None
    cohosts = tuple(
        (found[int(c["user_id"])], int(c.get("share_bp", 0))) for c in cohosts_in if int(c.get("user_id", 0)) in found
    )
    if sum(bp for _, bp in cohosts) > rules.FULL_BP or any(bp < 0 for _, bp in cohosts):
        return None  # a malformed split credits the host alone rather than failing the order
    return rules.Room(int(attribution["room_id"]), host, cohosts)


async def credits_for(session: AsyncSession, *, order: Order, paid_at: datetime) -> list[Credit]:
    lines = list(
        (
            await session.execute(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.id))
        ).scalars()
    )
    visitors = {
        str(line.attribution["visitor"]) for line in lines if line.attribution and "visitor" in line.attribution
    }
    touches = await _touches(session, visitors=visitors, paid_at=paid_at)
    code = await _code(session, purchase_id=order.purchase_id, merchant_id=order.merchant_id)
    mode_row = (
        await session.execute(
            select(Campaign.attribution_mode, Campaign.notice_days)
            .where(Campaign.merchant_id == order.merchant_id, Campaign.kind == "open", Campaign.status == "active")
            .order_by(Campaign.id)
        )
    ).first()
    mode, notice_days = (mode_row[0], mode_row[1]) if mode_row else ("last", 30)
    categories = dict(
        (
            await session.execute(
                select(Product.id, Product.category_id).where(Product.id.in_({line.product_id for line in lines}))
            )
        ).all()
    )
    credits: list[Credit] = []
    rate_cache: dict[int, Any] = {}
    for line in lines:
        own = touches.get(str((line.attribution or {}).get("visitor")), [])
        decision = rules.attribute(
            paid_at=paid_at.timestamp(),
            merchant_id=order.merchant_id,
            touches=own,
            code=code,
            room=await _room(session, line.attribution),
            mode=mode,
        )
        if decision is None:
            continue
        amounts: list[tuple[int, int, int, str]] = []  # creator, share_bp, rate_bp, scope
        for creator_id, share_bp in decision.shares:
            if creator_id not in rate_cache:
                rate_cache[creator_id] = await campaigns.rates_for(
                    session, merchant_id=order.merchant_id, creator_id=creator_id
                )
            rate_rules, joined, targeted, _ = rate_cache[creator_id]
            rate, _cid, scope = rules.resolve_rate(
                rules=rate_rules,
                product_id=line.product_id,
                category_id=categories.get(line.product_id),
                joined=joined,
                targeted=targeted,
                at=paid_at.timestamp(),
                notice_s=notice_days * DAY,
            )
            amounts.append((creator_id, share_bp, rate, scope))
        # Commission on what the buyer paid for the line: its share of a coupon comes off first.
        base = line.line_amount - line_discount(order, line)
        # Co-hosts share the line's commission at the host's rate: one pot, split exactly.
        lead_rate = amounts[0][2]
        pot = min(rules.commission(base, lead_rate), line.merchant_net_amount)
        parts = rules.split(pot, [(c, bp) for c, bp, _, _ in amounts])
        for index, ((creator_id, share_bp, _rate, scope), part) in enumerate(zip(amounts, parts, strict=True)):
            if part <= 0:
                continue
            rule = decision.rule
            if rule == "live_room":
                rule = "live_room_host" if index == 0 else "live_room_cohost"
            detail = {"share_bp": share_bp, "scope": scope, "pot": pot}
            if decision.link_id is not None:
                detail["link_id"] = decision.link_id
            if decision.room_id is not None:
                detail["room_id"] = decision.room_id
            if code is not None and decision.rule == "promo_code":
                detail["code"] = code.code
            credits.append(Credit(line, creator_id, rule, lead_rate, part, decision.campaign_id, detail, base))
    return credits
