"""From one product's CSV rows to the API's `ProductIn`, with row-level errors.

A column left out of the file keeps the product's current value (new products get the
default), so a short file that only has prices and stock never wipes translations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.csv_io.rows import OPTION_PREFIX, ProductRows, RowError
from passerelle.catalog.models import (
    Category,
    PriceTier,
    Product,
    ProductStatus,
    ProductTranslation,
    Sku,
)
from passerelle.catalog.schemas import ProductIn
from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.errors import DomainError
from passerelle.merchants.models import Merchant, MerchantStatus
from passerelle.money import Money

_DECIMAL = re.compile(r"^\d{1,15}(?:[.,]\d{1,6})?$")
_INTEGER = re.compile(r"^\d{1,12}$")
_SPACES = re.compile(r"\s+")  # \s also matches the no-break spaces of French number formats


@dataclass
class Existing:
    """What a product already holds, for the columns a file leaves out."""

    product: Product
    category: str | None
    texts: dict[str, tuple[str, str]] = field(default_factory=dict)
    skus: dict[str, tuple[dict[str, str], list[dict[str, int]]]] = field(default_factory=dict)


@dataclass
class Context:
    merchant: Merchant
    columns: list[str]
    categories: set[str]
    existing: dict[str, Existing]  # by product_ref (= slug)
    code_owner: dict[str, str]  # SKU code -> product_ref that holds it today
    seen_codes: dict[str, int] = field(default_factory=dict)  # SKU code -> first line in the file


async def load_context(session: AsyncSession, *, merchant: Merchant, columns: list[str]) -> Context:
    """The merchant's current catalog, read once (a query per table, never per product)."""
    category_slugs = {cid: slug for cid, slug in (await session.execute(select(Category.id, Category.slug))).all()}
    by_id: dict[int, Existing] = {}
    for product in (await session.execute(select(Product).where(Product.merchant_id == merchant.id))).scalars():
        category = category_slugs.get(product.category_id) if product.category_id else None
        by_id[product.id] = Existing(product=product, category=category)
    translations = select(ProductTranslation).join(Product).where(Product.merchant_id == merchant.id)
    for text in (await session.execute(translations)).scalars():
        by_id[text.product_id].texts[text.language] = (text.title, text.description)
    tiers: dict[int, list[dict[str, int]]] = {}
    tier_query = select(PriceTier).join(Sku).where(Sku.merchant_id == merchant.id).order_by(PriceTier.min_quantity)
    for tier in (await session.execute(tier_query)).scalars():
        tiers.setdefault(tier.sku_id, []).append({"min_quantity": tier.min_quantity, "unit_amount": tier.unit_amount})
    code_owner: dict[str, str] = {}
    for sku in (await session.execute(select(Sku).where(Sku.merchant_id == merchant.id))).scalars():
        options = {str(k): str(v) for k, v in (sku.options or {}).items()}
        by_id[sku.product_id].skus[sku.code] = (options, tiers.get(sku.id, []))
        code_owner[sku.code] = by_id[sku.product_id].product.slug
    return Context(
        merchant=merchant,
        columns=columns,
        categories=set(category_slugs.values()),
        existing={e.product.slug: e for e in by_id.values()},
        code_owner=code_owner,
    )


