"""Every way of buying ends here: price -> place -> open the payment.

The cart checkout (API and page), an accepted quote or offer (agreed unit prices), and a
flash-deal reservation (units already held by the deal) differ only in where the lines
come from; the ships-to, minimum order, stock hold, VAT, commission, shipping and payment
steps are the same and live once, here. Never commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.cart import service as carts
from passerelle.catalog.schemas import MoneyOut
from passerelle.errors import Conflict, Invalid
from passerelle.money import FxTable, check_currency
from passerelle.orders import queries
from passerelle.orders.models import OrderStatus
from passerelle.orders.schemas import AddressIn, CheckoutOut, PaymentRefOut
from passerelle.orders.service import placement
from passerelle.payments import service as payments
from passerelle.payments.models import Payment
from passerelle.payments.providers.base import PaymentProvider


@dataclass(frozen=True)
class CheckoutTerms:
    """Where and how the buyer pays: what a checkout request carries besides the items."""

    address: placement.Address
    provider: PaymentProvider
    currency: str
    fx: FxTable
    language: str
    hold_for: timedelta
    coupon_code: str | None = None


def checkout_terms(
    *,
    shipping_address: AddressIn,
    payment_provider: str,
    currency: str | None,
    providers: dict[str, PaymentProvider],
    default_currency: str,
    fx: FxTable,
    language: str,
    hold_for: timedelta,
    coupon_code: str | None = None,
) -> CheckoutTerms:
    provider = providers.get(payment_provider)
    if provider is None:
        raise Invalid("unknown_provider", f"Unknown payment provider {payment_provider!r}", field="payment_provider")
    return CheckoutTerms(
        address=placement.Address(**shipping_address.model_dump()),
        provider=provider,
        currency=check_currency(currency) if currency else default_currency,
        fx=fx,
        language=language,
        hold_for=hold_for,
        coupon_code=coupon_code or None,
    )


@dataclass
class PlacedCheckout:
    placed: placement.Placed
    payment: Payment
    pay_url: str
    pay_by: datetime

    def as_checkout_out(self) -> CheckoutOut:
        purchase, payment = self.placed.purchase, self.payment
        return CheckoutOut(
            purchase_id=purchase.id,
            orders=[queries.summary(o) for o in self.placed.orders],
            payment=PaymentRefOut(
                id=payment.public_id,
                pay_url=self.pay_url,
                amount=MoneyOut(amount=payment.amount, currency=payment.currency),
                status=payment.status.value,
            ),
            total=MoneyOut(amount=purchase.total_amount, currency=purchase.currency),
            pay_by=self.pay_by,
        )

    def as_checkout_json(self) -> dict[str, Any]:
        """`as_checkout_out().model_dump(mode="json")`, built directly: the checkout answers
        this (and keeps it for its Idempotency-Key) on the buying path, where the models'
        validation and dump were ~4 % of the server's main thread (bench checkout).
        tests/orders/test_checkout_json.py holds the two equal."""
        purchase, payment = self.placed.purchase, self.payment
        return {
            "purchase_id": purchase.id,
            "orders": [
                {
                    "id": order.id,
                    "merchant_id": order.merchant_id,
                    "status": OrderStatus(order.status).value,
                    "total": {"amount": order.total_amount, "currency": order.currency},
                    "total_buyer": {"amount": order.buyer_total_amount, "currency": order.buyer_currency},
                }
                for order in self.placed.orders
            ],
            "payment": {
                "id": payment.public_id,
                "pay_url": self.pay_url,
                "amount": {"amount": payment.amount, "currency": payment.currency},
                "status": payment.status.value,
            },
            "total": {"amount": purchase.total_amount, "currency": purchase.currency},
            "pay_by": _json_datetime(self.pay_by),
        }


def _json_datetime(at: datetime) -> str:
    """A datetime as pydantic writes it in JSON: ISO 8601, UTC as "Z"."""
    text = at.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


async def place_and_open_payment(
    session: AsyncSession,
    *,
    buyer: User,
    requests: list[placement.LineRequest],
    terms: CheckoutTerms,
    now: datetime,
    source: str,
    agreed_currency: str | None = None,
    hold_stock: bool = True,
    charge_shipping: bool = True,
) -> PlacedCheckout:
    """Price the lines, hold the stock, write the orders, open the payment. A presale
    deposit ships nothing, so it is placed with `charge_shipping=False`."""
    quote = await placement.price(
        session,
        requests=requests,
        country=terms.address.country,
        currency=terms.currency,
        fx=terms.fx,
        language=terms.language,
    )
    if not charge_shipping:
        for merchant_quote in quote.merchants:
            merchant_quote.shipping = 0
    coupon_id, funder = None, ""
    if terms.coupon_code:
        # Imported here: festival builds on orders, not the other way round.
        from passerelle.festival import coupons

        coupon, discounts = await coupons.redeem(
            session, code=terms.coupon_code, buyer_id=buyer.id, quote=quote, now=now
        )
        for merchant_quote in quote.merchants:
            merchant_quote.discount = discounts.get(merchant_quote.merchant.id, 0)
        coupon_id, funder = coupon.id, "platform" if coupon.merchant_id is None else "merchant"
    if agreed_currency is not None and any(m.merchant.currency != agreed_currency for m in quote.merchants):
        # The amounts were agreed in a currency the seller no longer prices in.
        raise Conflict("agreed_currency_changed", "The seller changed currency since the price was agreed")
    placed = await placement.place(
        session,
        buyer=buyer,
        quote=quote,
        address=terms.address,
        now=now,
        hold_for=terms.hold_for,
        source=source,
        hold_stock=hold_stock,
        coupon_id=coupon_id,
        discount_funder=funder,
    )
    payment = await payments.open_payment(session, purchase=placed.purchase, provider=terms.provider)
    return PlacedCheckout(
        placed=placed,
        payment=payment,
        pay_url=terms.provider.pay_url(payment_public_id=payment.public_id),
        pay_by=now + terms.hold_for,
    )


async def cart_requests(
    session: AsyncSession, *, buyer_id: int, language: str
) -> tuple[int | None, list[placement.LineRequest]]:
    """The buyer's cart (its id, or None) as checkout lines, attribution carried along.
    `price` reads the SKUs itself, so the items are all this needs (one query)."""
    cart_id, items = await carts.checkout_items(session, user_id=buyer_id)
    return cart_id, [
        placement.LineRequest(sku_id=sku_id, quantity=quantity, attribution=attribution)
        for sku_id, quantity, attribution in items
    ]


async def checkout_cart(session: AsyncSession, *, buyer: User, terms: CheckoutTerms, now: datetime) -> PlacedCheckout:
    """Place the buyer's cart as it is now, then empty it."""
    cart_id, requests = await cart_requests(session, buyer_id=buyer.id, language=terms.language)
    done = await place_and_open_payment(session, buyer=buyer, requests=requests, terms=terms, now=now, source="cart")
    if cart_id is not None:
        await carts.clear(session, cart_id=cart_id)
    return done
