"""Auctions and their bids."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, TimestampMixin, UTCDateTime


class AuctionStatus(enum.StrEnum):
    open = "open"  # taking bids between starts_at and ends_at (which bids may push back)
    won = "won"  # ended with a leader, who pays by `pay_by`
    paid = "paid"  # the winner's order is paid
    unsold = "unsold"  # ended without a bid
    unpaid = "unpaid"  # the winner did not pay in time; the unit is back on sale


class Auction(TimestampMixin, Base):
    __tablename__ = "auctions"
    __table_args__ = (
        CheckConstraint("starting_amount >= 1 AND increment_amount >= 1", name="amounts_positive"),
        CheckConstraint("ends_at > starts_at", name="window"),
        Index("ix_auctions_status_ends", "status", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"))  # who listed it (cannot bid on it)
    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id"))
    room_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # the live room running it
    currency: Mapped[str] = mapped_column(String(3))
    starting_amount: Mapped[int] = mapped_column(BigInteger)
    increment_amount: Mapped[int] = mapped_column(BigInteger)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())  # moves later when a bid lands at the very end
    snipe_window_seconds: Mapped[int] = mapped_column(Integer, default=30)
    extend_seconds: Mapped[int] = mapped_column(Integer, default=30)
    status: Mapped[AuctionStatus] = mapped_column(
        Enum(AuctionStatus, native_enum=False, length=10), default=AuctionStatus.open
    )
    price_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    leader_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    leader_max_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # never shown to anyone else
    bids_count: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)  # optimistic lock for concurrent bids
    pay_by: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), nullable=True)


class AuctionBid(Base):
    __tablename__ = "auction_bids"

    id: Mapped[int] = mapped_column(primary_key=True)
    auction_id: Mapped[int] = mapped_column(ForeignKey("auctions.id", ondelete="CASCADE"), index=True)
    bidder_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    max_amount: Mapped[int] = mapped_column(BigInteger)
    price_after: Mapped[int] = mapped_column(BigInteger)
    leading_after: Mapped[bool] = mapped_column(default=False)
    extended: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
