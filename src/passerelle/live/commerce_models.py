"""Live commerce: pins, the room's credit split, deals launched in a room, the replay log,
and the raw facts of room analytics (card clicks, viewer sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime
from passerelle.live.models import ChatId


class LivePin(Base):
    __tablename__ = "live_pins"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    pinned_at: Mapped[datetime] = mapped_column(UTCDateTime())


class LiveCreditSplit(Base):
    """Co-hosts' shares of the room's credit in basis points; the host keeps the rest."""

    __tablename__ = "live_credit_splits"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    cohost_shares: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # {"<user id>": bp}


class LiveRoomDeal(Base):
    """A flash deal launched in a room: its checkouts carry the room's attribution."""

    __tablename__ = "live_room_deals"

    deal_id: Mapped[int] = mapped_column(ForeignKey("deals.id", ondelete="CASCADE"), primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(Integer)
    attribution: Mapped[dict[str, Any]] = mapped_column(JSON)  # frozen at launch


# Logged when the encoder starts or stops (payload {"type": AIR_EVENT, "on": bool}); never
# shown to viewers, it maps wall times to the recording's time.
AIR_EVENT = "_air"


class LiveEvent(Base):
    """A pin, unpin, deal or auction as it happened, with its offset into the stream (replay)."""

    __tablename__ = "live_events"
    __table_args__ = (Index("ix_live_events_room_offset", "room_id", "offset_ms"),)

    id: Mapped[int] = mapped_column(ChatId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"))
    offset_ms: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class LiveCardClick(Base):
    __tablename__ = "live_card_clicks"
    __table_args__ = (Index("ix_live_card_clicks_room_product", "room_id", "product_id"),)

    id: Mapped[int] = mapped_column(ChatId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class LiveViewSession(Base):
    """One socket's stay in a room; `viewer` is "u<user id>" or "g<random>" for a guest."""

    __tablename__ = "live_view_sessions"
    __table_args__ = (Index("ix_live_view_sessions_room", "room_id", "joined_at"),)

    id: Mapped[int] = mapped_column(ChatId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"))
    viewer: Mapped[str] = mapped_column(String(40))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime())
    left_at: Mapped[datetime] = mapped_column(UTCDateTime())
