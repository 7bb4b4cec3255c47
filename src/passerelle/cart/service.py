"""Cart rules. Never commits.

A signed-in buyer has one cart; a guest has one keyed by a random cookie token (only its
hash is stored). Logging in merges the guest cart into the account's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import String, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from passerelle.accounts.tokens import token_hash
from passerelle.cart.models import Cart, CartItem
from passerelle.catalog import columns
from passerelle.catalog.models import PriceTier, Product, ProductStatus, Sku
from passerelle.db.base import utcnow
from passerelle.db.prepared import Prepared, bound, plain_copy
from passerelle.errors import DomainError, Invalid, NotFound
from passerelle.merchants.models import Merchant, MerchantStatus
from passerelle.orders.pricing import unit_price

MAX_QUANTITY = 10_000
MAX_LINES = 100


# Built once: statements on every buyer's path cost about as much to build as to run.
# Prepared (db/prepared.py): in the buying path's write transaction they run on sqlite3.
_CARTS: Table = Cart.__table__  # type: ignore[assignment]
_ITEMS: Table = CartItem.__table__  # type: ignore[assignment]
_CART_COLUMNS = (_CARTS.c.id, _CARTS.c.user_id, _CARTS.c.guest_token_hash, _CARTS.c.updated_at)
_CART_OF_USER = Prepared(select(*_CART_COLUMNS).where(_CARTS.c.user_id == bindparam("key")))
_CART_OF_GUEST = Prepared(select(*_CART_COLUMNS).where(_CARTS.c.guest_token_hash == bindparam("key")))
_CLEAR = Prepared(delete(_ITEMS).where(_ITEMS.c.cart_id == bindparam("b_cart_id")))
# Is the SKU on sale, is it already in the cart, how many lines the cart has: one query.
_ADD_CHECK = Prepared(
    select(
        Sku.id,
        CartItem.id,
        select(func.count()).where(CartItem.cart_id == bindparam("b_cart_id")).scalar_subquery(),
    )
    .join(Product, Product.id == Sku.product_id)
    .join(Merchant, Merchant.id == Product.merchant_id)
    .outerjoin(CartItem, (CartItem.sku_id == Sku.id) & (CartItem.cart_id == bindparam("b_cart_id")))
    .where(
        Sku.id == bindparam("b_sku_id"),
        Product.status == ProductStatus.published,
        Merchant.status == MerchantStatus.approved,
    )
)
_INSERT_ITEM = Prepared(insert(_ITEMS).values(bound("cart_id", "sku_id", "quantity", "attribution", "added_at")))
_INSERT_CART = Prepared(
    insert(_CARTS).values(bound("user_id", "guest_token_hash", "updated_at")).returning(_CARTS.c.id)
)
# A cart's `updated_at` tells when it was last used, to the minute: a cart just created, or
# touched less than a minute ago, is not written again (one UPDATE less per add).
TOUCH_EVERY = timedelta(minutes=1)
_TOUCH_CART = Prepared(update(_CARTS).where(_CARTS.c.id == bindparam("b_cart_id")).values(updated_at=bindparam("now")))
# Added in the database (not read-then-written): two adds at once both count.
_ADD_QUANTITY = (
    update(_ITEMS)
    .where(_ITEMS.c.id == bindparam("b_item_id"), _ITEMS.c.quantity + bindparam("b_add") <= MAX_QUANTITY)
    .values(quantity=_ITEMS.c.quantity + bindparam("b_add"))
)
_ADD_QUANTITY_PLAIN = Prepared(_ADD_QUANTITY)
_ADD_QUANTITY_ATTRIBUTED = Prepared(_ADD_QUANTITY.values(attribution=bindparam("b_attribution")))


async def cart_for(session: AsyncSession, *, user_id: int | None, guest_token: str | None, create: bool) -> Cart | None:
    """The cart, as a plain `Cart` that is not in the session: callers read it (its id);
    changes go through this module's statements."""
    key: dict[str, int | str]
    if user_id is not None:
        query, key = _CART_OF_USER, {"key": user_id}
    elif guest_token:
        query, key = _CART_OF_GUEST, {"key": token_hash(guest_token)}
    else:
        return None
    row = await query.first(session, key)
    if row is not None:
        return plain_copy(Cart, row._asdict())
    if not create:
        return None
    values = {
        "user_id": user_id,
        "guest_token_hash": None if user_id is not None else token_hash(guest_token or ""),
        "updated_at": utcnow(),
    }
    return plain_copy(Cart, {"id": await _INSERT_CART.scalar(session, values), **values})