def product_input(group: ProductRows, context: Context, errors: list[RowError]) -> ProductIn | None:
    """The API input for one product, or None with its problems appended to `errors`."""
    found: list[RowError] = []
    existing = context.existing.get(group.ref)
    columns = context.columns

    def value_of(column: str, current: str | None) -> tuple[str | None, int]:
        """First non-empty cell of the column; absent column -> the current value."""
        if column not in columns:
            return current, group.first_line
        value, line = "", group.first_line
        for row in group.rows:
            cell = row.cells[column]
            if cell and not value:
                value, line = cell, row.line
            elif cell and cell != value:
                message = f"Differs from line {line} of the same product"
                found.append(RowError(row.line, column, "conflicting_value", message))
        return value, line

    status_raw, status_line = value_of("status", existing.product.status.value if existing else None)
    status = (status_raw or ProductStatus.draft.value).lower()
    if status == ProductStatus.published and context.merchant.status != MerchantStatus.approved:
        message = "Publish once an operator has approved the shop"
        found.append(RowError(status_line, "status", "merchant_not_approved", message))
    category, category_line = value_of("category", existing.category if existing else None)
    if category and category not in context.categories:
        message = f"Unknown category: {category!r}"
        found.append(RowError(category_line, "category", "unknown_category", message))
    default_language = existing.product.source_language if existing else _default_language(columns)
    source_raw, source_line = value_of("source_language", default_language)
    source = (source_raw or default_language).lower()
    if source not in SUPPORTED_LANGUAGES:
        message = f"Use one of {', '.join(SUPPORTED_LANGUAGES)}"
        found.append(RowError(source_line, "source_language", "unsupported_language", message))
    moq_raw, moq_line = value_of("min_order_quantity", str(existing.product.min_order_quantity) if existing else None)
    moq = _integer(moq_raw or "1", moq_line, "min_order_quantity", found)

    texts: dict[str, dict[str, str]] = {}
    for language in SUPPORTED_LANGUAGES:
        old_title, old_description = existing.texts.get(language, ("", "")) if existing else ("", "")
        title, _ = value_of(f"title_{language}", old_title)
        description, description_line = value_of(f"description_{language}", old_description)
        if title:
            texts[language] = {"title": title, "description": description or ""}
        elif description:
            message = "A description needs a title in the same language"
            found.append(RowError(description_line, f"title_{language}", "missing_title", message))
    if source in SUPPORTED_LANGUAGES and source not in texts:
        message = f"Give the title in the source language ({source})"
        found.append(RowError(group.first_line, f"title_{source}", "missing_title", message))

    payload = {
        "slug": group.ref,
        "category": category or None,
        "source_language": source,
        "texts": texts,
        "skus": [_sku_input(row.line, row.cells, group, existing, context, found) for row in group.rows],
        "min_order_quantity": moq,
        "status": status,
    }
    data: ProductIn | None = None
    try:
        data = ProductIn.model_validate(payload)
    except ValidationError as invalid:
        found.extend(_validation_errors(invalid, group, source))
    errors.extend(found)
    return None if found else data


def _default_language(columns: list[str]) -> str:
    titled = [lang for lang in SUPPORTED_LANGUAGES if f"title_{lang}" in columns]
    return "fr" if "fr" in titled or not titled else titled[0]


def _sku_input(
    line: int,
    cells: dict[str, str],
    group: ProductRows,
    existing: Existing | None,
    context: Context,
    found: list[RowError],
) -> dict[str, Any]:
    code = cells["sku_code"]
    if not code:
        found.append(RowError(line, "sku_code", "missing_sku_code", "Give the SKU code"))
    elif code in context.seen_codes:
        message = f"SKU code {code!r} is already on line {context.seen_codes[code]}"
        found.append(RowError(line, "sku_code", "duplicate_sku_code", message))
    else:
        context.seen_codes[code] = line
        owner = context.code_owner.get(code)
        if owner is not None and owner != group.ref:
            message = f"SKU code {code!r} belongs to product {owner!r}"
            found.append(RowError(line, "sku_code", "sku_code_taken", message))
    current_options, tiers = existing.skus.get(code, ({}, [])) if existing else ({}, [])
    options = dict(current_options)
    for column in context.columns:
        if column.startswith(OPTION_PREFIX):
            name = column[len(OPTION_PREFIX) :]
            if cells[column]:
                options[name] = cells[column]
            else:
                options.pop(name, None)
    currency = context.merchant.currency
    if "tiers" in context.columns:
        tiers = _tiers(cells["tiers"], line, currency, found)
    return {
        "code": code or "-",
        "options": options,
        "price_amount": _amount(cells["price"], line, "price", currency, found),
        "stock": _integer(cells["stock"], line, "stock", found),
        "tiers": tiers,
    }


