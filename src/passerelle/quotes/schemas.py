"""API shapes for requests for quote. Amounts are in the wholesaler's currency, minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from passerelle.catalog.schemas import MoneyOut
from passerelle.quotes.models import QuoteStatus

DbId = Annotated[int, Field(ge=1, le=2**62)]


class AskedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: DbId
    quantity: int = Field(ge=1, le=1_000_000)


class QuoteRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_id: DbId = Field(description="A wholesaler (merchant kind `wholesale`)")
    lines: list[AskedLineIn] = Field(min_length=1, max_length=50)
    message: Annotated[str, StringConstraints(max_length=2000)] = ""
    company_id: DbId | None = Field(default=None, description="Ask on behalf of a company you belong to")


class PricedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: DbId
    unit_amount: int = Field(ge=0, le=10**12, description="Unit price, VAT included, merchant currency minor units")


class QuoteAnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[PricedLineIn] = Field(min_length=1, max_length=50)
    valid_until: AwareDatetime = Field(description="The buyer can accept until then (at most 90 days ahead)")
    note: Annotated[str, StringConstraints(max_length=2000)] = ""


class QuoteDeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class QuoteLineOut(BaseModel):
    id: int
    sku_id: int
    sku_code: str
    product_id: int
    quantity: int
    unit_price: MoneyOut | None = Field(description="Set once answered")
    line_total: MoneyOut | None


class QuoteOut(BaseModel):
    id: int
    status: QuoteStatus
    buyer_id: int
    company_id: int | None
    merchant_id: int
    message: str
    answer_note: str
    lines: list[QuoteLineOut]
    subtotal: MoneyOut | None = Field(description="Sum of the quoted lines, VAT included, before shipping")
    valid_until: datetime | None
    decline_reason: str
    closed_by: str | None
    purchase_id: int | None
    created_at: datetime
    answered_at: datetime | None
    accepted_at: datetime | None


class QuoteList(BaseModel):
    items: list[QuoteOut]
    total: int
