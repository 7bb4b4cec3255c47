"""HTML routes for the cart: the cart page, its HTMX stepper, add-to-cart from product pages,
and the header's item count. Guests get a cart cookie; logging in merges it (accounts/pages.py).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.cart import service
from passerelle.cart.cookies import CART_COOKIE
from passerelle.cart.models import Cart, CartItem
from passerelle.catalog.models import Product, ProductStatus
from passerelle.connect.cookies import with_visitor
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, Invalid
from passerelle.merchants.models import Merchant, MerchantStatus
from passerelle.money import Money
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id
from passerelle.web.errors import error_text

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])

GUEST_CART_SECONDS = 30 * 86400


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@dataclass
class LineView:
    line: service.CartLine
    buyer_total: Money
    warnings: list[str] = field(default_factory=list)

    @property
    def unit_price(self) -> Money:
        return Money(self.line.unit_amount, self.line.currency)

    @property
    def line_total(self) -> Money:
        return Money(self.line.line_amount, self.line.currency)

    @property
    def tier_applied(self) -> bool:
        return any(minimum <= self.line.quantity for minimum, _ in self.line.tiers)

    @property
    def next_tier(self) -> tuple[int, Money] | None:
        """The next volume price the buyer could reach, to show as a hint."""
        above = sorted((m, amount) for m, amount in self.line.tiers if m > self.line.quantity)
        return (above[0][0], Money(above[0][1], self.line.currency)) if above else None


@dataclass
class MerchantGroup:
    merchant_id: int
    name: str
    slug: str
    lines: list[LineView]
    subtotal: Money


@dataclass
class CartView:
    groups: list[MerchantGroup]
    subtotal: Money
    count: int

    @property
    def blocked(self) -> bool:
        """A line that checkout would refuse (stock, minimum order, off sale)."""
        return any(view.warnings for group in self.groups for view in group.lines)


async def current_cart(page: Page, session: AsyncSession, *, create: bool) -> tuple[Cart | None, str | None]:
    """The viewer's cart, and a new guest token to set as a cookie when one was just made."""
    if page.user is not None:
        return await service.cart_for(session, user_id=page.user.id, guest_token=None, create=create), None
    token = page.request.cookies.get(CART_COOKIE)
    new_token = None
    if not token and create:
        token = new_token = secrets.token_urlsafe(32)
    return await service.cart_for(session, user_id=None, guest_token=token, create=create), new_token


def _remember_guest(response: Response, token: str | None, state: State) -> Response:
    if token:
        response.set_cookie(
            CART_COOKIE,
            token,
            max_age=GUEST_CART_SECONDS,
            path="/",
            httponly=True,
            samesite="lax",
            secure=state.settings.cookie_secure,
        )
    return response


async def item_count(session: AsyncSession, cart: Cart | None) -> int:
    if cart is None:
        return 0
    total = await session.execute(
        select(func.coalesce(func.sum(CartItem.quantity), 0)).where(CartItem.cart_id == cart.id)
    )
    return int(total.scalar_one())


async def _off_sale(session: AsyncSession, product_ids: set[int]) -> set[int]:
    rows = await session.execute(
        select(Product.id)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .where(
            Product.id.in_(product_ids),
            (Product.status != ProductStatus.published) | (Merchant.status != MerchantStatus.approved),
        )
    )
    return set(rows.scalars())


async def cart_view(page: Page, session: AsyncSession, cart: Cart | None) -> CartView:
    currency = page.locale.currency
    lines = await service.lines(session, cart=cart, language=page.locale.language) if cart else []
    if not lines:
        return CartView(groups=[], subtotal=Money(0, currency), count=0)
    merchants = {
        m.id: m
        for m in (
            await session.execute(select(Merchant).where(Merchant.id.in_({line.merchant_id for line in lines})))
        ).scalars()
    }
    off_sale = await _off_sale(session, {line.product_id for line in lines})
    # The minimum order counts every variant of a product together, as checkout does.
    per_product: dict[int, int] = defaultdict(int)
    for line in lines:
        per_product[line.product_id] += line.quantity

    groups: dict[int, MerchantGroup] = {}
    for line in lines:
        view = LineView(line=line, buyer_total=page.locale.fx.convert(Money(line.line_amount, line.currency), currency))
        if line.product_id in off_sale:
            view.warnings.append(page.gettext("This item is no longer for sale; remove it to check out."))
        elif line.stock == 0:
            view.warnings.append(page.gettext("Out of stock: remove it to check out."))
        elif line.stock < line.quantity:
            view.warnings.append(page.gettext("Only %(count)s left: lower the quantity.", count=line.stock))
        if per_product[line.product_id] < line.min_order_quantity:
            view.warnings.append(
                page.gettext("Minimum order: %(quantity)s units of this product.", quantity=line.min_order_quantity)
            )
        merchant = merchants[line.merchant_id]
        group = groups.setdefault(
            merchant.id, MerchantGroup(merchant.id, merchant.name, merchant.slug, [], Money(0, currency))
        )
        group.lines.append(view)
        group.subtotal = group.subtotal + view.buyer_total
    subtotal = Money(sum(g.subtotal.amount for g in groups.values()), currency)
    return CartView(groups=list(groups.values()), subtotal=subtotal, count=sum(line.quantity for line in lines))


