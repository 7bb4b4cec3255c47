"""The checkout page: shipping address, a live preview per merchant, then place and pay.

Placing runs the same service path as POST /api/v1/checkout (price -> place -> open the
payment -> clear the cart) under an idempotency key generated into the form, so a double
submit (two clicks, a resent form) makes one purchase and lands on the same payment page.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from passerelle.accounts.models import User
from passerelle.cart import service as carts
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError
from passerelle.i18n.countries import country_names, is_country
from passerelle.infra import idempotency
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant
from passerelle.money import Money
from passerelle.orders.pages.views import order_error
from passerelle.orders.service import placement
from passerelle.orders.service.checkout import CheckoutTerms, checkout_cart
from passerelle.web.context import Page, PageContext, form_text, page_guard

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])

# The only provider today; a real PSP would be chosen here (or by the buyer).
PAYMENT_PROVIDER = "sandbox"
FIELD_LIMITS = {"name": 100, "line1": 200, "line2": 200, "city": 100, "postal_code": 20, "country": 2}
REQUIRED = ("name", "line1", "city", "postal_code", "country")


@dataclass(frozen=True)
class PreviewLine:
    title: str
    options: dict[str, Any]
    quantity: int
    amount: Money


@dataclass
class MerchantPreview:
    merchant_id: int
    name: str
    lines: list[PreviewLine]
    error: str = ""
    subtotal: Money | None = None
    shipping: Money | None = None
    vat: Money | None = None
    total: Money | None = None
    buyer_total: Money | None = None


@dataclass
class Preview:
    currency: str
    country: str
    merchants: list[MerchantPreview] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return bool(self.merchants) and all(not m.error for m in self.merchants)

    @property
    def total(self) -> Money | None:
        if not self.ready:
            return None
        return Money(sum(m.buyer_total.amount for m in self.merchants if m.buyer_total), self.currency)


async def _cart_lines(page: Page, session: AsyncSession, user: User) -> tuple[int | None, list[carts.CartLine]]:
    cart = await carts.cart_for(session, user_id=user.id, guest_token=None, create=False)
    if cart is None:
        return None, []
    return cart.id, await carts.lines(session, cart=cart, language=page.locale.language)


def _requests(lines: list[carts.CartLine]) -> list[placement.LineRequest]:
    return [
        placement.LineRequest(sku_id=line.sku_id, quantity=line.quantity, attribution=line.attribution)
        for line in lines
    ]


async def _merchant_names(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    rows = await session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(ids)))
    return {merchant_id: name for merchant_id, name in rows.all()}


async def build_preview(page: Page, session: AsyncSession, lines: list[carts.CartLine], country: str) -> Preview:
    """Price each merchant's share on its own, so one seller's refusal (does not ship
    there, minimum not met) is shown on that seller and the others still show totals."""
    locale = page.locale
    preview = Preview(currency=locale.currency, country=country)
    by_merchant: dict[int, list[carts.CartLine]] = defaultdict(list)
    for line in lines:
        by_merchant[line.merchant_id].append(line)
    names = await _merchant_names(session, set(by_merchant))
    titles = {line.product_id: line.title for line in lines}
    for merchant_id, group in by_merchant.items():
        shown = [
            PreviewLine(line.title, line.options, line.quantity, Money(line.line_amount, line.currency))
            for line in group
        ]
        entry = MerchantPreview(merchant_id=merchant_id, name=names.get(merchant_id, ""), lines=shown)
        preview.merchants.append(entry)
        try:
            quote = await placement.price(
                session,
                requests=_requests(group),
                country=country,
                currency=locale.currency,
                fx=locale.fx,
                language=locale.language,
            )
        except DomainError as error:
            entry.error = order_error(page, error, country=country, titles=titles, merchant_names=names)
            continue
        priced = quote.merchants[0]
        currency = priced.merchant.currency
        entry.subtotal = Money(priced.subtotal, currency)
        entry.shipping = Money(priced.shipping, currency)
        entry.vat = Money(priced.vat, currency)
        entry.total = Money(priced.total, currency)
        entry.buyer_total = Money(quote.buyer_amount(priced), locale.currency)
    return preview


def country_choices(page: Page, delivered_everywhere: set[str]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Countries every seller of the cart delivers to first, then the rest."""
    names = country_names(page.locale.language)
    return [c for c in names if c[0] in delivered_everywhere], [c for c in names if c[0] not in delivered_everywhere]


