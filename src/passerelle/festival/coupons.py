"""Coupon rules: creation, eligibility, the discount's split across a purchase's orders,
and the usage limits, taken atomically when the purchase is placed. Never commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import Role, User
from passerelle.errors import Conflict, Forbidden, Invalid, NotFound
from passerelle.festival.coupons_models import Coupon, CouponUse
from passerelle.merchants import service as merchants
from passerelle.money import Money, check_currency
from passerelle.orders.service.placement import Quote


async def create_coupon(
    session: AsyncSession,
    *,
    actor: User,
    code: str,
    merchant_id: int | None,
    currency: str,
    min_spend_amount: int,
    discount_amount: int,
    total_limit: int | None,
    per_buyer_limit: int,
    starts_at: datetime,
    ends_at: datetime,
) -> Coupon:
    if merchant_id is None:
        if actor.role != Role.operator:
            raise Forbidden("Only operators make platform-wide coupons")
    else:
        merchant = await merchants.require_staff(session, user=actor, merchant_id=merchant_id)
        if merchant.currency != currency:
            raise Invalid("coupon_currency", "A merchant coupon is in the merchant's currency", field="currency")
    code = code.strip().upper()
    if not code.replace("-", "").isalnum() or not 3 <= len(code) <= 40:
        raise Invalid("invalid_code", "Codes are 3-40 letters, digits or dashes", field="code")
    if not 0 < discount_amount <= min_spend_amount:
        raise Invalid(
            "invalid_discount", "The discount is positive and at most the minimum spend", field="discount_amount"
        )
    if ends_at <= starts_at:
        raise Invalid("invalid_window", "A coupon must end after it starts", field="ends_at")
    if (await session.execute(select(Coupon.id).where(Coupon.code == code))).first():
        raise Conflict("code_taken", "This code is already used", field="code")
    coupon = Coupon(
        code=code,
        merchant_id=merchant_id,
        currency=check_currency(currency),
        min_spend_amount=min_spend_amount,
        discount_amount=discount_amount,
        total_limit=total_limit,
        per_buyer_limit=per_buyer_limit,
        used_count=0,
        starts_at=starts_at,
        ends_at=ends_at,
    )
    session.add(coupon)
    await session.flush()
    return coupon


def split_discount(coupon: Coupon, quote: Quote) -> dict[int, int]:
    """The discount per merchant (in each merchant's currency) for this priced purchase.
    Raises when the purchase does not qualify."""
    if coupon.merchant_id is not None:
        mine = [m for m in quote.merchants if m.merchant.id == coupon.merchant_id]
        if not mine or mine[0].subtotal < coupon.min_spend_amount:
            raise Conflict("coupon_not_eligible", "Spend more with this shop to use the coupon", field="coupon_code")
        return {coupon.merchant_id: coupon.discount_amount}
    # Platform-wide: the threshold counts every merchant's items, in the coupon's currency.
    spend = {
        m.merchant.id: quote.fx.convert(Money(m.subtotal, m.merchant.currency), coupon.currency).amount
        for m in quote.merchants
    }
    total = sum(spend.values())
    if total < coupon.min_spend_amount:
        raise Conflict("coupon_not_eligible", "Spend more to use this coupon", field="coupon_code")
    # Largest remainder: the shares add up to the discount exactly.
    shares = {mid: coupon.discount_amount * amount // total for mid, amount in spend.items()}
    left = coupon.discount_amount - sum(shares.values())
    for mid in sorted(spend, key=lambda m: (coupon.discount_amount * spend[m]) % total, reverse=True)[:left]:
        shares[mid] += 1
    currencies = {m.merchant.id: m.merchant.currency for m in quote.merchants}
    return {
        mid: quote.fx.convert(Money(share, coupon.currency), currencies[mid]).amount
        for mid, share in shares.items()
        if share
    }


async def redeem(
    session: AsyncSession, *, code: str, buyer_id: int, quote: Quote, now: datetime
) -> tuple[Coupon, dict[int, int]]:
    """Check the coupon, split its discount, and take one use (total and per buyer)."""
    coupon = (await session.execute(select(Coupon).where(Coupon.code == code.strip().upper()))).scalar_one_or_none()
    if coupon is None:
        raise NotFound("coupon")
    if not coupon.starts_at <= now < coupon.ends_at:
        raise Conflict("coupon_not_active", "This coupon is not valid now", field="coupon_code")
    discounts = split_discount(coupon, quote)
    taken = await session.execute(
        update(Coupon)
        .where(Coupon.id == coupon.id, (Coupon.total_limit.is_(None)) | (Coupon.used_count < Coupon.total_limit))
        .values(used_count=Coupon.used_count + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("coupon_exhausted", "This coupon has been used up", field="coupon_code")
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CouponUse).values(coupon_id=coupon.id, buyer_id=buyer_id, uses=1)
    upsert = statement.on_conflict_do_update(
        index_elements=[CouponUse.coupon_id, CouponUse.buyer_id],
        set_={"uses": CouponUse.uses + 1},
        where=CouponUse.uses < coupon.per_buyer_limit,
    )
    if (await session.execute(upsert)).rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("coupon_limit_reached", "You have used this coupon as often as it allows", field="coupon_code")
    return coupon, discounts