async def _cart_page(
    page: Page, session: AsyncSession, cart: Cart | None, *, error: str = "", status: int = 200
) -> Response:
    view = await cart_view(page, session, cart)
    values: dict[str, Any] = {"cart": view, "error": error, "cart_count": view.count}
    if page.is_htmx:
        return page.render("cart/_cart.html", status=status, oob_count=True, **values)
    return page.render("cart/cart.html", status=status, **values)


@router.get("/cart")
async def cart_page(page: PageContext, session: Session) -> Response:
    cart, _ = await current_cart(page, session, create=False)
    return await _cart_page(page, session, cart)


@router.get("/cart/count")
async def cart_count(page: PageContext, session: Session) -> Response:
    """The header's badge, loaded after the page (the layout knows nothing of carts)."""
    cart, _ = await current_cart(page, session, create=False)
    return page.render("cart/_count.html", cart_count=await item_count(session, cart), oob=False)


def _quantity(raw: str) -> int:
    if not raw.isdigit() or int(raw) > service.MAX_QUANTITY:
        raise Invalid("invalid_quantity", f"Quantity must be between 0 and {service.MAX_QUANTITY}", field="quantity")
    return int(raw)


@router.post("/cart/items")
async def add_to_cart(page: PageContext, session: Session, state: State) -> Response:
    form = await page.form()
    sku_id = path_id(form_text(form, "sku_id", max_length=20), "sku")
    cart, new_token = await current_cart(page, session, create=True)
    assert cart is not None
    try:
        quantity = _quantity(form_text(form, "quantity", max_length=6) or "1")
        attribution = with_visitor(page.request, None)
        await service.add_item(session, cart=cart, sku_id=sku_id, quantity=quantity, attribution=attribution)
    except DomainError as error:
        if not page.is_htmx or error.status_code == 404:
            raise
        message = error_text(page.translations, error)
        return page.render("cart/_added.html", status=422, error=message, cart_count=0, oob=False)
    response: Response
    if page.is_htmx:
        response = page.render("cart/_added.html", error="", cart_count=await item_count(session, cart), oob=True)
    else:
        response = _see_other("/cart")
    return _remember_guest(response, new_token, state)


@router.post("/cart/items/{sku_ref}")
async def change_quantity(sku_ref: str, page: PageContext, session: Session) -> Response:
    sku_id = path_id(sku_ref, "sku")
    cart, _ = await current_cart(page, session, create=False)
    form = await page.form()
    if cart is not None:
        try:
            # The stepper's − and + buttons send a step; typing sends the quantity alone.
            step = {"-1": -1, "1": 1, "+1": 1}.get(form_text(form, "step", max_length=2), 0)
            quantity = max(_quantity(form_text(form, "quantity", max_length=6)) + step, 0)
            await service.set_quantity(session, cart=cart, sku_id=sku_id, quantity=quantity)
        except DomainError as error:
            if not page.is_htmx or error.status_code == 404:
                raise
            return await _cart_page(page, session, cart, error=error_text(page.translations, error), status=422)
    return await _cart_page(page, session, cart) if page.is_htmx else _see_other("/cart")


@router.post("/cart/items/{sku_ref}/remove")
async def remove_from_cart(sku_ref: str, page: PageContext, session: Session) -> Response:
    sku_id = path_id(sku_ref, "sku")
    cart, _ = await current_cart(page, session, create=False)
    if cart is not None:
        await service.remove_item(session, cart=cart, sku_id=sku_id)
    return await _cart_page(page, session, cart) if page.is_htmx else _see_other("/cart")
