"""API shapes for the catalog. Inputs carry limits so oversized fields fail early with 422."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from passerelle.catalog.availability import Availability
from passerelle.catalog.models import ProductStatus

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=10_000)]
Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._\-]+$")
]
LanguageCode = Annotated[str, StringConstraints(min_length=2, max_length=5)]
OptionValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MoneyOut(BaseModel):
    amount: int = Field(description="Integer minor units (cents for EUR)")
    currency: str = Field(description="ISO 4217 code")


class TextIn(Strict):
    title: Title
    description: Description = ""


class TierIn(Strict):
    min_quantity: int = Field(ge=2, le=1_000_000)
    unit_amount: int = Field(ge=0, le=10**12)


class SkuIn(Strict):
    code: Code
    options: dict[Annotated[str, StringConstraints(min_length=1, max_length=30)], OptionValue] = Field(
        default_factory=dict, max_length=5
    )
    price_amount: int = Field(ge=0, le=10**12, description="Unit price in the merchant's currency, minor units")
    stock: int = Field(ge=0, le=10**9)
    tiers: list[TierIn] = Field(default_factory=list, max_length=10)


class ProductIn(Strict):
    slug: Annotated[str, StringConstraints(max_length=160, pattern=r"^[a-z0-9\-]*$")] | None = None
    category: Annotated[str, StringConstraints(max_length=80)] | None = Field(default=None, description="Category slug")
    source_language: LanguageCode
    texts: dict[LanguageCode, TextIn] = Field(min_length=1, max_length=10)
    skus: list[SkuIn] = Field(min_length=1, max_length=200)
    min_order_quantity: int = Field(default=1, ge=1, le=1_000_000)
    status: ProductStatus = ProductStatus.draft


class StockIn(Strict):
    stock: int = Field(ge=0, le=10**9)


class StatusIn(Strict):
    status: ProductStatus


class MerchantRef(BaseModel):
    id: int
    name: str
    slug: str
    kind: str


class ProductCard(BaseModel):
    id: int
    title: str
    language: str = Field(description="Language the title is in")
    fallback: bool = Field(description="True when the title is the source text, not a translation")
    price: MoneyOut = Field(description="From-price in the viewer's currency")
    original_price: MoneyOut = Field(description="From-price in the merchant's currency")
    merchant: MerchantRef
    image_url: str | None
    min_order_quantity: int
    category: str | None


class TierOut(BaseModel):
    min_quantity: int
    unit_price: MoneyOut


class SkuOut(BaseModel):
    id: int
    code: str
    options: dict[str, Any]
    stock: int
    availability: Availability = Field(
        description="available, reserved (held by an unpaid checkout), sold or unavailable"
    )
    price: MoneyOut
    original_price: MoneyOut
    tiers: list[TierOut]


class ImageOut(BaseModel):
    id: int
    url: str
    width: int
    height: int
    alt: str


class ProductDetail(ProductCard):
    description: str
    status: str
    source_language: str
    available_languages: list[str]
    skus: list[SkuOut]
    images: list[ImageOut]


class ProductList(BaseModel):
    items: list[ProductCard]
    total: int
    page: int
    per_page: int


class CategoryOut(BaseModel):
    id: int
    slug: str
    name: str
    parent_id: int | None
