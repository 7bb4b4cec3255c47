"""Festivals and their flash deals."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, TimestampMixin, UTCDateTime


class Festival(TimestampMixin, Base):
    __tablename__ = "festivals"
    __table_args__ = (CheckConstraint("ends_at > starts_at", name="window"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    time_zone: Mapped[str] = mapped_column(String(64))  # IANA, for display: "Europe/Paris"


class DealStatus(enum.StrEnum):
    draft = "draft"  # created, stock still on the SKU
    armed = "armed"  # stock moved from the SKU into the engine
    closed = "closed"  # ended; unsold units went back to the SKU


class Deal(TimestampMixin, Base):
    __tablename__ = "deals"
    __table_args__ = (
        CheckConstraint("stock >= 1", name="stock_positive"),
        CheckConstraint("per_buyer_limit >= 1", name="limit_positive"),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_deals_festival_status", "festival_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    festival_id: Mapped[int] = mapped_column(ForeignKey("festivals.id", ondelete="CASCADE"))
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    price_amount: Mapped[int] = mapped_column(BigInteger)  # merchant currency, minor units
    currency: Mapped[str] = mapped_column(String(3))
    stock: Mapped[int] = mapped_column(Integer)
    per_buyer_limit: Mapped[int] = mapped_column(Integer, default=1)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    hold_seconds: Mapped[int] = mapped_column(Integer, default=900)
    status: Mapped[DealStatus] = mapped_column(Enum(DealStatus, native_enum=False, length=10), default=DealStatus.draft)
    returned_units: Mapped[int] = mapped_column(Integer, default=0)


class DealCheckout(Base):
    """A reservation checks out once: its one order."""

    __tablename__ = "deal_checkouts"

    reservation_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
