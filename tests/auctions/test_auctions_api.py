"""Auctions over the API: proxy bids, anti-sniping, concurrent bids, the winner pays."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from passerelle.catalog.models import Sku
from passerelle.infra.clock import FrozenClock
from passerelle.merchants.models import MerchantKind
from passerelle.state import AppState
from tests.commerce import ADDRESS, drain, make_buyers, pay, sku_of
from tests.factories import Actor, make_merchant, make_product, make_user


@pytest.fixture
def clock(state: AppState) -> FrozenClock:
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1))
    state.clock = clock
    return clock


async def listed(client: httpx.AsyncClient, state: AppState, clock: FrozenClock, **extra: Any) -> dict[str, Any]:
    seller = await make_user(state)
    shop = await make_merchant(state, seller, kind=MerchantKind.individual)
    sku = (await sku_of(client, await make_product(state, shop, price=9000, stock=1)))["id"]
    now = clock.now()
    body = {
        "sku_id": sku,
        "starting_amount": 1000,
        "increment_amount": 100,
        "starts_at": (now - timedelta(seconds=1)).isoformat(),
        "ends_at": (now + timedelta(minutes=10)).isoformat(),
        "snipe_window_seconds": 30,
        "extend_seconds": 60,
    } | extra
    created = await client.post(f"/api/v1/me/merchants/{shop.id}/auctions", json=body, headers=seller.headers)
    assert created.status_code == 201, created.text
    return {"auction": created.json(), "seller": seller, "sku_id": sku}


async def bid(
    client: httpx.AsyncClient, buyer: Actor, auction_id: int, amount: int, key: str | None = None
) -> httpx.Response:
    headers = dict(buyer.headers) | ({"Idempotency-Key": key} if key else {})
    return await client.post(f"/api/v1/auctions/{auction_id}/bids", json={"max_amount": amount}, headers=headers)


async def sku_counts(state: AppState, sku_id: int) -> tuple[int, int, int]:
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, sku_id)
        assert sku is not None
        return sku.stock, sku.reserved, sku.sold


async def test_given_proxy_bids_and_a_last_second_bid_then_the_end_extends_and_the_winner_pays(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock
) -> None:
    setup = await listed(client, state, clock)
    auction_id, sku = setup["auction"]["id"], setup["sku_id"]
    assert await sku_counts(state, sku) == (0, 1, 0)  # the unit is held for the auction
    alice, bob = await make_buyers(state, 2)

    first = await bid(client, alice, auction_id, 5000, key="a1")
    assert first.status_code == 201 and first.json()["leading"] and first.json()["price"]["amount"] == 1000
    assert (await bid(client, alice, auction_id, 5000, key="a1")).json() == first.json()  # a retry, not a 2nd bid
    outbid = await bid(client, bob, auction_id, 3000)
    assert outbid.status_code == 201 and not outbid.json()["leading"]
    assert outbid.json()["price"]["amount"] == 3100  # Alice's proxy answered
    view = (await client.get(f"/api/v1/auctions/{auction_id}", headers=bob.headers)).json()
    assert view["your_max"] is None and view["minimum_bid"]["amount"] == 3200  # nobody sees Alice's maximum
    low = await bid(client, bob, auction_id, 3150)
    assert low.status_code == 409 and low.json()["code"] == "bid_too_low" and low.json()["minimum"] == 3200
    own = await bid(client, setup["seller"], auction_id, 9000)
    assert own.json()["code"] == "own_auction"

    ends_at = datetime.fromisoformat(view["ends_at"])
    clock.advance(seconds=(ends_at - clock.now()).total_seconds() - 10)  # 10 s before the end
    snipe = await bid(client, bob, auction_id, 6000)
    assert snipe.json()["leading"] and snipe.json()["extended"] and snipe.json()["price"]["amount"] == 5100
    assert datetime.fromisoformat(snipe.json()["ends_at"]) == clock.now() + timedelta(seconds=60)

    clock.advance(seconds=15)  # past the original end, not the extended one: still open
    await drain(state)
    assert (await client.get(f"/api/v1/auctions/{auction_id}")).json()["status"] == "open"
    clock.advance(seconds=50)
    await drain(state)
    won = (await client.get(f"/api/v1/auctions/{auction_id}", headers=bob.headers)).json()
    assert won["status"] == "won" and won["leading"] and won["pay_by"]

    assert (
        await client.post(
            f"/api/v1/auctions/{auction_id}/checkout", json={"shipping_address": ADDRESS}, headers=alice.headers
        )
    ).status_code == 404
    placed = await client.post(
        f"/api/v1/auctions/{auction_id}/checkout", json={"shipping_address": ADDRESS}, headers=bob.headers
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["orders"][0]["total"]["amount"] == 5100 + 490
    await pay(client, state, placed.json()["payment"]["id"])
    assert (await client.get(f"/api/v1/auctions/{auction_id}")).json()["status"] == "paid"
    assert await sku_counts(state, sku) == (0, 0, 1)


async def test_given_concurrent_bids_then_one_consistent_leader_and_price(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock
) -> None:
    setup = await listed(client, state, clock)
    auction_id = setup["auction"]["id"]
    buyers = await make_buyers(state, 20)
    answers = await asyncio.gather(*(bid(client, b, auction_id, 2000 + 150 * i) for i, b in enumerate(buyers)))
    assert {a.status_code for a in answers} <= {201, 409}
    view = (await client.get(f"/api/v1/auctions/{auction_id}", headers=buyers[-1].headers)).json()
    assert view["leading"]  # the highest maximum leads...
    accepted = sorted(2000 + 150 * i for i, a in enumerate(answers) if a.status_code == 201)
    runner_up = accepted[-2]
    assert runner_up <= view["price"]["amount"] <= runner_up + 100  # ...at the runner-up's maximum + one step


async def test_given_no_bid_or_an_unpaid_winner_then_the_unit_goes_back_on_sale(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock
) -> None:
    quiet = await listed(client, state, clock)
    clock.advance(minutes=11)
    await drain(state)
    assert (await client.get(f"/api/v1/auctions/{quiet['auction']['id']}")).json()["status"] == "unsold"
    assert await sku_counts(state, quiet["sku_id"]) == (1, 0, 0)

    busy = await listed(client, state, clock)
    (buyer,) = await make_buyers(state, 1)
    await bid(client, buyer, busy["auction"]["id"], 1500)
    clock.advance(minutes=11)
    await drain(state)
    clock.advance(days=2, minutes=1)  # the winner never pays
    await drain(state)
    assert (await client.get(f"/api/v1/auctions/{busy['auction']['id']}")).json()["status"] == "unpaid"
    assert await sku_counts(state, busy["sku_id"]) == (1, 0, 0)


async def test_given_the_auction_page_then_a_buyer_bids_with_the_form_and_the_winner_reaches_the_payment(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock
) -> None:
    import re

    from tests.festival.test_presale import PAGE_ADDRESS
    from tests.web.helpers import HTML, csrf_token, log_in, text_of

    setup = await listed(client, state, clock)
    auction_id = setup["auction"]["id"]
    (buyer,) = await make_buyers(state, 1)
    await log_in(client, buyer.user.email)
    page = await client.get(f"/auctions/{auction_id}", headers=HTML)
    assert "Enchère en direct" in text_of(page.text) and "Minimum : 10,00 €" in text_of(page.text)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key
    token = await csrf_token(client, f"/auctions/{auction_id}")
    sent = await client.post(
        f"/auctions/{auction_id}/bid",
        data={"max_amount": "25,50", "idempotency_key": key.group(1), "csrf_token": token},
    )
    assert sent.status_code == 303 and sent.headers["location"].endswith("?bid=accepted")
    shown = text_of((await client.get(sent.headers["location"], headers=HTML)).text)
    assert "Votre enchère est enregistrée." in shown and "Vous êtes en tête de cette enchère." in shown
    api = (await client.get(f"/api/v1/auctions/{auction_id}", headers=buyer.headers)).json()
    assert api["your_max"]["amount"] == 2550 and api["price"]["amount"] == 1000

    clock.advance(minutes=11)
    await drain(state)
    won = await client.get(f"/auctions/{auction_id}", headers=HTML)
    assert "Vous avez remporté cette enchère." in text_of(won.text)
    form = await client.get(f"/auctions/{auction_id}/pay", headers=HTML)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text)
    assert key
    data = {**PAGE_ADDRESS, "idempotency_key": key.group(1), "csrf_token": await csrf_token(client, "/presales")}
    placed = await client.post(f"/auctions/{auction_id}/pay", data=data, headers=HTML)
    assert placed.status_code == 303 and placed.headers["location"].startswith("/pay/sandbox/pay_")
