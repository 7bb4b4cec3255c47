"""The checkout's answer, built as JSON directly on the buying path, is what its schema
(`CheckoutOut`) would dump."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from passerelle.db.prepared import plain_copy
from passerelle.orders.models import Order, OrderStatus, Purchase
from passerelle.orders.schemas import CheckoutOut
from passerelle.orders.service.checkout import PlacedCheckout
from passerelle.orders.service.placement import Placed
from passerelle.payments.models import Payment, PaymentStatus
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, sku_of
from tests.factories import make_merchant, make_product, make_user


@pytest.mark.parametrize(
    "pay_by",
    [datetime(2026, 11, 11, 0, 15, 0, 250, tzinfo=UTC), datetime(2026, 11, 11, 0, 15, tzinfo=UTC)],
)
def test_given_a_placed_checkout_then_its_json_is_the_schemas_dump(pay_by: datetime) -> None:
    purchase = plain_copy(Purchase, {"id": 7, "total_amount": 13_005, "currency": "USD"})
    orders = [
        plain_copy(
            Order,
            {
                "id": 10 + n,
                "merchant_id": 3 + n,
                "status": OrderStatus.pending_payment,
                "total_amount": 5390 + n,
                "currency": "EUR",
                "buyer_total_amount": 5612 + n,
                "buyer_currency": "USD",
            },
        )
        for n in range(2)
    ]
    payment = plain_copy(
        Payment, {"public_id": "pay_x1", "amount": 13_005, "currency": "USD", "status": PaymentStatus.pending}
    )
    done = PlacedCheckout(
        placed=Placed(purchase=purchase, orders=orders), payment=payment, pay_url="/pay/x", pay_by=pay_by
    )
    assert done.as_checkout_json() == done.as_checkout_out().model_dump(mode="json")


async def test_given_a_checkout_through_the_api_then_its_answer_round_trips_through_the_schema(
    client: httpx.AsyncClient, state: AppState
) -> None:
    skus = []
    for _ in range(2):
        shop = await make_merchant(state, await make_user(state))
        skus.append((await sku_of(client, await make_product(state, shop, stock=3)))["id"])
    (buyer,) = await make_buyers(state, 1)
    for sku in skus:
        await add_to_cart(client, buyer, sku)
    placed = await checkout(client, buyer, key="json-1")
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert CheckoutOut.model_validate(body).model_dump(mode="json") == body
    assert len(body["orders"]) == 2
