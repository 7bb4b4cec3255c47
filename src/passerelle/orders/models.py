"""Purchases, per-merchant orders, their lines, status history and refunds.

Amounts of an order are in the merchant's currency (what the merchant priced and is paid
in); `buyer_total_amount` is the same order in the buyer's currency at the rate fixed at
checkout (`fx_rate`), and the purchase total is the sum of those.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime, utcnow


class OrderStatus(enum.StrEnum):
    pending_payment = "pending_payment"
    paid = "paid"
    accepted = "accepted"
    shipped = "shipped"
    delivered = "delivered"
    completed = "completed"
    cancelled = "cancelled"
    refunded = "refunded"


class Purchase(Base):
    """What the buyer checked out at once: one payment, one or more merchant orders."""

    __tablename__ = "purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    total_amount: Mapped[int] = mapped_column(BigInteger)
    shipping_address: Mapped[dict[str, str]] = mapped_column(JSON)
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OrderTotals(Protocol):
    """What code reading a paid order's totals needs: an `Order`, or a Core row of its
    columns (the paid webhook loads no ORM object)."""

    @property
    def id(self) -> int: ...
    @property
    def merchant_id(self) -> int: ...
    @property
    def currency(self) -> str: ...
    @property
    def total_amount(self) -> int: ...


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_merchant_status", "merchant_id", "status"),
        Index("ix_orders_expiry", "status", "expires_at"),
        CheckConstraint("refunded_amount <= total_amount", name="refund_within_total"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_id: Mapped[int] = mapped_column(ForeignKey("purchases.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[OrderStatus] = mapped_column(Enum(OrderStatus, native_enum=False, length=20))
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_amount: Mapped[int] = mapped_column(BigInteger)
    shipping_amount: Mapped[int] = mapped_column(BigInteger)
    vat_amount: Mapped[int] = mapped_column(BigInteger)  # included in the total
    total_amount: Mapped[int] = mapped_column(BigInteger)
    commission_amount: Mapped[int] = mapped_column(BigInteger)
    # A coupon's share of this order, already taken off total_amount; who pays for it.
    discount_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    discount_funder: Mapped[str] = mapped_column(String(10), default="", server_default="")  # platform | merchant
    refunded_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    buyer_currency: Mapped[str] = mapped_column(String(3))
    buyer_total_amount: Mapped[int] = mapped_column(BigInteger)
    fx_rate: Mapped[str] = mapped_column(String(32))  # buyer currency units per merchant currency unit
    ship_to_country: Mapped[str] = mapped_column(String(2))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    source: Mapped[str] = mapped_column(String(20), default="cart")  # cart | quote | offer | deal


class OrderLine(Base):
    __tablename__ = "order_lines"
    __table_args__ = (
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("returned_quantity <= quantity", name="returns_within_quantity"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(200))
    sku_code: Mapped[str] = mapped_column(String(64))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_amount: Mapped[int] = mapped_column(BigInteger)
    line_amount: Mapped[int] = mapped_column(BigInteger)
    vat_rate_bp: Mapped[int] = mapped_column(Integer)  # basis points: 2000 = 20 %
    vat_amount: Mapped[int] = mapped_column(BigInteger)
    commission_rate_bp: Mapped[int] = mapped_column(Integer)
    commission_amount: Mapped[int] = mapped_column(BigInteger)
    merchant_net_amount: Mapped[int] = mapped_column(BigInteger)
    returned_quantity: Mapped[int] = mapped_column(Integer, default=0)
    attribution: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class OrderEvent(Base):
    """Every status change: who, when, from what to what."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_kind: Mapped[str] = mapped_column(String(20))  # buyer | merchant | operator | system | psp
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Refund(Base):
    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    commission_amount: Mapped[int] = mapped_column(BigInteger)
    # What went back to the buyer, in the currency they paid in.
    buyer_amount: Mapped[int] = mapped_column(BigInteger)
    buyer_currency: Mapped[str] = mapped_column(String(3))
    # The part of a platform-paid coupon this refund takes back from the platform's promotions.
    promotion_amount: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reason: Mapped[str] = mapped_column(String(500), default="")
    # [{"line_id": .., "quantity": .., "restock": bool}]
    returned: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    provider_ref: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CommissionRule(Base):
    """Platform commission in basis points: per category, optionally overridden per merchant."""

    __tablename__ = "commission_rules"
    __table_args__ = (CheckConstraint("rate_bp >= 0 AND rate_bp <= 10000", name="rate_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id", ondelete="CASCADE"))
    rate_bp: Mapped[int] = mapped_column(Integer)


class ShippingFee(Base):
    """A merchant's shipping fee to one country (or to anywhere when `country` is null)."""

    __tablename__ = "shipping_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    fee_amount: Mapped[int] = mapped_column(BigInteger)
    free_from_amount: Mapped[int | None] = mapped_column(BigInteger)
