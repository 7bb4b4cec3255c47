"""A merchant's catalog as CSV, in exactly the format the import reads back."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.csv_io.rows import OPTION_PREFIX, PRODUCT_COLUMNS, TEXT_COLUMNS
from passerelle.catalog.models import Category, PriceTier, Product, ProductTranslation, Sku
from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.errors import NotFound
from passerelle.merchants.models import Merchant
from passerelle.money import Money


def _major(amount: int, currency: str, *, decimal_comma: bool) -> str:
    text = format(Money(amount, currency).to_major(), "f")
    return text.replace(".", ",") if decimal_comma else text


async def export_catalog(session: AsyncSession, *, merchant_id: int, excel: bool = False) -> str:
    """Every product of the merchant (drafts and archived included), one row per SKU.

    Product columns are repeated on each SKU row so the file sorts and filters well in a
    spreadsheet. `excel=True` suits French Excel: `;` delimiter, decimal comma, and a
    UTF-8 byte-order mark so accents display.
    """
    merchant = await session.get(Merchant, merchant_id)
    if merchant is None:
        raise NotFound("merchant")
    currency = merchant.currency
    category_slugs = {cid: slug for cid, slug in (await session.execute(select(Category.id, Category.slug))).all()}
    products = (
        await session.execute(select(Product).where(Product.merchant_id == merchant_id).order_by(Product.id))
    ).scalars()
    texts: dict[int, dict[str, ProductTranslation]] = {}
    translations = select(ProductTranslation).join(Product).where(Product.merchant_id == merchant_id)
    for text in (await session.execute(translations)).scalars():
        texts.setdefault(text.product_id, {})[text.language] = text
    skus: dict[int, list[Sku]] = {}
    sku_query = select(Sku).where(Sku.merchant_id == merchant_id).order_by(Sku.position, Sku.id)
    for sku in (await session.execute(sku_query)).scalars():
        skus.setdefault(sku.product_id, []).append(sku)
    tiers: dict[int, list[PriceTier]] = {}
    tier_query = select(PriceTier).join(Sku).where(Sku.merchant_id == merchant_id).order_by(PriceTier.min_quantity)
    for tier in (await session.execute(tier_query)).scalars():
        tiers.setdefault(tier.sku_id, []).append(tier)
    option_names = sorted({str(name) for group in skus.values() for sku in group for name in sku.options or {}})

    def money(amount: int) -> str:
        return _major(amount, currency, decimal_comma=excel)

    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=";" if excel else ",", lineterminator="\r\n")
    option_columns = [OPTION_PREFIX + name for name in option_names]
    writer.writerow(
        [
            "product_ref",
            "sku_code",
            *PRODUCT_COLUMNS,
            *TEXT_COLUMNS,
            *option_columns,
            "price",
            "stock",
            "tiers",
        ]
    )
    for product in products:
        text_cells: list[str] = []
        for language in SUPPORTED_LANGUAGES:
            translation = texts.get(product.id, {}).get(language)
            text_cells += [translation.title, translation.description] if translation else ["", ""]
        product_cells = [
            product.status.value,
            category_slugs.get(product.category_id, "") if product.category_id else "",
            product.source_language,
            str(product.min_order_quantity),
        ]
        for sku in skus.get(product.id, []):
            options = sku.options or {}
            writer.writerow(
                [
                    product.slug,
                    sku.code,
                    *product_cells,
                    *text_cells,
                    *(str(options.get(name, "")) for name in option_names),
                    money(sku.price_amount),
                    str(sku.stock),
                    "|".join(f"{t.min_quantity}:{money(t.unit_amount)}" for t in tiers.get(sku.id, [])),
                ]
            )
    return ("\ufeff" if excel else "") + buffer.getvalue()
