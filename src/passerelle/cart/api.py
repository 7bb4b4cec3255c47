"""JSON routes for the cart. Signed-in buyers use their account's cart; guests get a cart
cookie, merged into the account when they log in."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Request, Response

from passerelle.accounts.models import User
from passerelle.cart import service
from passerelle.cart.cookies import CART_COOKIE
from passerelle.cart.models import Cart
from passerelle.cart.schemas import CartItemIn, CartLineOut, CartOut, QuantityIn
from passerelle.catalog.schemas import MoneyOut
from passerelle.connect.cookies import with_visitor
from passerelle.deps import OptionalUser, RequestLocale, Session, State, UnitOfWorkRoute, request_locale
from passerelle.http import PathId
from passerelle.money import Money
from passerelle.orders.buying_route import buying_post, request_context

router = APIRouter(tags=["cart"], route_class=UnitOfWorkRoute)


async def current_cart(
    request: Request, response: Response, session: Session, user: User | None, state: State, *, create: bool
) -> Cart | None:
    if user is not None:
        return await service.cart_for(session, user_id=user.id, guest_token=None, create=create)
    token = request.cookies.get(CART_COOKIE)
    if not token and create:
        token = secrets.token_urlsafe(32)
        response.set_cookie(
            CART_COOKIE, token, max_age=30 * 86400, httponly=True, samesite="lax", secure=state.settings.cookie_secure
        )
    return await service.cart_for(session, user_id=None, guest_token=token, create=create)


async def cart_out(session: Session, cart: Cart | None, locale: RequestLocale) -> CartOut:
    lines = await service.lines(session, cart=cart, language=locale.language) if cart else []
    items = []
    total = 0
    for line in lines:
        buyer_amount = locale.fx.convert(Money(line.line_amount, line.currency), locale.currency)
        total += buyer_amount.amount
        items.append(
            CartLineOut(
                sku_id=line.sku_id,
                product_id=line.product_id,
                merchant_id=line.merchant_id,
                title=line.title,
                sku_code=line.sku_code,
                options=line.options,
                quantity=line.quantity,
                unit_price=MoneyOut(amount=line.unit_amount, currency=line.currency),
                line_total=MoneyOut(amount=line.line_amount, currency=line.currency),
                line_total_buyer=MoneyOut(amount=buyer_amount.amount, currency=locale.currency),
                in_stock=line.stock >= line.quantity,
                min_order_quantity=line.min_order_quantity,
            )
        )
    return CartOut(
        items=items, total=MoneyOut(amount=total, currency=locale.currency), count=sum(i.quantity for i in items)
    )


@router.get("/cart", response_model=CartOut)
async def get_cart(
    request: Request, response: Response, session: Session, user: OptionalUser, state: State, locale: RequestLocale
) -> CartOut:
    cart = await current_cart(request, response, session, user, state, create=False)
    return await cart_out(session, cart, locale)


@buying_post(router, "/cart/items", status_code=201, response_model=CartOut)
async def add_item(body: CartItemIn, request: Request, response: Response) -> CartOut:
    state, session, user = await request_context(request)
    locale = await request_locale(request, user, state)
    cart = await current_cart(request, response, session, user, state, create=True)
    assert cart is not None
    await service.add_item(
        session,
        cart=cart,
        sku_id=body.sku_id,
        quantity=body.quantity,
        attribution=with_visitor(request, dict(body.attribution) if body.attribution else None),
    )
    return await cart_out(session, cart, locale)


@router.patch("/cart/items/{sku_id}", response_model=CartOut)
async def set_quantity(
    sku_id: PathId,
    body: QuantityIn,
    request: Request,
    response: Response,
    session: Session,
    user: OptionalUser,
    state: State,
    locale: RequestLocale,
) -> CartOut:
    cart = await current_cart(request, response, session, user, state, create=True)
    assert cart is not None
    await service.set_quantity(session, cart=cart, sku_id=sku_id, quantity=body.quantity)
    return await cart_out(session, cart, locale)


@router.delete("/cart/items/{sku_id}", response_model=CartOut)
async def remove_item(
    sku_id: PathId,
    request: Request,
    response: Response,
    session: Session,
    user: OptionalUser,
    state: State,
    locale: RequestLocale,
) -> CartOut:
    cart = await current_cart(request, response, session, user, state, create=False)
    if cart is not None:
        await service.remove_item(session, cart=cart, sku_id=sku_id)
    return await cart_out(session, cart, locale)