def _amount(raw: str, line: int, column: str, currency: str, found: list[RowError]) -> int:
    """'49.90', '49,90' or '1 049,90' in major units -> minor units, exactly (never a float)."""
    text = _SPACES.sub("", raw)
    if _DECIMAL.match(text):
        try:
            return Money.from_major(text.replace(",", "."), currency).amount
        except DomainError as error:
            found.append(RowError(line, column, f"invalid_{column}", error.message))
            return 0
    message = f"{raw!r} is not an amount in {currency} such as 49.90"
    found.append(RowError(line, column, f"invalid_{column}", message))
    return 0


def _integer(raw: str, line: int, column: str, found: list[RowError]) -> int:
    text = _SPACES.sub("", raw)
    if _INTEGER.match(text):
        return int(text)
    found.append(RowError(line, column, f"invalid_{column}", f"{raw!r} is not a whole number"))
    return 1


def _tiers(raw: str, line: int, currency: str, found: list[RowError]) -> list[dict[str, int]]:
    """'10:45.00|50:40.00' -> from 10 units 45.00 each, from 50 units 40.00 each."""
    tiers: list[dict[str, int]] = []
    for part in filter(None, (p.strip() for p in raw.split("|"))):
        quantity, colon, price = part.partition(":")
        if not colon or not _INTEGER.match(quantity.strip()):
            message = f"{part!r}: write quantity:unit price, such as 10:45.00"
            found.append(RowError(line, "tiers", "invalid_tiers", message))
            continue
        tiers.append(
            {
                "min_quantity": int(quantity),
                "unit_amount": _amount(price, line, "tiers", currency, found),
            }
        )
    return tiers


_SKU_COLUMNS = {
    "code": ("sku_code", "invalid_sku_code"),
    "price_amount": ("price", "invalid_price"),
    "stock": ("stock", "invalid_stock"),
    "tiers": ("tiers", "invalid_tiers"),
    "options": (None, "invalid_option"),
}


def _validation_errors(invalid: ValidationError, group: ProductRows, source: str) -> Iterable[RowError]:
    """Pydantic's locations (skus.2.price_amount) -> CSV line and column (line 5, price)."""
    for detail in invalid.errors():
        loc, message = detail["loc"], str(detail["msg"])
        line, column, code = group.first_line, None, "invalid_request"
        head = str(loc[0]) if loc else ""
        if head == "slug":
            column, code = "product_ref", "invalid_product_ref"
        elif head in ("category", "status", "min_order_quantity", "source_language"):
            column, code = head, f"invalid_{head}"
        elif head == "texts" and len(loc) >= 3:
            kind = "title" if loc[2] == "title" else "description"
            column, code = f"{kind}_{loc[1]}", f"invalid_{kind}"
            if kind == "title" and detail["type"] == "string_too_short":
                code = "missing_title"
        elif head == "texts":
            column, code = f"title_{source}", "missing_title"
        elif head == "skus" and len(loc) >= 3:
            line = group.sku_line(loc[1])
            column, code = _SKU_COLUMNS.get(str(loc[2]), (None, "invalid_request"))
            if loc[2] == "options" and len(loc) > 3:
                column = f"{OPTION_PREFIX}{loc[3]}"
        elif head == "skus":
            column, code = "sku_code", "too_many_skus"
        yield RowError(line, column, code, message)


def service_error(error: DomainError, group: ProductRows, source_language: str) -> RowError:
    """A catalog rule's error (field 'skus.1.tiers', 'texts.fr'...) -> line and column."""
    parts = (error.field or "").split(".")
    line, column = group.first_line, error.field
    if parts[0] == "skus":
        if len(parts) > 1 and parts[1].isdigit():
            line = group.sku_line(int(parts[1]))
        column = "tiers" if parts[-1] == "tiers" else "sku_code"
    elif parts[0] == "texts":
        column = f"title_{parts[1] if len(parts) > 1 else source_language}"
    return RowError(line, column, error.code, error.message)
