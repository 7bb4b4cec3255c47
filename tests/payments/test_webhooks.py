"""Sandbox webhooks: bad signature, stale timestamp, replay, tampered amount are each
refused; a valid event is applied exactly once."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from passerelle.ledger.models import LedgerTransaction
from passerelle.payments.models import PaymentEvent
from passerelle.payments.providers.sandbox import WEBHOOK_PATH, SandboxProvider
from passerelle.payments.signing import SIGNATURE_HEADER, sign
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, sku_of
from tests.factories import make_merchant, make_product, make_user

URL = WEBHOOK_PATH


async def _pending_payment(client: httpx.AsyncClient, state: AppState) -> dict[str, object]:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=4900)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    body = (await checkout(client, buyer)).json()
    return {"payment": body["payment"], "order_id": body["orders"][0]["id"], "buyer": buyer}


def _event(
    payment_id: str, amount: int, *, event_id: str = "evt_1", kind: str = "payment.succeeded"
) -> dict[str, object]:
    return {
        "id": event_id,
        "type": kind,
        "data": {"payment_id": payment_id, "amount": amount, "currency": "EUR", "provider_ref": "ch_1"},
    }


def _signed(
    state: AppState, event: dict[str, object], *, at: int | None = None, secret: str | None = None
) -> tuple[bytes, dict[str, str]]:
    body = orjson.dumps(event)
    stamp = at if at is not None else int(time.time())
    return body, {
        "content-type": "application/json",
        SIGNATURE_HEADER: sign(secret or state.settings.resolved_sandbox_secret, timestamp=stamp, body=body),
    }


async def _order_status(client: httpx.AsyncClient, setup: dict[str, object]) -> str:
    buyer = setup["buyer"]
    return str((await client.get(f"/api/v1/orders/{setup['order_id']}", headers=buyer.headers)).json()["status"])  # type: ignore[attr-defined]


@pytest.mark.both_backends
async def test_given_a_valid_event_delivered_three_times_then_it_is_applied_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await _pending_payment(client, state)
    payment = setup["payment"]
    body, headers = _signed(state, _event(payment["id"], payment["amount"]["amount"]))  # type: ignore[index]
    answers = [(await client.post(URL, content=body, headers=headers)).json()["status"] for _ in range(3)]
    assert answers == ["applied", "duplicate", "duplicate"]
    assert await _order_status(client, setup) == "paid"
    async with state.db.read_sessions() as session:
        sales = (await session.execute(select(func.count()).select_from(LedgerTransaction))).scalar_one()
    assert sales == 1


@pytest.mark.parametrize("tamper", ["bad_signature", "wrong_secret", "stale", "amount", "currency", "missing"])
async def test_given_a_forged_or_stale_or_tampered_event_then_it_is_refused_and_nothing_applied(
    client: httpx.AsyncClient, state: AppState, tamper: str
) -> None:
    setup = await _pending_payment(client, state)
    payment = setup["payment"]
    amount = payment["amount"]["amount"]  # type: ignore[index]
    event = _event(payment["id"], amount)  # type: ignore[index]
    if tamper == "amount":
        event["data"]["amount"] = 1  # type: ignore[index]
    if tamper == "currency":
        event["data"]["currency"] = "USD"  # type: ignore[index]
    body, headers = _signed(
        state,
        event,
        at=int(time.time()) - 301 if tamper == "stale" else None,
        secret="not-the-secret" if tamper == "wrong_secret" else None,
    )
    if tamper == "bad_signature":
        headers[SIGNATURE_HEADER] = headers[SIGNATURE_HEADER][:-4] + "0000"
    if tamper == "missing":
        del headers[SIGNATURE_HEADER]
    refused = await client.post(URL, content=body, headers=headers)
    expected = {
        "bad_signature": "bad_signature",
        "wrong_secret": "bad_signature",
        "stale": "stale_webhook",
        "amount": "amount_mismatch",
        "currency": "amount_mismatch",
        "missing": "missing_signature",
    }[tamper]
    assert refused.status_code == 400 and refused.json()["code"] == expected
    assert await _order_status(client, setup) == "pending_payment"
    async with state.db.read_sessions() as session:
        logged = list((await session.execute(select(PaymentEvent.outcome))).scalars())
    assert logged == [f"rejected:{expected}"]


async def test_given_the_sandbox_flow_then_the_psp_signs_what_passerelle_verifies(state: AppState) -> None:
    provider = state.payment_providers["sandbox"]
    assert isinstance(provider, SandboxProvider)
    event = _event("pay_x", 100)
    body, headers = provider.signed_delivery(event, now=1_700_000_000)
    parsed = provider.parse_webhook(headers=headers, body=body, now=1_700_000_100)
    assert (parsed.event_id, parsed.amount, parsed.kind) == ("evt_1", 100, "payment.succeeded")


async def test_given_invalid_card_numbers_then_422_and_a_second_submit_is_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await _pending_payment(client, state)
    pay_url = f"/api/v1/payments/sandbox/{setup['payment']['id']}/pay"  # type: ignore[index]
    bad = await client.post(pay_url, json={"card_number": "4242 4242 4242 4241"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_card_number"
    assert (await client.post(pay_url, json={"card_number": "4242424242424242"})).status_code == 202
    again = await client.post(pay_url, json={"card_number": "4242424242424242"})
    assert again.status_code == 409 and again.json()["code"] == "payment_not_pending"
