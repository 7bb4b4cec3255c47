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
        CheckConstraint("presale_stock >= 0 AND presale_stock <= stock", name="presale_stock_range"),
        CheckConstraint("presale_taken >= 0 AND presale_taken <= presale_stock", name="presale_taken_range"),
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
    # Presale (all set, or none): a deposit taken before the deal starts holds one of the
    # `presale_stock` units; the balance is payable from the start until `balance_due_at`,
    # after which an unpaid balance forfeits the deposit. `deposit_credit_amount` is what
    # a deposit takes off the price (more than the deposit when it "swells").
    deposit_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    deposit_credit_amount: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    presale_starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    balance_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    presale_stock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    presale_taken: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @property
    def is_presale(self) -> bool:
        return self.deposit_amount is not None

    @property
    def flash_stock(self) -> int:
        """The units the claim engine sells; the presale's units are kept apart."""
        return self.stock - self.presale_stock


class DealCheckout(Base):
    """A reservation checks out once: its one order."""

    __tablename__ = "deal_checkouts"

    reservation_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)


class PresaleStatus(enum.StrEnum):
    awaiting_deposit = "awaiting_deposit"  # deposit order placed, not paid yet
    deposit_paid = "deposit_paid"  # a unit is held; the balance is due in its window
    completed = "completed"  # balance paid: the unit is sold
    forfeited = "forfeited"  # balance not paid in time: the deposit is kept, the unit freed
    cancelled = "cancelled"  # deposit never paid


class PresaleDeposit(TimestampMixin, Base):
    """One buyer's presale purchase: a deposit order now, a balance order on the day."""

    __tablename__ = "presale_deposits"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        Index("ix_presale_deposits_deal_buyer", "deal_id", "buyer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    status: Mapped[PresaleStatus] = mapped_column(
        Enum(PresaleStatus, native_enum=False, length=20), default=PresaleStatus.awaiting_deposit
    )
    deposit_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), unique=True, nullable=True)
    balance_order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)
