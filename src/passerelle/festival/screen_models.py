"""Festival aggregates for the big screen, maintained from order events (not sampled):
each paid order is counted once, in the transaction that marks it paid, into the
festival's total and per country, merchant, live room and second. Money is kept per
currency (the screen converts at the rate of the moment it shows it)."""

from __future__ import annotations

import enum

from sqlalchemy import BigInteger, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base


class Dimension(enum.StrEnum):
    total = "total"  # key ""
    country = "country"  # key: buyer's delivery country, ISO 3166 alpha-2
    merchant = "merchant"  # key: merchant id
    room = "room"  # key: live room id the order came from
    second = "second"  # key: unix second the order was paid in
    peak = "peak"  # key "": the busiest second so far (its orders)


class ScreenCount(Base):
    __tablename__ = "screen_counts"

    festival_id: Mapped[int] = mapped_column(ForeignKey("festivals.id", ondelete="CASCADE"), primary_key=True)
    dimension: Mapped[Dimension] = mapped_column(Enum(Dimension, native_enum=False, length=10), primary_key=True)
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)  # "" for second and peak rows
    orders: Mapped[int] = mapped_column(Integer, default=0)
    gmv_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # in `currency`, minor units


class ScreenCountedOrder(Base):
    """An order already counted: a redelivered event changes nothing."""

    __tablename__ = "screen_counted_orders"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), primary_key=True)
    festival_id: Mapped[int] = mapped_column(ForeignKey("festivals.id", ondelete="CASCADE"), index=True)
