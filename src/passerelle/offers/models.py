""" "Make an offer" tables: one negotiation per buyer and item (`offers`), and every amount
either side proposed in it (`offer_proposals`)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime, utcnow

_LIVE = text("status IN ('open', 'accepted')")


class OfferStatus(enum.StrEnum):
    open = "open"  # the latest proposal waits for the other side
    accepted = "accepted"  # agreed: the buyer may check out once at `amount` until `expires_at`
    ordered = "ordered"  # checked out (see `purchase_id`)
    declined = "declined"  # either side ended it
    expired = "expired"  # nobody answered, or the buyer did not check out, in time


class Offer(Base):
    __tablename__ = "offers"
    __table_args__ = (
        # At most one live negotiation per buyer and item; also closes the race of two first offers.
        Index(
            "uq_offers_live_buyer_sku", "buyer_id", "sku_id", unique=True, sqlite_where=_LIVE, postgresql_where=_LIVE
        ),
        Index("ix_offers_merchant_status", "merchant_id", "status"),
        Index("ix_offers_expiry", "status", "expires_at"),
        CheckConstraint("amount >= 1", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    currency: Mapped[str] = mapped_column(String(3))  # the seller's
    status: Mapped[OfferStatus] = mapped_column(Enum(OfferStatus, native_enum=False, length=20))
    amount: Mapped[int] = mapped_column(BigInteger)  # the latest proposal; the agreed price once accepted
    awaiting: Mapped[str] = mapped_column(String(10))  # buyer | seller: whose turn it is while open
    rounds: Mapped[int] = mapped_column(Integer, default=1)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_by: Mapped[str | None] = mapped_column(String(10))  # buyer | seller | system
    purchase_id: Mapped[int | None] = mapped_column(ForeignKey("purchases.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OfferProposal(Base):
    __tablename__ = "offer_proposals"
    __table_args__ = (CheckConstraint("amount >= 1", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id", ondelete="CASCADE"), index=True)
    made_by: Mapped[str] = mapped_column(String(10))  # buyer | seller
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    amount: Mapped[int] = mapped_column(BigInteger)
    message: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
