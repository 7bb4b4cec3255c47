"""Catalog reads: product cards and details in the viewer's language and currency.

Cards for a page are assembled with one query per table (never one per product).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.availability import availability
from passerelle.catalog.models import (
    Category,
    PriceTier,
    Product,
    ProductImage,
    ProductStatus,
    ProductTranslation,
    Sku,
)
from passerelle.catalog.schemas import (
    ImageOut,
    MerchantRef,
    MoneyOut,
    ProductCard,
    ProductDetail,
    SkuOut,
    TierOut,
)
from passerelle.errors import NotFound
from passerelle.merchants.models import Merchant, MerchantStatus
from passerelle.money import FxTable, Money


def media_url(key: str) -> str:
    return f"/media/{key}"


def _money(money: Money) -> MoneyOut:
    return MoneyOut(amount=money.amount, currency=money.currency)


def _pick_text(
    texts: dict[str, ProductTranslation], language: str, source_language: str
) -> tuple[ProductTranslation, bool]:
    """The translation in `language`, else the source text (flagged as a fallback)."""
    if language in texts:
        return texts[language], False
    if source_language in texts:
        return texts[source_language], True
    return next(iter(texts.values())), True


async def cards(
    session: AsyncSession, *, product_ids: Sequence[int], language: str, currency: str, fx: FxTable
) -> list[ProductCard]:
    if not product_ids:
        return []
    rows = await session.execute(
        select(Product, Merchant).join(Merchant, Merchant.id == Product.merchant_id).where(Product.id.in_(product_ids))
    )
    products = {p.id: (p, m) for p, m in rows.all()}
    texts = await _texts(session, product_ids)
    first_images = await _first_images(session, product_ids)
    categories = await _category_names(session, language)
    result = []
    for pid in product_ids:
        if pid not in products or pid not in texts:
            continue
        product, merchant = products[pid]
        text, fallback = _pick_text(texts[pid], language, product.source_language)
        original = Money(product.price_amount, product.currency)
        result.append(
            ProductCard(
                id=product.id,
                title=text.title,
                language=text.language,
                fallback=fallback,
                price=_money(fx.convert(original, currency)),
                original_price=_money(original),
                merchant=MerchantRef(id=merchant.id, name=merchant.name, slug=merchant.slug, kind=merchant.kind.value),
                image_url=first_images.get(pid),
                min_order_quantity=product.min_order_quantity,
                category=categories.get(product.category_id) if product.category_id else None,
            )
        )
    return result


async def _texts(session: AsyncSession, product_ids: Sequence[int]) -> dict[int, dict[str, ProductTranslation]]:
    rows = await session.execute(select(ProductTranslation).where(ProductTranslation.product_id.in_(product_ids)))
    texts: dict[int, dict[str, ProductTranslation]] = {}
    for t in rows.scalars():
        texts.setdefault(t.product_id, {})[t.language] = t
    return texts


async def _first_images(session: AsyncSession, product_ids: Sequence[int]) -> dict[int, str]:
    rows = await session.execute(
        select(ProductImage.product_id, ProductImage.storage_key)
        .where(ProductImage.product_id.in_(product_ids))
        .order_by(ProductImage.product_id, ProductImage.position.desc())
    )
    # Ordered by position descending, so the last write per product is position 0.
    return {pid: media_url(key) for pid, key in rows.all()}


async def _category_names(session: AsyncSession, language: str) -> dict[int, str]:
    rows = await session.execute(select(Category.id, Category.names, Category.slug))
    return {cid: names.get(language) or names.get("en") or slug for cid, names, slug in rows.all()}


async def detail(
    session: AsyncSession,
    *,
    product_id: int,
    language: str,
    currency: str,
    fx: FxTable,
    staff_merchant_ids: Sequence[int] = (),
) -> ProductDetail:
    """A product page. Drafts and unapproved merchants are visible only to the merchant's staff."""
    row = (
        await session.execute(
            select(Product, Merchant).join(Merchant, Merchant.id == Product.merchant_id).where(Product.id == product_id)
        )
    ).first()
    if row is None:
        raise NotFound("product")
    product, merchant = row
    public = product.status == ProductStatus.published and merchant.status == MerchantStatus.approved
    if not public and merchant.id not in staff_merchant_ids:
        raise NotFound("product")
    (card,) = await cards(session, product_ids=[product_id], language=language, currency=currency, fx=fx)
    texts = (await _texts(session, [product_id]))[product_id]
    text, _ = _pick_text(texts, language, product.source_language)
    skus = list(
        (
            await session.execute(select(Sku).where(Sku.product_id == product_id).order_by(Sku.position, Sku.id))
        ).scalars()
    )
    tiers: dict[int, list[PriceTier]] = {}
    for tier in (
        await session.execute(
            select(PriceTier).where(PriceTier.sku_id.in_([s.id for s in skus])).order_by(PriceTier.min_quantity)
        )
    ).scalars():
        tiers.setdefault(tier.sku_id, []).append(tier)
    images = (
        await session.execute(
            select(ProductImage).where(ProductImage.product_id == product_id).order_by(ProductImage.position)
        )
    ).scalars()
    return ProductDetail(
        **card.model_dump(),
        description=text.description,
        status=product.status.value,
        source_language=product.source_language,
        available_languages=sorted(texts),
        skus=[
            SkuOut(
                id=sku.id,
                code=sku.code,
                options=sku.options,
                stock=sku.stock,
                availability=availability(stock=sku.stock, reserved=sku.reserved, sold=sku.sold),
                price=_money(fx.convert(Money(sku.price_amount, product.currency), currency)),
                original_price=_money(Money(sku.price_amount, product.currency)),
                tiers=[
                    TierOut(
                        min_quantity=t.min_quantity,
                        unit_price=_money(fx.convert(Money(t.unit_amount, product.currency), currency)),
                    )
                    for t in tiers.get(sku.id, [])
                ],
            )
            for sku in skus
        ],
        images=[
            ImageOut(id=i.id, url=media_url(i.storage_key), width=i.width, height=i.height, alt=i.alt) for i in images
        ],
    )
