"""Cart rules. Never commits.

A signed-in buyer has one cart; a guest has one keyed by a random cookie token (only its
hash is stored). Logging in merges the guest cart into the account's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.tokens import token_hash
from passerelle.cart.models import Cart, CartItem
from passerelle.catalog.models import PriceTier, Product, ProductStatus, ProductTranslation, Sku
from passerelle.db.base import utcnow
from passerelle.errors import DomainError, Invalid, NotFound
from passerelle.merchants.models import Merchant, MerchantStatus
from passerelle.orders.pricing import unit_price

MAX_QUANTITY = 10_000
MAX_LINES = 100


async def cart_for(session: AsyncSession, *, user_id: int | None, guest_token: str | None, create: bool) -> Cart | None:
    if user_id is not None:
        query = select(Cart).where(Cart.user_id == user_id)
    elif guest_token:
        query = select(Cart).where(Cart.guest_token_hash == token_hash(guest_token))
    else:
        return None
    cart = (await session.execute(query)).scalar_one_or_none()
    if cart is None and create:
        cart = Cart(user_id=user_id, guest_token_hash=None if user_id is not None else token_hash(guest_token or ""))
        session.add(cart)
        await session.flush()
    return cart


async def _buyable_sku(session: AsyncSession, sku_id: int) -> tuple[Sku, Product]:
    row = (
        await session.execute(
            select(Sku, Product)
            .join(Product, Product.id == Sku.product_id)
            .join(Merchant, Merchant.id == Product.merchant_id)
            .where(
                Sku.id == sku_id,
                Product.status == ProductStatus.published,
                Merchant.status == MerchantStatus.approved,
            )
        )
    ).first()
    if row is None:
        raise NotFound("sku")
    sku, product = row
    return sku, product


async def add_item(
    session: AsyncSession, *, cart: Cart, sku_id: int, quantity: int, attribution: dict[str, Any] | None = None
) -> CartItem:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid("invalid_quantity", f"Quantity must be between 1 and {MAX_QUANTITY}", field="quantity")
    await _buyable_sku(session, sku_id)
    item = (
        await session.execute(select(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id == sku_id))
    ).scalar_one_or_none()
    if item is None:
        count = len((await session.execute(select(CartItem.id).where(CartItem.cart_id == cart.id))).all())
        if count >= MAX_LINES:
            raise Invalid("cart_full", f"A cart holds at most {MAX_LINES} different items", field="sku_id")
        item = CartItem(cart_id=cart.id, sku_id=sku_id, quantity=quantity, attribution=attribution)
        session.add(item)
    else:
        if item.quantity + quantity > MAX_QUANTITY:
            raise Invalid("invalid_quantity", f"At most {MAX_QUANTITY} of one item", field="quantity")
        item.quantity += quantity
        if attribution:
            item.attribution = attribution
    cart.updated_at = utcnow()
    await session.flush()
    return item


async def set_quantity(session: AsyncSession, *, cart: Cart, sku_id: int, quantity: int) -> None:
    if quantity == 0:
        await remove_item(session, cart=cart, sku_id=sku_id)
        return
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid("invalid_quantity", f"Quantity must be between 0 and {MAX_QUANTITY}", field="quantity")
    item = (
        await session.execute(select(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id == sku_id))
    ).scalar_one_or_none()
    if item is None:
        raise NotFound("cart item")
    item.quantity = quantity
    await session.flush()


async def remove_item(session: AsyncSession, *, cart: Cart, sku_id: int) -> None:
    await session.execute(delete(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id == sku_id))


async def clear(session: AsyncSession, *, cart_id: int) -> None:
    await session.execute(delete(CartItem).where(CartItem.cart_id == cart_id))


async def merge_guest_cart(session: AsyncSession, *, guest_token: str, user_id: int) -> int:
    """Move a guest cart's items into the account's cart (quantities add up). Returns lines moved."""
    guest = await cart_for(session, user_id=None, guest_token=guest_token, create=False)
    if guest is None:
        return 0
    target = await cart_for(session, user_id=user_id, guest_token=None, create=True)
    assert target is not None
    items = list((await session.execute(select(CartItem).where(CartItem.cart_id == guest.id))).scalars())
    for item in items:
        try:
            await add_item(
                session, cart=target, sku_id=item.sku_id, quantity=item.quantity, attribution=item.attribution
            )
        except DomainError:
            continue  # an item that went off sale stays behind
    await session.execute(delete(Cart).where(Cart.id == guest.id))
    await session.flush()
    return len(items)


@dataclass
class CartLine:
    sku_id: int
    product_id: int
    merchant_id: int
    title: str
    sku_code: str
    options: dict[str, Any]
    quantity: int
    unit_amount: int
    currency: str
    stock: int
    min_order_quantity: int
    attribution: dict[str, Any] | None
    tiers: list[tuple[int, int]] = field(default_factory=list)

    @property
    def line_amount(self) -> int:
        return self.unit_amount * self.quantity


async def lines(session: AsyncSession, *, cart: Cart, language: str) -> list[CartLine]:
    """The cart's lines priced by the server (tiers applied on each SKU's total quantity)."""
    rows = (
        await session.execute(
            select(CartItem, Sku, Product)
            .join(Sku, Sku.id == CartItem.sku_id)
            .join(Product, Product.id == Sku.product_id)
            .where(CartItem.cart_id == cart.id)
            .order_by(Product.merchant_id, CartItem.id)
        )
    ).all()
    if not rows:
        return []
    product_ids = {product.id for _, _, product in rows}
    texts: dict[int, dict[str, str]] = {}
    for t in (
        await session.execute(select(ProductTranslation).where(ProductTranslation.product_id.in_(product_ids)))
    ).scalars():
        texts.setdefault(t.product_id, {})[t.language] = t.title
    tiers: dict[int, list[tuple[int, int]]] = {}
    for tier in (
        await session.execute(select(PriceTier).where(PriceTier.sku_id.in_([sku.id for _, sku, _ in rows])))
    ).scalars():
        tiers.setdefault(tier.sku_id, []).append((tier.min_quantity, tier.unit_amount))
    result = []
    for item, sku, product in rows:
        names = texts.get(product.id, {})
        title = names.get(language) or names.get(product.source_language) or next(iter(names.values()), "")
        sku_tiers = tiers.get(sku.id, [])
        result.append(
            CartLine(
                sku_id=sku.id,
                product_id=product.id,
                merchant_id=product.merchant_id,
                title=title,
                sku_code=sku.code,
                options=sku.options,
                quantity=item.quantity,
                unit_amount=unit_price(sku.price_amount, sku_tiers, item.quantity),
                currency=product.currency,
                stock=sku.stock,
                min_order_quantity=product.min_order_quantity,
                attribution=item.attribution,
                tiers=sku_tiers,
            )
        )
    return result