async def add_item(
    session: AsyncSession, *, cart: Cart, sku_id: int, quantity: int, attribution: dict[str, Any] | None = None
) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Invalid("invalid_quantity", f"Quantity must be between 1 and {MAX_QUANTITY}", field="quantity")
    row = await _ADD_CHECK.first(session, {"b_cart_id": cart.id, "b_sku_id": sku_id})
    if row is None:
        raise NotFound("sku")
    _, item_id, count = row
    now = utcnow()
    if item_id is None:
        if count >= MAX_LINES:
            raise Invalid("cart_full", f"A cart holds at most {MAX_LINES} different items", field="sku_id")
        await _INSERT_ITEM.rowcount(
            session,
            {"cart_id": cart.id, "sku_id": sku_id, "quantity": quantity, "attribution": attribution, "added_at": now},
        )
    else:
        if attribution:
            added = await _ADD_QUANTITY_ATTRIBUTED.rowcount(
                session, {"b_item_id": item_id, "b_add": quantity, "b_attribution": attribution}
            )
        else:
            added = await _ADD_QUANTITY_PLAIN.rowcount(session, {"b_item_id": item_id, "b_add": quantity})
        if added != 1:
            raise Invalid("invalid_quantity", f"At most {MAX_QUANTITY} of one item", field="quantity")
    if cart.updated_at is None or now - cart.updated_at >= TOUCH_EVERY:
        await _TOUCH_CART.rowcount(session, {"b_cart_id": cart.id, "now": now})
        set_committed_value(cart, "updated_at", now)


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
    await _CLEAR.rowcount(session, {"b_cart_id": cart_id})


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


_LINES = Prepared(
    select(
        CartItem.quantity,
        CartItem.attribution,
        Sku.id,
        Sku.code,
        Sku.options,
        Sku.price_amount,
        Sku.stock,
        Product.id,
        Product.merchant_id,
        Product.currency,
        Product.min_order_quantity,
        columns.product_title(bindparam("language", type_=String())),
        columns.has_tiers(),
    )
    .join(Sku, Sku.id == CartItem.sku_id)
    .join(Product, Product.id == Sku.product_id)
    .where(CartItem.cart_id == bindparam("b_cart_id"))
    .order_by(Product.merchant_id, CartItem.id)
)
_CHECKOUT_ITEMS = Prepared(
    select(Cart.id, CartItem.sku_id, CartItem.quantity, CartItem.attribution)
    .outerjoin(CartItem, CartItem.cart_id == Cart.id)
    .where(Cart.user_id == bindparam("b_user_id"))
    .order_by(CartItem.id)
)


async def lines(session: AsyncSession, *, cart: Cart, language: str) -> list[CartLine]:
    """The cart's lines priced by the server (tiers applied on each SKU's total quantity)."""
    rows = await _LINES.rows(session, {"b_cart_id": cart.id, "language": language})
    tiers: dict[int, list[tuple[int, int]]] = {}
    tiered = [row[2] for row in rows if row[12]]
    if tiered:
        for sku_id, min_quantity, unit_amount in await session.execute(
            select(PriceTier.sku_id, PriceTier.min_quantity, PriceTier.unit_amount).where(PriceTier.sku_id.in_(tiered))
        ):
            tiers.setdefault(sku_id, []).append((min_quantity, unit_amount))
    result = []
    for (
        quantity,
        attribution,
        sku_id,
        code,
        options,
        price,
        stock,
        product_id,
        merchant_id,
        currency,
        moq,
        title,
        _,
    ) in rows:
        sku_tiers = tiers.get(sku_id, [])
        result.append(
            CartLine(
                sku_id=sku_id,
                product_id=product_id,
                merchant_id=merchant_id,
                title=title or "",
                sku_code=code,
                options=options,
                quantity=quantity,
                unit_amount=unit_price(price, sku_tiers, quantity),
                currency=currency,
                stock=stock,
                min_order_quantity=moq,
                attribution=attribution,
                tiers=sku_tiers,
            )
        )
    return result


async def checkout_items(
    session: AsyncSession, *, user_id: int
) -> tuple[int | None, list[tuple[int, int, dict[str, Any] | None]]]:
    """The account's cart id (None without a cart) and its (sku, quantity, attribution)
    items, in one query: checkout prices them itself."""
    rows = await _CHECKOUT_ITEMS.rows(session, {"b_user_id": user_id})
    if not rows:
        return None, []
    return rows[0][0], [(sku_id, quantity, attribution) for _, sku_id, quantity, attribution in rows if sku_id]
