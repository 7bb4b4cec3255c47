"""Correlated columns that let one SELECT carry what used to take a query per table:
a product's title in the reader's language, whether a SKU has quantity tiers."""

from __future__ import annotations

from sqlalchemy import ColumnElement, SQLColumnExpression, exists, func, select

from passerelle.catalog.models import PriceTier, Product, ProductTranslation, Sku


def _title_in(language: SQLColumnExpression[str] | str, *, skip_empty: bool) -> ColumnElement[str | None]:
    title = func.nullif(ProductTranslation.title, "") if skip_empty else ProductTranslation.title
    return (
        select(title)
        .where(ProductTranslation.product_id == Product.id, ProductTranslation.language == language)
        .correlate(Product)
        .scalar_subquery()
    )


def product_title(language: SQLColumnExpression[str] | str) -> ColumnElement[str | None]:
    """The cart's title: a non-empty one in `language`, else in the product's source
    language, else any title (null when the product has none)."""
    anyone = (
        select(ProductTranslation.title)
        .where(ProductTranslation.product_id == Product.id)
        .order_by(ProductTranslation.language)
        .limit(1)
        .correlate(Product)
        .scalar_subquery()
    )
    return func.coalesce(
        _title_in(language, skip_empty=True), _title_in(Product.source_language, skip_empty=True), anyone
    )


def order_title(language: SQLColumnExpression[str] | str) -> ColumnElement[str | None]:
    """The order line's title: the one in `language`, else in the source language (else null)."""
    return func.coalesce(_title_in(language, skip_empty=False), _title_in(Product.source_language, skip_empty=False))


def has_tiers() -> ColumnElement[bool]:
    """True when the SKU has quantity tiers: they are fetched only then (most SKUs have none)."""
    return exists().where(PriceTier.sku_id == Sku.id).correlate(Sku)
