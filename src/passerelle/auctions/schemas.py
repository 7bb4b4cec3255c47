"""API shapes for auctions."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from passerelle.catalog.schemas import MoneyOut


class AuctionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(ge=1, le=2**62)
    starting_amount: int = Field(ge=1, le=10**12, description="Merchant currency, minor units")
    increment_amount: int = Field(ge=1, le=10**12, description="The least a bid raises the price by")
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    room_id: int | None = Field(default=None, ge=1, le=2**62, description="The live room running the auction")
    snipe_window_seconds: int = Field(default=30, ge=5, le=600, description="A bid this close to the end extends it")
    extend_seconds: int = Field(default=30, ge=5, le=600, description="...to this long after the bid")


class AuctionOut(BaseModel):
    id: int
    merchant_id: int
    sku_id: int
    room_id: int | None
    status: str
    price: MoneyOut  # the current price (the starting price before any bid)
    minimum_bid: MoneyOut
    bids: int
    starts_at: datetime
    ends_at: datetime
    leading: bool = Field(description="The viewer leads (their maximum is `your_max`)")
    your_max: MoneyOut | None = None
    pay_by: datetime | None = None


class AuctionList(BaseModel):
    items: list[AuctionOut]


class BidIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_amount: int = Field(ge=1, le=10**12, description="The most you will pay; the system bids for you up to it")


class BidOut(BaseModel):
    leading: bool
    price: MoneyOut
    minimum_bid: MoneyOut
    ends_at: datetime
    extended: bool
