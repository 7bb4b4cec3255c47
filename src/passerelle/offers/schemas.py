"""API shapes for offers. Amounts are in the seller's currency, minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from passerelle.catalog.schemas import MoneyOut
from passerelle.offers.models import OfferStatus

Amount = Annotated[int, Field(ge=1, le=10**12, description="Seller's currency, minor units")]
Message = Annotated[str, StringConstraints(max_length=500)]


class OfferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(ge=1, le=2**62)
    amount: Amount
    message: Message = ""


class CounterIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: Amount
    message: Message = ""


class ProposalOut(BaseModel):
    made_by: Literal["buyer", "seller"]
    amount: MoneyOut
    message: str
    at: datetime


class OfferOut(BaseModel):
    id: int
    status: OfferStatus
    sku_id: int
    merchant_id: int
    buyer_id: int
    amount: MoneyOut = Field(description="The latest proposal; the agreed price once accepted")
    asking_price: MoneyOut
    awaiting: Literal["buyer", "seller"] | None = Field(description="Whose turn it is while the offer is open")
    your_turn: bool
    rounds: int
    expires_at: datetime = Field(description="Open: when the proposal lapses. Accepted: the last moment to check out")
    accepted_at: datetime | None
    closed_by: str | None
    purchase_id: int | None
    item: Literal["available", "reserved", "sold", "unavailable"] = Field(
        description="`sold` once a one-off item was bought"
    )
    history: list[ProposalOut]


class OfferList(BaseModel):
    items: list[OfferOut]
    total: int
