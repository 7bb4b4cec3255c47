"""The sandbox PSP's in-process delivery (no PASSERELLE_PUBLIC_URL) checks exactly what the
public webhook route checks: signature, age, replayed event id, amount."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from passerelle.ledger.models import LedgerTransaction
from passerelle.payments.models import PaymentEvent
from passerelle.payments.providers.sandbox import SandboxProvider
from passerelle.payments.signing import SIGNATURE_HEADER, sign
from passerelle.payments.tasks import deliver_sandbox_webhook, receive_in_process
from passerelle.state import AppState
from tests.payments.test_webhooks import _event, _order_status, _pending_payment


def _sandbox(state: AppState) -> SandboxProvider:
    provider = state.payment_providers["sandbox"]
    assert isinstance(provider, SandboxProvider)
    return provider


@pytest.mark.both_backends
async def test_given_the_same_event_delivered_three_times_in_process_then_it_is_applied_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    setup = await _pending_payment(client, state)
    payment = setup["payment"]
    event = _event(payment["id"], payment["amount"]["amount"])  # type: ignore[index]
    for _ in range(3):  # outbox redeliveries after a crash look like this
        await deliver_sandbox_webhook(state, {"event": event})
    assert await _order_status(client, setup) == "paid"
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(LedgerTransaction))).scalar_one() == 1
        outcomes = list((await session.execute(select(PaymentEvent.outcome))).scalars())
    assert outcomes == ["applied"]


@pytest.mark.parametrize("tamper", ["bad_signature", "stale", "amount", "missing"])
async def test_given_a_forged_stale_or_tampered_delivery_in_process_then_it_is_refused_logged_and_not_applied(
    client: httpx.AsyncClient, state: AppState, tamper: str
) -> None:
    setup = await _pending_payment(client, state)
    payment = setup["payment"]
    event = _event(payment["id"], payment["amount"]["amount"])  # type: ignore[index]
    if tamper == "amount":
        event["data"]["amount"] = 1  # type: ignore[index]
    body = orjson.dumps(event)
    stamp = int(time.time()) - (301 if tamper == "stale" else 0)
    headers = {SIGNATURE_HEADER: sign(state.settings.resolved_sandbox_secret, timestamp=stamp, body=body)}
    if tamper == "bad_signature":
        body = body.replace(b"ch_1", b"ch_2")  # signed bytes changed after signing
    if tamper == "missing":
        headers = {}
    with pytest.raises(RuntimeError, match="webhook refused"):
        await receive_in_process(state, provider=_sandbox(state), body=body, headers=headers)
    expected = {
        "bad_signature": "bad_signature",
        "stale": "stale_webhook",
        "amount": "amount_mismatch",
        "missing": "missing_signature",
    }[tamper]
    assert await _order_status(client, setup) == "pending_payment"
    async with state.db.read_sessions() as session:
        logged = list((await session.execute(select(PaymentEvent.outcome))).scalars())
    assert logged == [f"rejected:{expected}"]


async def test_given_a_public_url_then_the_sandbox_delivers_over_http_to_the_public_route(
    client: httpx.AsyncClient, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    setup = await _pending_payment(client, state)
    payment = setup["payment"]
    seen: list[str] = []

    def via_route() -> httpx.AsyncClient:
        async def record(request: httpx.Request) -> None:
            seen.append(request.url.path)

        return httpx.AsyncClient(
            transport=state.webhook_transport, base_url="http://public", event_hooks={"request": [record]}
        )

    monkeypatch.setattr(state.settings, "public_url", "http://public")
    monkeypatch.setattr(state, "webhook_client", via_route)
    await deliver_sandbox_webhook(state, {"event": _event(payment["id"], payment["amount"]["amount"])})  # type: ignore[index]
    assert seen == ["/api/v1/payments/webhooks/sandbox"]
    assert await _order_status(client, setup) == "paid"
