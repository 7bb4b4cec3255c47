"""API shapes of live commerce (pins, credit split, deals, auctions, clicks)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from passerelle.http import MAX_ID

Id = Field(ge=1, le=MAX_ID)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PinsOut(BaseModel):
    product_ids: list[int]


class CohostShare(Strict):
    user_id: int = Id
    share_bp: int = Field(ge=0, le=10_000)


class CreditIn(Strict):
    host_bp: int = Field(ge=0, le=10_000)
    cohosts: list[CohostShare] = Field(default_factory=list, max_length=4)


class CreditOut(BaseModel):
    attribution: dict[str, object] = Field(description='{"room_id", "host_id", "cohosts": [{"user_id", "share_bp"}]}')
    host_bp: int


class CartIn(Strict):
    product_id: int = Id
    sku_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    quantity: int = Field(default=1, ge=1, le=1000)


class RoomDealIn(Strict):
    product_id: int = Id
    sku_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    price_amount: int = Field(ge=1, description="Minor units, merchant currency")
    stock: int = Field(ge=1, le=1_000_000)
    per_buyer_limit: int = Field(default=1, ge=1, le=1000)
    seconds: int = Field(ge=10, le=300, description="The deal runs from now for this long")


class RoomAuctionIn(Strict):
    product_id: int = Id
    starting_amount: int = Field(ge=1)
    increment_amount: int = Field(ge=1)
    seconds: int = Field(ge=10, le=3600)


class ClickIn(Strict):
    product_id: int = Id


class ReplayEvent(BaseModel):
    offset_ms: int
    event: dict[str, object]


class ReplayOut(BaseModel):
    room_id: int
    went_live_at: str | None
    events: list[ReplayEvent]
