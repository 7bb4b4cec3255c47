"""Logistics tables: packaging, shipments and parcels, carrier tracking events, returns,
recycling drop-off points and the merchant's logistics settings."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime, utcnow


class TrackingStatus(enum.StrEnum):
    label_created = "label_created"
    picked_up = "picked_up"
    in_transit = "in_transit"
    customs = "customs"
    out_for_delivery = "out_for_delivery"
    delivered = "delivered"
    failed_attempt = "failed_attempt"
    returned = "returned"


EVENT_KINDS = frozenset(s.value for s in TrackingStatus) - {"label_created"}


class Direction(enum.StrEnum):
    outbound = "outbound"
    back = "return"  # `return` is a keyword


class ReturnStatus(enum.StrEnum):
    label_issued = "label_issued"
    in_transit = "in_transit"
    received = "received"
    refunded = "refunded"


class LogisticsSettings(Base):
    """Per-merchant logistics settings; a merchant without a row gets the defaults."""

    __tablename__ = "logistics_settings"
    __table_args__ = (CheckConstraint("return_window_days >= 0 AND return_window_days <= 365", name="window_range"),)

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    return_window_days: Mapped[int] = mapped_column(Integer, default=30)


class PackagingType(Base):
    """A carton, mailer or pouch. `merchant_id` null: offered to every merchant."""

    __tablename__ = "packaging_types"
    __table_args__ = (CheckConstraint("weight_g >= 0", name="weight_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int | None] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    material: Mapped[str] = mapped_column(String(40))
    recyclable: Mapped[bool] = mapped_column(Boolean)
    weight_g: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Shipment(Base):
    __tablename__ = "shipments"
    __table_args__ = (
        UniqueConstraint("carrier", "tracking_number"),
        Index("ix_shipments_route", "carrier", "origin_country", "destination_country", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    direction: Mapped[Direction] = mapped_column(Enum(Direction, native_enum=False, length=10))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("return_requests.id"), index=True)
    carrier: Mapped[str] = mapped_column(String(30))
    service: Mapped[str] = mapped_column(String(30))
    tracking_number: Mapped[str] = mapped_column(String(60))
    origin_country: Mapped[str] = mapped_column(String(2))
    destination_country: Mapped[str] = mapped_column(String(2))
    status: Mapped[TrackingStatus] = mapped_column(Enum(TrackingStatus, native_enum=False, length=20))
    # occurred_at of the event that set `status`: a later-arriving older event never wins.
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    estimated_delivery: Mapped[date] = mapped_column(Date)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Parcel(Base):
    __tablename__ = "parcels"
    __table_args__ = (
        CheckConstraint("weight_g > 0", name="weight_positive"),
        CheckConstraint("length_mm > 0 AND width_mm > 0 AND height_mm > 0", name="dimensions_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    weight_g: Mapped[int] = mapped_column(Integer)
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    packaging_type_id: Mapped[int | None] = mapped_column(ForeignKey("packaging_types.id"))
    # Copied at shipping time: editing a packaging type later does not rewrite history.
    packaging_material: Mapped[str] = mapped_column(String(40), default="")
    packaging_recyclable: Mapped[bool] = mapped_column(Boolean, default=False)
    packaging_weight_g: Mapped[int] = mapped_column(Integer, default=0)


class TrackingEvent(Base):
    """A carrier event; the unique (carrier, event_id) makes a replay harmless."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("carrier", "event_id"),
        Index("ix_tracking_events_shipment_time", "shipment_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    carrier: Mapped[str] = mapped_column(String(30))
    event_id: Mapped[str] = mapped_column(String(100))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str] = mapped_column(String(120), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReturnRequest(Base):
    __tablename__ = "return_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    status: Mapped[ReturnStatus] = mapped_column(Enum(ReturnStatus, native_enum=False, length=20))
    # [{"line_id": .., "quantity": ..}]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(500), default="")
    refund_id: Mapped[int | None] = mapped_column(ForeignKey("refunds.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class RecyclingPoint(Base):
    __tablename__ = "recycling_points"
    __table_args__ = (
        CheckConstraint("lat >= -90 AND lat <= 90 AND lon >= -180 AND lon <= 180", name="coordinates_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    address: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(String(200), default="")
    materials: Mapped[str] = mapped_column(String(200), default="")  # "cardboard;paper;plastic"
