"""Catalog tables.

A product belongs to one merchant and has one or more SKUs (its variants, each with its
own options, price and stock). Texts live in `product_translations`, one row per language;
`source_language` is the language the merchant wrote, used when a translation is missing.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, TimestampMixin, UTCDateTime, utcnow


class ProductStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    archived = "archived"


class Category(Base):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    # {"fr": "Parfums", "en": "Perfume", ...}
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Product(TimestampMixin, Base):
    __tablename__ = "products"
    __table_args__ = (
        UniqueConstraint("merchant_id", "slug"),
        Index("ix_products_listing", "status", "merchant_id"),
        CheckConstraint("min_order_quantity >= 1", name="moq_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    category_id: Mapped[int | None] = mapped_column(ForeignKey("categories.id"), index=True)
    slug: Mapped[str] = mapped_column(String(160))
    source_language: Mapped[str] = mapped_column(String(5))
    status: Mapped[ProductStatus] = mapped_column(
        Enum(ProductStatus, native_enum=False, length=20), default=ProductStatus.draft
    )
    min_order_quantity: Mapped[int] = mapped_column(Integer, default=1)
    # Denormalised "from" price (cheapest SKU) in the merchant's currency, for listing/sort.
    price_amount: Mapped[int] = mapped_column(BigInteger, default=0, index=True)
    currency: Mapped[str] = mapped_column(String(3))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class ProductTranslation(Base):
    __tablename__ = "product_translations"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")


class Sku(Base):
    __tablename__ = "skus"
    __table_args__ = (
        UniqueConstraint("merchant_id", "code"),
        CheckConstraint("stock >= 0", name="stock_not_negative"),
        CheckConstraint("reserved >= 0", name="reserved_not_negative"),
        CheckConstraint("sold >= 0", name="sold_not_negative"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    # Copied from the product so merchant-scoped lookups and the SKU code uniqueness need no join.
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(64))
    # {"size": "M", "colour": "rouge"}
    options: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    price_amount: Mapped[int] = mapped_column(BigInteger)
    # available units; `reserved` are held by unpaid orders, `sold` are paid and not returned.
    # Every movement is one conditional UPDATE, so stock + reserved + sold only changes when
    # the merchant sets the stock.
    stock: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sold: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    position: Mapped[int] = mapped_column(Integer, default=0)


class PriceTier(Base):
    """B2B quantity pricing: from `min_quantity` units on, each unit costs `unit_amount`."""

    __tablename__ = "price_tiers"
    __table_args__ = (CheckConstraint("min_quantity >= 2", name="tier_min_quantity"),)

    sku_id: Mapped[int] = mapped_column(ForeignKey("skus.id", ondelete="CASCADE"), primary_key=True)
    min_quantity: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_amount: Mapped[int] = mapped_column(BigInteger)


class CatalogVersion(Base):
    """One row: the version of what checkout pricing reads (orders/pricing_cache.py). On
    SQLite, triggers (migration 0021) give it a new random value in the same transaction as
    any change to those rows; the stock columns of `skus` excepted, they move with every order."""

    __tablename__ = "catalog_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger)


class ProductImage(TimestampMixin, Base):
    __tablename__ = "product_images"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(50))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    alt: Mapped[str] = mapped_column(String(200), default="")
