"""Coupons: platform-wide "spend X, save Y" across merchants, or one merchant's own.

Usage limits (total and per buyer) are counters moved by conditional statements, so they
hold under any concurrency."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, TimestampMixin, UTCDateTime


class Coupon(TimestampMixin, Base):
    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("discount_amount > 0", name="discount_positive"),
        CheckConstraint("min_spend_amount >= discount_amount", name="spend_covers_discount"),
        CheckConstraint("total_limit IS NULL OR used_count <= total_limit", name="within_total_limit"),
        CheckConstraint("per_buyer_limit >= 1", name="per_buyer_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    # None: the platform's own coupon, valid across merchants and paid for by the platform.
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    min_spend_amount: Mapped[int] = mapped_column(BigInteger)
    discount_amount: Mapped[int] = mapped_column(BigInteger)
    total_limit: Mapped[int | None] = mapped_column(Integer)
    per_buyer_limit: Mapped[int] = mapped_column(Integer, default=1)
    used_count: Mapped[int] = mapped_column(Integer, default=0)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CouponUse(Base):
    """How many times one buyer used one coupon."""

    __tablename__ = "coupon_uses"

    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id", ondelete="CASCADE"), primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    uses: Mapped[int] = mapped_column(Integer, default=0)
