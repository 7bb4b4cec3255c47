"""Catalog writes: products, SKUs, tiers, stock, images. Never commits.

Every function takes the acting user and checks they work for the product's merchant;
objects of another merchant answer 404 as if they did not exist.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog.models import (
    Category,
    PriceTier,
    Product,
    ProductImage,
    ProductStatus,
    ProductTranslation,
    Sku,
)
from passerelle.catalog.schemas import ProductIn, SkuIn
from passerelle.errors import Conflict, Invalid, NotFound
from passerelle.i18n.languages import check_language
from passerelle.infra.storage import BlobStorage
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant, MerchantKind
from passerelle.search import service as search
from passerelle.slugs import slugify

IMAGE_TYPES = {"JPEG": ("image/jpeg", ".jpg"), "PNG": ("image/png", ".png"), "WEBP": ("image/webp", ".webp")}
MAX_IMAGE_PIXELS = 40_000_000


async def category_by_slug(session: AsyncSession, *, slug: str) -> Category:
    category = (await session.execute(select(Category).where(Category.slug == slug))).scalar_one_or_none()
    if category is None:
        raise Invalid("unknown_category", f"Unknown category: {slug!r}", field="category")
    return category


def _check_product_input(data: ProductIn, merchant: Merchant) -> None:
    """Rules a schema cannot express. Raises before anything is written."""
    check_language(data.source_language, field="source_language")
    for language in data.texts:
        check_language(language, field=f"texts.{language}")
    if data.source_language not in data.texts:
        raise Invalid("missing_source_text", "Give the title in the product's source language", field="texts")
    codes = [sku.code for sku in data.skus]
    if len(set(codes)) != len(codes):
        raise Invalid("duplicate_sku_code", "Each SKU code must be unique", field="skus")
    wholesale = merchant.kind == MerchantKind.wholesale
    if data.min_order_quantity > 1 and not wholesale:
        raise Invalid("wholesale_only", "Minimum order quantities are for wholesalers", field="min_order_quantity")
    for index, sku in enumerate(data.skus):
        _check_tiers(sku, wholesale=wholesale, field=f"skus.{index}.tiers")


def _check_tiers(sku: SkuIn, *, wholesale: bool, field: str) -> None:
    if not sku.tiers:
        return
    if not wholesale:
        raise Invalid("wholesale_only", "Quantity price tiers are for wholesalers", field=field)
    quantities = [t.min_quantity for t in sku.tiers]
    if len(set(quantities)) != len(quantities):
        raise Invalid("invalid_tiers", "Two tiers start at the same quantity", field=field)
    previous = sku.price_amount
    for tier in sorted(sku.tiers, key=lambda t: t.min_quantity):
        if tier.unit_amount > previous:
            raise Invalid("invalid_tiers", "A larger quantity cannot cost more per unit", field=field)
        previous = tier.unit_amount


async def _free_product_slug(session: AsyncSession, merchant_id: int, base: str, exclude: int | None) -> str:
    slug, n = base or "product", 1
    while True:
        query = select(Product.id).where(Product.merchant_id == merchant_id, Product.slug == slug)
        if exclude is not None:
            query = query.where(Product.id != exclude)
        if (await session.execute(query)).first() is None:
            return slug
        n += 1
        slug = f"{base}-{n}"


async def create_product(session: AsyncSession, *, actor: User, merchant_id: int, data: ProductIn) -> Product:
    merchant = await merchants.require_staff(session, user=actor, merchant_id=merchant_id)
    return await create_product_for(session, merchant=merchant, data=data)


async def create_product_for(session: AsyncSession, *, merchant: Merchant, data: ProductIn) -> Product:
    """Create a product for an already-authorised merchant (used by the API, CSV import, seed)."""
    _check_product_input(data, merchant)
    if data.status == ProductStatus.published:
        merchants.require_approved(merchant)
    category_id = (await category_by_slug(session, slug=data.category)).id if data.category else None
    await _check_codes_free(session, merchant_id=merchant.id, codes=[s.code for s in data.skus], product_id=None)
    source_title = data.texts[data.source_language].title
    product = Product(
        merchant_id=merchant.id,
        category_id=category_id,
        slug=await _free_product_slug(session, merchant.id, data.slug or slugify(source_title), None),
        source_language=data.source_language,
        status=data.status,
        min_order_quantity=data.min_order_quantity,
        price_amount=min(s.price_amount for s in data.skus),
        currency=merchant.currency,
    )
    session.add(product)
    await session.flush()
    _write_texts(session, product.id, data)
    await _write_skus(session, product, data.skus)
    await session.flush()
    await search.index_product(session, product_id=product.id)
    return product


def _write_texts(session: AsyncSession, product_id: int, data: ProductIn) -> None:
    session.add_all(
        ProductTranslation(product_id=product_id, language=lang, title=t.title, description=t.description)
        for lang, t in data.texts.items()
    )


async def _write_skus(session: AsyncSession, product: Product, skus: list[SkuIn]) -> None:
    """Upsert SKUs by code: existing codes are updated in place, new ones added, absent ones removed."""
    existing = {
        sku.code: sku for sku in (await session.execute(select(Sku).where(Sku.product_id == product.id))).scalars()
    }
    wanted = {s.code for s in skus}
    for code, sku in existing.items():
        if code not in wanted:
            await session.delete(sku)
    for position, sku_in in enumerate(skus):
        found = existing.get(sku_in.code)
        if found is None:
            sku = Sku(product_id=product.id, merchant_id=product.merchant_id, code=sku_in.code)
            session.add(sku)
        else:
            sku = found
        sku.options = dict(sku_in.options)
        sku.price_amount = sku_in.price_amount
        sku.stock = sku_in.stock
        sku.position = position
        await session.flush()
        await session.execute(delete(PriceTier).where(PriceTier.sku_id == sku.id))
        session.add_all(
            PriceTier(sku_id=sku.id, min_quantity=t.min_quantity, unit_amount=t.unit_amount) for t in sku_in.tiers
        )


async def _check_codes_free(
    session: AsyncSession, *, merchant_id: int, codes: list[str], product_id: int | None
) -> None:
    query = select(Sku.code).where(Sku.merchant_id == merchant_id, Sku.code.in_(codes))
    if product_id is not None:
        query = query.where(Sku.product_id != product_id)
    taken = list((await session.execute(query)).scalars())
    if taken:
        raise Conflict("sku_code_taken", f"SKU code already used by another product: {taken[0]}", field="skus")


async def product_of_staff(session: AsyncSession, *, actor: User, product_id: int) -> Product:
    """The product, if `actor` works for its merchant; 404 otherwise."""
    product = await session.get(Product, product_id)
    if product is None or await merchants.membership(session, user=actor, merchant_id=product.merchant_id) is None:
        raise NotFound("product")
    return product


async def update_product(session: AsyncSession, *, actor: User, product_id: int, data: ProductIn) -> Product:
    product = await product_of_staff(session, actor=actor, product_id=product_id)
    merchant = await merchants.get(session, merchant_id=product.merchant_id)
    return await replace_product(session, merchant=merchant, product=product, data=data)


async def replace_product(session: AsyncSession, *, merchant: Merchant, product: Product, data: ProductIn) -> Product:
    _check_product_input(data, merchant)
    if data.status == ProductStatus.published:
        merchants.require_approved(merchant)
    await _check_codes_free(session, merchant_id=merchant.id, codes=[s.code for s in data.skus], product_id=product.id)
    product.category_id = (await category_by_slug(session, slug=data.category)).id if data.category else None
    if data.slug:
        product.slug = await _free_product_slug(session, merchant.id, data.slug, product.id)
    product.source_language = data.source_language
    product.status = data.status
    product.min_order_quantity = data.min_order_quantity
    product.price_amount = min(s.price_amount for s in data.skus)
    await session.execute(delete(ProductTranslation).where(ProductTranslation.product_id == product.id))
    _write_texts(session, product.id, data)
    await _write_skus(session, product, data.skus)
    await session.flush()
    await search.index_product(session, product_id=product.id)
    return product


async def set_status(session: AsyncSession, *, actor: User, product_id: int, status: ProductStatus) -> Product:
    product = await product_of_staff(session, actor=actor, product_id=product_id)
    if status == ProductStatus.published:
        merchants.require_approved(await merchants.get(session, merchant_id=product.merchant_id))
    product.status = status
    await session.flush()
    await search.index_product(session, product_id=product.id)
    return product


async def set_stock(session: AsyncSession, *, actor: User, sku_id: int, stock: int) -> Sku:
    sku = await session.get(Sku, sku_id)
    if sku is None or await merchants.membership(session, user=actor, merchant_id=sku.merchant_id) is None:
        raise NotFound("sku")
    if stock < 0:
        raise Invalid("invalid_stock", "Stock cannot be negative", field="stock")
    # A single statement: a concurrent sale cannot be overwritten by a stale read.
    await session.execute(update(Sku).where(Sku.id == sku_id).values(stock=stock))
    await session.refresh(sku)
    return sku


async def add_image(
    session: AsyncSession, *, actor: User, product_id: int, data: bytes, storage: BlobStorage, alt: str = ""
) -> ProductImage:
    product = await product_of_staff(session, actor=actor, product_id=product_id)
    return await add_image_for(session, product=product, data=data, storage=storage, alt=alt)


async def add_image_for(
    session: AsyncSession, *, product: Product, data: bytes, storage: BlobStorage, alt: str = ""
) -> ProductImage:
    width, height, kind = inspect_image(data)
    content_type, suffix = IMAGE_TYPES[kind]
    key = storage.put(data, suffix=suffix)
    position = (await session.execute(select(func.count()).where(ProductImage.product_id == product.id))).scalar_one()
    image = ProductImage(
        product_id=product.id,
        storage_key=key,
        content_type=content_type,
        width=width,
        height=height,
        position=int(position),
        alt=alt[:200],
    )
    session.add(image)
    await session.flush()
    return image


def inspect_image(data: bytes) -> tuple[int, int, str]:
    """Size and format of an upload; anything that is not a real JPEG/PNG/WebP is refused."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind = image.format or ""
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise Invalid("invalid_image", "This file is not a readable image", field="file") from None
    if kind not in IMAGE_TYPES:
        raise Invalid("invalid_image", "Use a JPEG, PNG or WebP image", field="file")
    if width * height > MAX_IMAGE_PIXELS:
        raise Invalid("invalid_image", "This image is too large", field="file")
    return width, height, kind


async def list_categories(session: AsyncSession) -> list[Category]:
    return list((await session.execute(select(Category).order_by(Category.position, Category.slug))).scalars())


async def merchant_product_ids(
    session: AsyncSession, *, merchant_id: int, status: ProductStatus | None, page: int, per_page: int
) -> tuple[list[int], int]:
    query = select(Product.id).where(Product.merchant_id == merchant_id)
    if status is not None:
        query = query.where(Product.status == status)
    total = int((await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one())
    rows = await session.execute(query.order_by(Product.id.desc()).limit(per_page).offset((page - 1) * per_page))
    return list(rows.scalars()), total
