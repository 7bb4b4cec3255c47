"""API shapes for festivals and deals."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from passerelle.catalog.schemas import MoneyOut
from passerelle.orders.schemas import CheckoutIn, CheckoutOut


class FestivalIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    time_zone: Annotated[str, StringConstraints(max_length=64)] = "Europe/Paris"


class FestivalOut(BaseModel):
    id: int
    name: str
    slug: str
    starts_at: datetime
    ends_at: datetime
    time_zone: str
    running: bool


class PresaleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    deposit_amount: int = Field(ge=1, le=10**12, description="Per unit, merchant currency, minor units")
    deposit_credit_amount: int | None = Field(
        default=None, ge=1, le=10**12, description="What a deposit takes off the price (at least the deposit)"
    )
    opens_at: AwareDatetime = Field(description="When deposits open (before the deal starts)")
    balance_due_at: AwareDatetime = Field(description="Balance payable from the deal's start until then")
    stock: int = Field(ge=1, le=10_000_000, description="Units sold by deposit, out of the deal's stock")


class DealIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    festival_id: int = Field(ge=1, le=2**62)
    sku_id: int = Field(ge=1, le=2**62)
    price_amount: int = Field(ge=1, le=10**12, description="Merchant currency, minor units")
    stock: int = Field(ge=1, le=10_000_000)
    per_buyer_limit: int = Field(default=1, ge=1, le=1000)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    hold_seconds: int = Field(default=900, ge=10, le=86_400, description="How long an unpaid claim holds a unit")
    presale: PresaleIn | None = Field(default=None, description="Take deposits before the deal starts")


class PresaleOut(BaseModel):
    deposit: MoneyOut
    deposit_credit: MoneyOut
    balance: MoneyOut
    opens_at: datetime
    balance_from: datetime
    balance_due_at: datetime
    stock: int
    remaining: int


class DealOut(BaseModel):
    id: int
    festival_id: int
    merchant_id: int
    sku_id: int
    price: MoneyOut
    stock: int
    remaining: int
    per_buyer_limit: int
    starts_at: datetime
    ends_at: datetime
    status: str
    presale: PresaleOut | None = None


class DealList(BaseModel):
    items: list[DealOut]
    festival: FestivalOut | None


class DepositIn(CheckoutIn):
    quantity: int = Field(default=1, ge=1, le=1000)


class BuyerPresaleOut(BaseModel):
    id: int
    deal_id: int
    quantity: int
    status: str
    deposit_order_id: int | None
    balance_order_id: int | None
    terms: PresaleOut


class DepositOut(BaseModel):
    presale: BuyerPresaleOut
    checkout: CheckoutOut


class BuyerPresaleList(BaseModel):
    items: list[BuyerPresaleOut]
