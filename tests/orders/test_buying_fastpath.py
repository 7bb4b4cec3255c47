"""The buying routes served below FastAPI (orders/buying_fastpath.py) answer as FastAPI's
routes do: same statuses, same error bodies, security headers, the guest cart cookie."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from passerelle.orders.buying_fastpath import ADD_TO_CART, CHECKOUT, SANDBOX_PAY, match
from passerelle.state import AppState
from passerelle.web.middleware import SECURITY_HEADERS
from tests.commerce import ADDRESS, add_to_cart, make_buyers, stocked_sku

THROUGH_FASTAPI = {"cookie": "probe=1"}  # any cookie sends a request through FastAPI


pytestmark = pytest.mark.usefixtures("group_commit_on")  # tests/conftest.py


def _headers(**named: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").encode(), v.encode()) for k, v in named.items()]


def test_given_the_three_buying_posts_of_an_api_client_then_they_match_with_their_parameter() -> None:
    small = _headers(content_length="40", authorization="Bearer t", content_type="application/json; charset=utf-8")
    assert match("/api/v1/cart/items", small) == (ADD_TO_CART, "")
    assert match("/api/v1/checkout", small) == (CHECKOUT, "")
    assert match("/api/v1/payments/sandbox/pay_abc/pay", _headers(content_length="40")) == (SANDBOX_PAY, "pay_abc")


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/api/v1/cart/items", _headers(content_length="40", cookie="passerelle_session=x")),
        ("/api/v1/cart/items", _headers(authorization="Bearer t")),  # no length: streamed
        ("/api/v1/cart/items", _headers(content_length="99999")),  # over the pre-read size
        ("/api/v1/checkout", _headers(content_length="40", idempotency_key="k" * 201)),
        ("/api/v1/checkout", _headers(content_length="40", content_type="application/x-www-form-urlencoded")),
        ("/api/v1/payments/sandbox//pay", _headers(content_length="40")),
        ("/api/v1/payments/sandbox/" + "p" * 61 + "/pay", _headers(content_length="40")),
        ("/api/v1/payments/sandbox/a/b/pay", _headers(content_length="40")),
        ("/api/v1/cart", _headers(content_length="40")),
    ],
)
def test_given_cookies_or_shapes_fastapi_validates_then_the_request_is_left_to_fastapi(
    path: str, headers: list[tuple[bytes, bytes]]
) -> None:
    assert match(path, headers) is None


async def _both(client: httpx.AsyncClient, path: str, **request: Any) -> tuple[httpx.Response, httpx.Response]:
    client.cookies.clear()
    headers = request.pop("headers", {})
    below = await client.post(path, headers=headers, **request)
    client.cookies.clear()
    through = await client.post(path, headers={**headers, **THROUGH_FASTAPI}, **request)
    return below, through


@pytest.mark.parametrize(
    ("path", "request_kwargs"),
    [
        ("/api/v1/cart/items", {"json": {"sku_id": 1, "quantity": 0}}),  # out of range
        ("/api/v1/cart/items", {"json": {"sku_id": 1, "colour": "red"}}),  # unknown field
        ("/api/v1/cart/items", {"json": {"quantity": 1}}),  # missing field
        ("/api/v1/cart/items", {"json": {"sku_id": 10**9}}),  # no such SKU
        ("/api/v1/checkout", {"json": {"shipping_address": ADDRESS}}),  # no one signed in
        ("/api/v1/cart/items", {"json": {"sku_id": 1}, "headers": {"authorization": "Bearer nope"}}),
        ("/api/v1/payments/sandbox/pay_unknown/pay", {"json": {"card_number": "4242424242424242"}}),
        ("/api/v1/payments/sandbox/pay_unknown/pay", {"json": {"card_number": "42"}}),
    ],
)
async def test_given_a_refused_request_then_below_and_through_fastapi_answer_the_same(
    client: httpx.AsyncClient, served: list[str], path: str, request_kwargs: dict[str, Any]
) -> None:
    below, through = await _both(client, path, **request_kwargs)

    assert served == [path]  # the first only
    assert below.status_code == through.status_code >= 400
    assert below.json() == through.json()
    assert below.json()["code"]
    for name, value in SECURITY_HEADERS.items():
        assert below.headers[name] == value


async def test_given_malformed_json_then_both_paths_refuse_it_as_an_invalid_request(
    client: httpx.AsyncClient, served: list[str]
) -> None:
    below, through = await _both(
        client, "/api/v1/cart/items", content=b'{"sku_id": ', headers={"content-type": "application/json"}
    )

    assert served and below.status_code == through.status_code == 422
    assert below.json()["code"] == through.json()["code"] == "invalid_request"


async def test_given_a_signed_in_buyer_then_cart_checkout_and_pay_below_fastapi_answer_like_fastapi(
    client: httpx.AsyncClient, state: AppState, served: list[str]
) -> None:
    sku = await stocked_sku(client, state, stock=5)
    buyer, twin = await make_buyers(state, 2)
    answers = {}
    for who, extra in ((buyer, {}), (twin, THROUGH_FASTAPI)):
        client.cookies.clear()
        headers = {**who.headers, **extra}
        cart = await client.post("/api/v1/cart/items", json={"sku_id": sku, "quantity": 2}, headers=headers)
        placed = await client.post(
            "/api/v1/checkout",
            json={"shipping_address": ADDRESS, "payment_provider": "sandbox"},
            headers={**headers, "Idempotency-Key": "same-shape"},
        )
        pay = placed.json()["payment"]["id"]
        client.cookies.clear()
        paid = await client.post(
            f"/api/v1/payments/sandbox/{pay}/pay", json={"card_number": "4242424242424242"}, headers=extra
        )
        answers[who.user.id] = (cart, placed, paid)

    (cart, placed, paid), (cart2, placed2, paid2) = answers.values()
    assert (cart.status_code, placed.status_code, paid.status_code) == (201, 201, 202)
    assert (cart2.status_code, placed2.status_code, paid2.status_code) == (201, 201, 202)
    assert cart.json() == cart2.json()
    assert len(served) == 3  # the first buyer's
    one, two = placed.json(), placed2.json()
    assert [(o["status"], o["total"]) for o in one["orders"]] == [(o["status"], o["total"]) for o in two["orders"]]
    assert paid.json() == {"status": "processing", "payment_id": one["payment"]["id"]}
    assert paid2.json() == {"status": "processing", "payment_id": two["payment"]["id"]}


async def test_given_a_guest_without_cookies_then_the_cart_cookie_is_set_and_keeps_the_cart(
    client: httpx.AsyncClient, state: AppState, served: list[str]
) -> None:
    sku = await stocked_sku(client, state, stock=5)
    client.cookies.clear()

    added = await client.post("/api/v1/cart/items", json={"sku_id": sku, "quantity": 1})

    assert served == ["/api/v1/cart/items"]
    assert added.status_code == 201 and added.json()["count"] == 1
    cart_cookie = added.cookies.get("passerelle_cart")
    assert cart_cookie
    client.cookies.set("passerelle_cart", cart_cookie)
    again = await client.get("/api/v1/cart")
    assert again.json()["count"] == 1


async def test_given_an_idempotent_checkout_retried_below_fastapi_then_the_stored_answer_comes_back(
    client: httpx.AsyncClient, state: AppState, served: list[str]
) -> None:
    sku = await stocked_sku(client, state, stock=5)
    (buyer,) = await make_buyers(state, 1)
    client.cookies.clear()
    await add_to_cart(client, buyer, sku)
    body = {"shipping_address": ADDRESS, "payment_provider": "sandbox"}
    headers = {**buyer.headers, "Idempotency-Key": "retry-me"}

    first = await client.post("/api/v1/checkout", json=body, headers=headers)
    second = await client.post("/api/v1/checkout", json=body, headers=headers)
    other_body = await client.post("/api/v1/checkout", json={**body, "currency": "USD"}, headers=headers)

    assert served.count("/api/v1/checkout") == 3
    assert first.status_code == second.status_code == 201 and first.json() == second.json()
    assert other_body.status_code == 422 and other_body.json()["code"] == "idempotency_key_reused"
