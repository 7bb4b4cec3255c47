"""API shapes for checkout and orders."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from passerelle.catalog.schemas import MoneyOut
from passerelle.orders.models import OrderStatus

Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Line
    line1: Line
    line2: Annotated[str, StringConstraints(max_length=200)] = ""
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)]
    phone: Annotated[str, StringConstraints(max_length=40)] = ""


class CheckoutIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    shipping_address: AddressIn
    payment_provider: Annotated[str, StringConstraints(max_length=30)] = "sandbox"
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = Field(
        default=None, description="Currency to pay in; the buyer's preference when omitted"
    )
    coupon_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: Annotated[str, StringConstraints(min_length=2, max_length=2)]
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] | None = None


class MerchantTotalsOut(BaseModel):
    merchant_id: int
    merchant_name: str
    subtotal: MoneyOut
    shipping: MoneyOut
    vat_included: MoneyOut
    total: MoneyOut
    total_buyer: MoneyOut


class PreviewOut(BaseModel):
    merchants: list[MerchantTotalsOut]
    total: MoneyOut = Field(description="VAT included, shipping included, in the buyer's currency")


class OrderSummaryOut(BaseModel):
    id: int
    merchant_id: int
    status: OrderStatus
    total: MoneyOut
    total_buyer: MoneyOut


class PaymentRefOut(BaseModel):
    id: str
    pay_url: str
    amount: MoneyOut
    status: str


class CheckoutOut(BaseModel):
    purchase_id: int
    orders: list[OrderSummaryOut]
    payment: PaymentRefOut
    total: MoneyOut
    pay_by: datetime


class OrderLineOut(BaseModel):
    id: int
    sku_id: int
    product_id: int
    title: str
    sku_code: str
    quantity: int
    returned_quantity: int
    unit_price: MoneyOut
    line_total: MoneyOut
    vat_rate_bp: int
    vat: MoneyOut
    attribution: dict[str, Any] | None


class OrderEventOut(BaseModel):
    from_status: str | None
    to_status: str
    actor_kind: str
    actor_id: int | None
    note: str
    at: datetime


class OrderOut(BaseModel):
    id: int
    purchase_id: int
    merchant_id: int
    merchant_name: str
    buyer_id: int
    status: OrderStatus
    subtotal: MoneyOut
    shipping: MoneyOut
    vat_included: MoneyOut
    total: MoneyOut
    total_buyer: MoneyOut
    refunded: MoneyOut
    commission: MoneyOut | None = Field(default=None, description="Merchant and operator only")
    ship_to_country: str
    pay_by: datetime | None
    created_at: datetime
    lines: list[OrderLineOut]
    history: list[OrderEventOut]


class OrderList(BaseModel):
    items: list[OrderSummaryOut]
    total: int


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    note: Annotated[str, StringConstraints(max_length=500)] = ""


class ReturnedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_id: int = Field(ge=1, le=2**62)
    quantity: int = Field(ge=1, le=10_000)
    restock: bool = True


class RefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(
        default=None, ge=1, le=10**12, description="Merchant currency minor units; default: value of the returned lines"
    )
    lines: list[ReturnedLineIn] = Field(default_factory=list, max_length=200)
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class RefundOut(BaseModel):
    id: int
    order_id: int
    amount: MoneyOut
    buyer_amount: MoneyOut
    commission_reversed: MoneyOut
    order_status: OrderStatus
