"""API shapes of the assistant (documentation and the slow paths; the hot path builds dicts)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from passerelle.assistant.lang import ANSWER_LANGUAGES


class MessageIn(BaseModel):
    text: str = Field(min_length=1, max_length=1000)
    language: str | None = Field(default=None, description=f"One of {', '.join(ANSWER_LANGUAGES)}; detected if absent")
    product_id: int | None = Field(default=None, ge=1, le=2**62, description="The product page the buyer is on")
    conversation_id: int | None = Field(
        default=None, ge=1, le=2**62, description="Send the text to an open hand-off conversation instead"
    )


class LinkOut(BaseModel):
    label: str
    url: str


class MessageOut(BaseModel):
    reply: str
    language: str
    intent: str
    products: list[dict[str, Any]] = Field(description="Product cards, as GET /products shapes them, plus `url`")
    links: list[LinkOut]
    conversation_id: int | None


class ConversationMessageOut(BaseModel):
    id: int
    author: str
    body: str
    created_at: datetime


class ConversationOut(BaseModel):
    id: int
    merchant_id: int
    merchant_name: str | None = None
    product_id: int | None
    order_id: int | None
    subject: str
    status: str
    updated_at: datetime
    messages: list[ConversationMessageOut] = []


class ReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=4000)


class ReturnPolicyIn(BaseModel):
    return_days: int = Field(ge=0, le=365)
    note: str = Field(default="", max_length=500)
