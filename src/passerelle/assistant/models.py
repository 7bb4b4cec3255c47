"""Assistant tables: hand-off conversations with a merchant's staff, and merchants' return windows.

The assistant itself writes nothing else: a conversation is the only thing it may open.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime, utcnow


class ConversationStatus(enum.StrEnum):
    open = "open"
    answered = "answered"  # the merchant replied last
    closed = "closed"


class AuthorKind(enum.StrEnum):
    buyer = "buyer"
    merchant = "merchant"
    assistant = "assistant"


class Conversation(Base):
    __tablename__ = "assistant_conversations"
    __table_args__ = (Index("ix_assistant_conversations_merchant", "merchant_id", "updated_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id", ondelete="SET NULL"))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    language: Mapped[str] = mapped_column(String(5))
    subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[ConversationStatus] = mapped_column(
        Enum(ConversationStatus, native_enum=False, length=10), default=ConversationStatus.open
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ConversationMessage(Base):
    __tablename__ = "assistant_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("assistant_conversations.id", ondelete="CASCADE"), index=True
    )
    author_kind: Mapped[AuthorKind] = mapped_column(Enum(AuthorKind, native_enum=False, length=10))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReturnPolicy(Base):
    """A merchant's return window; merchants without a row get the legal default (14 days)."""

    __tablename__ = "merchant_return_policies"
    __table_args__ = (CheckConstraint("return_days >= 0 AND return_days <= 365", name="return_days_range"),)

    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"), primary_key=True)
    return_days: Mapped[int] = mapped_column(Integer, default=14)
    note: Mapped[str] = mapped_column(String(500), default="")
