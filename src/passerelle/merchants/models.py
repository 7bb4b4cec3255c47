"""Merchant tables: the merchant, its staff, the countries it ships to."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Enum, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, TimestampMixin, UTCDateTime


class MerchantKind(enum.StrEnum):
    brand = "brand"  # B2C brand store (Tmall-like)
    individual = "individual"  # C2C individual seller (Taobao-like)
    wholesale = "wholesale"  # B2B wholesaler (alibaba.com-like)


class MerchantStatus(enum.StrEnum):
    pending = "pending"
    approved = "approved"
    rejected = "rejected"


class MemberRole(enum.StrEnum):
    owner = "owner"
    staff = "staff"


class Merchant(TimestampMixin, Base):
    __tablename__ = "merchants"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    slug: Mapped[str] = mapped_column(String(140), unique=True)
    kind: Mapped[MerchantKind] = mapped_column(Enum(MerchantKind, native_enum=False, length=20))
    country: Mapped[str] = mapped_column(String(2))
    currency: Mapped[str] = mapped_column(String(3))  # prices and payouts
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MerchantStatus] = mapped_column(
        Enum(MerchantStatus, native_enum=False, length=20), default=MerchantStatus.pending, index=True
    )
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    review_note: Mapped[str] = mapped_column(String(500), default="")


class MerchantMember(TimestampMixin, Base):
    __tablename__ = "merchant_members"

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[MemberRole] = mapped_column(Enum(MemberRole, native_enum=False, length=10))


class MerchantShipsTo(Base):
    __tablename__ = "merchant_ships_to"

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)