async def _checkout_page(
    page: Page,
    session: AsyncSession,
    lines: list[carts.CartLine],
    *,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    country = values["country"] if is_country(values["country"]) else ""
    preview = await build_preview(page, session, lines, country) if country else Preview(page.locale.currency, "")
    shared: set[str] | None = None
    for merchant_id in {line.merchant_id for line in lines}:
        countries = set(await merchants.ships_to(session, merchant_id=merchant_id))
        shared = countries if shared is None else shared & countries
    preferred, others = country_choices(page, shared or set())
    return page.render(
        "orders/checkout.html",
        status=status,
        values=values,
        errors=errors,
        preview=preview,
        preferred_countries=preferred,
        other_countries=others,
        # A fresh key per rendered form: a resent form replays, a new attempt is new.
        idempotency_key=secrets.token_urlsafe(24),
    )


def _login_first() -> RedirectResponse:
    return RedirectResponse("/login?next=/checkout", status_code=303)


@router.get("/checkout")
async def checkout_form(page: PageContext, session: Session) -> Response:
    user = page.user
    if user is None:
        return _login_first()
    _, lines = await _cart_lines(page, session, user)
    if not lines:
        return RedirectResponse("/cart", status_code=303)
    values = {name: "" for name in FIELD_LIMITS}
    values["name"] = user.display_name
    values["country"] = (page.request.query_params.get("country") or user.country).upper()[:2]
    return await _checkout_page(page, session, lines, values=values, errors={})


@router.get("/checkout/preview")
async def checkout_preview(page: PageContext, session: Session) -> Response:
    """The preview block alone, re-rendered by HTMX when the country changes."""
    user = page.require_user()
    _, lines = await _cart_lines(page, session, user)
    country = (page.request.query_params.get("country") or "").upper()[:2]
    preview = (
        await build_preview(page, session, lines, country) if is_country(country) else Preview(page.locale.currency, "")
    )
    return page.render("orders/_preview.html", preview=preview)


def read_address(page: Page, form: FormData) -> tuple[dict[str, str], dict[str, str]]:
    values = {name: form_text(form, name, max_length=limit) for name, limit in FIELD_LIMITS.items()}
    values["country"] = values["country"].upper()
    errors = {name: page.gettext("This field is required") for name in REQUIRED if not values[name]}
    if values["country"] and not is_country(values["country"]):
        errors["country"] = page.gettext("Choose a country from the list")
    return values, errors


@router.post("/checkout")
async def place_order(page: PageContext, session: Session, state: State) -> Response:
    user = page.user
    if user is None:
        return _login_first()
    form = await page.form()
    values, errors = read_address(page, form)
    _, lines = await _cart_lines(page, session, user)
    if form_text(form, "refresh", max_length=1):
        # The no-script "update" button: show the preview for the chosen country, place nothing.
        return await _checkout_page(page, session, lines, values=values, errors={})
    if errors:
        return await _checkout_page(page, session, lines, values=values, errors=errors, status=422)
    currency = page.locale.currency

    async def work() -> tuple[int, Any]:
        terms = CheckoutTerms(
            address=placement.Address(**values),
            provider=state.payment_providers[PAYMENT_PROVIDER],
            currency=currency,
            fx=page.locale.fx,
            language=page.locale.language,
            hold_for=timedelta(seconds=state.settings.reservation_ttl_seconds),
        )
        # The cart as it is now is what gets placed (it may have changed since the form).
        done = await checkout_cart(session, buyer=user, terms=terms, now=state.clock.now())
        return 201, {"purchase_id": done.placed.purchase.id, "pay_url": done.pay_url}

    try:
        _status, result, _replayed = await idempotency.run(
            session,
            key=form_text(form, "idempotency_key", max_length=idempotency.MAX_KEY_LENGTH) or None,
            user_id=user.id,
            scope="checkout-page",
            body={"address": values, "currency": currency},
            work=work,
        )
    except DomainError as error:
        if error.code == "empty_cart":
            return RedirectResponse("/cart", status_code=303)
        names = await _merchant_names(session, {line.merchant_id for line in lines})
        titles = {line.product_id: line.title for line in lines}
        message = order_error(page, error, country=values["country"], titles=titles, merchant_names=names)
        return await _checkout_page(page, session, lines, values=values, errors={"": message}, status=error.status_code)
    return RedirectResponse(str(result["pay_url"]), status_code=303)
