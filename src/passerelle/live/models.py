"""Live shopping rooms: the room, its co-hosts and moderators, its showcase, bans and chat."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, TimestampMixin, UTCDateTime

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
ChatId = BigInteger().with_variant(Integer(), "sqlite")


class RoomStatus(enum.StrEnum):
    scheduled = "scheduled"  # created, never on air
    live = "live"  # went on air once; chat open (video may drop and resume)
    ended = "ended"  # the host ended it: the key is refused from now on


class MemberRole(enum.StrEnum):
    cohost = "cohost"  # appears as a host; moderates
    moderator = "moderator"  # moderates the chat only


class SanctionKind(enum.StrEnum):
    mute = "mute"  # may watch, may not post
    ban = "ban"  # kicked, may not reconnect


class LiveRoom(TimestampMixin, Base):
    __tablename__ = "live_rooms"
    __table_args__ = (Index("ix_live_rooms_status_starts_at", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(140))
    language: Mapped[str] = mapped_column(String(5))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[RoomStatus] = mapped_column(
        Enum(RoomStatus, native_enum=False, length=10), default=RoomStatus.scheduled
    )
    # sha256 of the stream key: the key is shown once, at creation or rotation.
    stream_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    on_air: Mapped[bool] = mapped_column(default=False)  # video is being pushed right now
    went_live_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0)
    blocked_words: Mapped[list[str]] = mapped_column(JSON, default=list)


class LiveRoomMember(Base):
    __tablename__ = "live_room_members"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    role: Mapped[MemberRole] = mapped_column(Enum(MemberRole, native_enum=False, length=10))


class LiveShowcaseItem(Base):
    __tablename__ = "live_showcase_items"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)


class LiveSanction(TimestampMixin, Base):
    __tablename__ = "live_sanctions"

    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[SanctionKind] = mapped_column(Enum(SanctionKind, native_enum=False, length=10))


class LiveChatMessage(Base):
    """Chat kept for replay and analytics, written in batches by the hub."""

    __tablename__ = "live_chat_messages"
    __table_args__ = (Index("ix_live_chat_messages_room_id_id", "room_id", "id"),)

    id: Mapped[int] = mapped_column(ChatId, primary_key=True, autoincrement=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("live_rooms.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    uid: Mapped[str] = mapped_column(String(32), unique=True)  # the id viewers saw
    author: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(String(600))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
