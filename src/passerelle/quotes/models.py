"""Request-for-quote tables: the request and its lines (quantity asked, unit price answered)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime, utcnow


class QuoteStatus(enum.StrEnum):
    requested = "requested"  # waiting for the wholesaler
    answered = "answered"  # priced, valid until `valid_until`
    accepted = "accepted"  # became a purchase
    declined = "declined"  # by either side
    expired = "expired"  # answered but not accepted in time


class Quote(Base):
    __tablename__ = "quotes"
    __table_args__ = (
        Index("ix_quotes_merchant_status", "merchant_id", "status"),
        Index("ix_quotes_expiry", "status", "valid_until"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    company_id: Mapped[int | None] = mapped_column(ForeignKey("companies.id", ondelete="SET NULL"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    status: Mapped[QuoteStatus] = mapped_column(Enum(QuoteStatus, native_enum=False, length=20))
    currency: Mapped[str] = mapped_column(String(3))  # the merchant's: prices are answered in it
    message: Mapped[str] = mapped_column(Text, default="")
    answer_note: Mapped[str] = mapped_column(Text, default="")
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_by: Mapped[str | None] = mapped_column(String(10))  # buyer | merchant | system
    decline_reason: Mapped[str] = mapped_column(String(500), default="")
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class QuoteLine(Base):
    __tablename__ = "quote_lines"
    __table_args__ = (
        UniqueConstraint("quote_id", "sku_id"),
        CheckConstraint("quantity >= 1", name="quantity_positive"),
        CheckConstraint("unit_amount IS NULL OR unit_amount >= 0", name="unit_amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_amount: Mapped[int | None] = mapped_column(BigInteger)  # merchant currency; set by the answer
