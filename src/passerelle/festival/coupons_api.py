"""JSON routes for coupons: operators make platform-wide ones, merchants their own."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from passerelle.deps import CurrentUser, Session, UnitOfWorkRoute
from passerelle.festival import coupons
from passerelle.festival.coupons_models import Coupon
from passerelle.http import PathId

router = APIRouter(tags=["festival"], route_class=UnitOfWorkRoute)


class CouponIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    min_spend_amount: int = Field(ge=1, le=10**12, description="Minor units: spend at least this much...")
    discount_amount: int = Field(ge=1, le=10**12, description="...to save this much")
    total_limit: int | None = Field(default=None, ge=1, le=10**9)
    per_buyer_limit: int = Field(default=1, ge=1, le=1000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class CouponOut(BaseModel):
    id: int
    code: str
    merchant_id: int | None
    currency: str
    min_spend_amount: int
    discount_amount: int
    total_limit: int | None
    per_buyer_limit: int
    used_count: int
    starts_at: datetime
    ends_at: datetime


def coupon_out(coupon: Coupon) -> CouponOut:
    return CouponOut(
        id=coupon.id,
        code=coupon.code,
        merchant_id=coupon.merchant_id,
        currency=coupon.currency,
        min_spend_amount=coupon.min_spend_amount,
        discount_amount=coupon.discount_amount,
        total_limit=coupon.total_limit,
        per_buyer_limit=coupon.per_buyer_limit,
        used_count=coupon.used_count,
        starts_at=coupon.starts_at,
        ends_at=coupon.ends_at,
    )


async def _create(body: CouponIn, user: CurrentUser, session: Session, merchant_id: int | None) -> CouponOut:
    coupon = await coupons.create_coupon(
        session,
        actor=user,
        code=body.code,
        merchant_id=merchant_id,
        currency=body.currency,
        min_spend_amount=body.min_spend_amount,
        discount_amount=body.discount_amount,
        total_limit=body.total_limit,
        per_buyer_limit=body.per_buyer_limit,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )
    return coupon_out(coupon)


@router.post("/operator/coupons", status_code=201, response_model=CouponOut)
async def create_platform_coupon(body: CouponIn, user: CurrentUser, session: Session) -> CouponOut:
    """A platform-wide "spend X, save Y" across merchants, paid for by the platform."""
    return await _create(body, user, session, None)


@router.post("/me/merchants/{merchant_id}/coupons", status_code=201, response_model=CouponOut)
async def create_merchant_coupon(merchant_id: PathId, body: CouponIn, user: CurrentUser, session: Session) -> CouponOut:
    """A merchant's own coupon, on its items only, paid for by the merchant."""
    return await _create(body, user, session, merchant_id)
