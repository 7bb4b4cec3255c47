"""API shapes for the cart."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from passerelle.catalog.schemas import MoneyOut


class CartItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: int = Field(ge=1, le=2**62)
    quantity: int = Field(default=1, ge=1, le=10_000)
    attribution: dict[str, str | int] | None = Field(
        default=None, max_length=10, description="room_id, host_id, creator link..."
    )


class QuantityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: int = Field(ge=0, le=10_000)


class CartLineOut(BaseModel):
    sku_id: int
    product_id: int
    merchant_id: int
    title: str
    sku_code: str
    options: dict[str, Any]
    quantity: int
    unit_price: MoneyOut = Field(description="Merchant currency, tier applied")
    line_total: MoneyOut
    line_total_buyer: MoneyOut = Field(description="In the buyer's currency")
    in_stock: bool
    min_order_quantity: int


class CartOut(BaseModel):
    items: list[CartLineOut]
    total: MoneyOut = Field(description="Items only, in the buyer's currency; shipping comes at checkout")
    count: int
