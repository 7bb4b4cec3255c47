"""Presale: a deposit before the deal holds a unit, the balance is paid on the day, an
unpaid balance forfeits the deposit; units never oversold and always accounted for."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from passerelle.accounts.models import Role
from passerelle.catalog.models import Sku
from passerelle.infra.clock import FrozenClock
from passerelle.ledger import service as ledger
from passerelle.ledger.models import LedgerEntry
from passerelle.state import AppState
from tests.commerce import ADDRESS, drain, make_buyers, pay, sku_of
from tests.factories import Actor, make_merchant, make_product, make_user

PRICE, DEPOSIT, CREDIT, SHIPPING = 8000, 1000, 2000, 490


@pytest.fixture
def clock(state: AppState) -> FrozenClock:
    # Ahead of real time: outbox messages are stamped with the real time and must be due.
    clock = FrozenClock(datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=1))
    state.clock = clock
    assert state.engine is not None
    state.engine.clock = clock
    return clock


async def presale_deal(
    client: httpx.AsyncClient,
    state: AppState,
    clock: FrozenClock,
    *,
    stock: int = 30,
    deal_stock: int = 12,
    presale_stock: int = 10,
    limit: int = 2,
) -> dict[str, Any]:
    """A festival running now; a deal starting in 1 h whose deposits are open now and
    whose balance is due 1 h after its start."""
    now = clock.now()
    operator = await make_user(state, role=Role.operator)
    festival = await client.post(
        "/api/v1/operator/festivals",
        json={
            "name": "11.11 presale",
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(hours=5)).isoformat(),
            "time_zone": "Europe/Paris",
        },
        headers=operator.headers,
    )
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=12000, stock=stock)))["id"]
    body = {
        "festival_id": festival.json()["id"],
        "sku_id": sku,
        "price_amount": PRICE,
        "stock": deal_stock,
        "per_buyer_limit": limit,
        "starts_at": (now + timedelta(hours=1)).isoformat(),
        "ends_at": (now + timedelta(hours=3)).isoformat(),
        "presale": {
            "deposit_amount": DEPOSIT,
            "deposit_credit_amount": CREDIT,
            "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "balance_due_at": (now + timedelta(hours=2)).isoformat(),
            "stock": presale_stock,
        },
    }
    deal = await client.post(f"/api/v1/me/merchants/{shop.id}/deals", json=body, headers=seller.headers)
    assert deal.status_code == 201, deal.text
    armed = await client.post(f"/api/v1/me/deals/{deal.json()['id']}/arm", headers=seller.headers)
    assert armed.status_code == 200, armed.text
    return {"deal": armed.json(), "sku_id": sku, "shop": shop, "seller": seller, "body": body}


async def deposit(
    client: httpx.AsyncClient, buyer: Actor, deal_id: int, quantity: int = 1, key: str | None = None
) -> httpx.Response:
    headers = dict(buyer.headers)
    if key:
        headers["Idempotency-Key"] = key
    return await client.post(
        f"/api/v1/deals/{deal_id}/deposits",
        json={"quantity": quantity, "shipping_address": ADDRESS, "payment_provider": "sandbox"},
        headers=headers,
    )


async def sku_counts(state: AppState, sku_id: int) -> tuple[int, int, int]:
    async with state.db.read_sessions() as session:
        sku = await session.get(Sku, sku_id)
        assert sku is not None
        return sku.stock, sku.reserved, sku.sold


async def test_given_a_presale_when_deposit_then_balance_are_paid_then_the_unit_is_sold_once(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock
) -> None:
    setup = await presale_deal(client, state, clock)
    deal = setup["deal"]
    assert deal["presale"]["remaining"] == 10 and deal["remaining"] == 2  # 12 units: 10 presale, 2 flash
    assert deal["presale"]["balance"] == {"amount": PRICE - CREDIT, "currency": "EUR"}
    (buyer,) = await make_buyers(state, 1)

    placed = await deposit(client, buyer, deal["id"], 2, key="dep-1")
    assert placed.status_code == 201, placed.text
    again = await deposit(client, buyer, deal["id"], 2, key="dep-1")
    assert again.json() == placed.json()  # a retried deposit is the same deposit
    presale_id = placed.json()["presale"]["id"]
    order = placed.json()["checkout"]["orders"][0]
    assert order["total"]["amount"] == 2 * DEPOSIT  # no shipping on a deposit
    await pay(client, state, placed.json()["checkout"]["payment"]["id"])
    mine = (await client.get("/api/v1/me/presales", headers=buyer.headers)).json()["items"]
    assert [(p["id"], p["status"]) for p in mine] == [(presale_id, "deposit_paid")]
    assert await sku_counts(state, setup["sku_id"]) == (18, 12, 0)  # the deposit moved no stock

    early = await client.post(
        f"/api/v1/me/presales/{presale_id}/balance", json={"shipping_address": ADDRESS}, headers=buyer.headers
    )
    assert early.status_code == 409 and early.json()["code"] == "balance_not_open"
    stranger = (await make_buyers(state, 1))[0]
    other = await client.post(
        f"/api/v1/me/presales/{presale_id}/balance", json={"shipping_address": ADDRESS}, headers=stranger.headers
    )
    assert other.status_code == 404

    clock.advance(hours=1, seconds=1)  # the deal has started: the balance window is open
    balance = await client.post(
        f"/api/v1/me/presales/{presale_id}/balance", json={"shipping_address": ADDRESS}, headers=buyer.headers
    )
    assert balance.status_code == 201, balance.text
    assert balance.json()["orders"][0]["total"]["amount"] == 2 * (PRICE - CREDIT) + SHIPPING
    await pay(client, state, balance.json()["payment"]["id"])
    mine = (await client.get("/api/v1/me/presales", headers=buyer.headers)).json()["items"]
    assert mine[0]["status"] == "completed"
    assert await sku_counts(state, setup["sku_id"]) == (18, 10, 2)
    # The merchant got both payments, minus commission; the ledger still sums to zero.
    async with state.db.read_sessions() as session:
        assert await session.scalar(select(func.sum(LedgerEntry.amount))) == 0
        merchant = await ledger.balance(session, account=ledger.merchant_account(setup["shop"].id), currency="EUR")
        assert 0 < -merchant < 2 * DEPOSIT + 2 * (PRICE - CREDIT) + SHIPPING


async def test_given_many_concurrent_deposits_then_presale_stock_and_buyer_limit_hold(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock
) -> None:
    setup = await presale_deal(client, state, clock, presale_stock=10, limit=2)
    deal_id = setup["deal"]["id"]
    buyers = await make_buyers(state, 30)
    answers = await asyncio.gather(*(deposit(client, b, deal_id, 1, key=f"d{i}") for i, b in enumerate(buyers)))
    assert sum(1 for a in answers if a.status_code == 201) == 10
    assert {a.json()["code"] for a in answers if a.status_code != 201} == {"sold_out"}

    greedy = await presale_deal(client, state, clock, presale_stock=10, limit=2)
    (buyer,) = await make_buyers(state, 1)
    tries = await asyncio.gather(*(deposit(client, buyer, greedy["deal"]["id"], 1, key=f"g{i}") for i in range(5)))
    assert sum(1 for a in tries if a.status_code == 201) == 2
    assert {a.json()["code"] for a in tries if a.status_code != 201} == {"limit_reached"}
    left = (await client.get(f"/api/v1/deals/{greedy['deal']['id']}")).json()["presale"]["remaining"]
    assert left == 8  # refused deposits gave their unit back in the same transaction


async def test_given_an_unpaid_balance_then_the_deposit_is_forfeited_and_the_unit_returns_at_close(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock
) -> None:
    setup = await presale_deal(client, state, clock, stock=30, deal_stock=12, presale_stock=10)
    deal_id = setup["deal"]["id"]
    payer, forgetful, unpaid_deposit = await make_buyers(state, 3)
    for buyer in (payer, forgetful):
        placed = await deposit(client, buyer, deal_id, 1)
        await pay(client, state, placed.json()["checkout"]["payment"]["id"])
    await deposit(client, unpaid_deposit, deal_id, 1)  # never paid: its unit comes back on expiry
    assert (await client.get(f"/api/v1/deals/{deal_id}")).json()["presale"]["remaining"] == 7

    clock.advance(minutes=20)  # past the deposit order's 15 min hold
    await drain(state)
    assert (await client.get(f"/api/v1/deals/{deal_id}")).json()["presale"]["remaining"] == 8
    statuses = (await client.get("/api/v1/me/presales", headers=unpaid_deposit.headers)).json()["items"]
    assert statuses[0]["status"] == "cancelled"

    clock.advance(hours=1)  # the deal runs; only one buyer pays the balance
    presale_id = (await client.get("/api/v1/me/presales", headers=payer.headers)).json()["items"][0]["id"]
    balance = await client.post(
        f"/api/v1/me/presales/{presale_id}/balance", json={"shipping_address": ADDRESS}, headers=payer.headers
    )
    await pay(client, state, balance.json()["payment"]["id"])

    clock.advance(hours=1)  # past the balance due time
    await drain(state)
    late = (await client.get("/api/v1/me/presales", headers=forgetful.headers)).json()["items"][0]
    assert late["status"] == "forfeited"
    overdue = await client.post(
        f"/api/v1/me/presales/{late['id']}/balance", json={"shipping_address": ADDRESS}, headers=forgetful.headers
    )
    assert overdue.status_code == 409 and overdue.json()["code"] == "balance_not_payable"

    clock.advance(hours=2)  # past the deal's end and its holds: it closes
    await drain(state)
    assert (await client.get(f"/api/v1/deals/{deal_id}")).json()["status"] == "closed"
    # 30 units: 1 sold through the presale; everything else (forfeited unit included) is back.
    assert await sku_counts(state, setup["sku_id"]) == (29, 0, 1)
    async with state.db.read_sessions() as session:
        merchant = await ledger.balance(session, account=ledger.merchant_account(setup["shop"].id), currency="EUR")
        assert -merchant > 2 * DEPOSIT - 2 * DEPOSIT // 5  # both deposits kept, net of commission


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"deposit_amount": 9000}, "invalid_deposit"),
        ({"deposit_credit_amount": 500}, "invalid_deposit"),
        ({"stock": 13}, "invalid_presale_stock"),
        ({"opens_at": "2099-01-01T00:00:00+00:00"}, "invalid_presale_window"),
        ({"balance_due_at": "2000-01-01T00:00:00+00:00"}, "invalid_balance_window"),
    ],
)
async def test_given_presale_rules_that_do_not_fit_then_the_deal_is_refused(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock, change: dict[str, Any], code: str
) -> None:
    setup = await presale_deal(client, state, clock)
    body = setup["body"]
    body["presale"].update(change)
    refused = await client.post(
        f"/api/v1/me/merchants/{setup['shop'].id}/deals", json=body, headers=setup["seller"].headers
    )
    assert refused.status_code == 422 and refused.json()["code"] == code


async def test_given_a_presale_deal_page_then_the_rules_show_and_the_deposit_form_leads_to_the_payment(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock
) -> None:
    from tests.web.helpers import HTML, csrf_token, log_in, text_of

    setup = await presale_deal(client, state, clock)
    deal_id = setup["deal"]["id"]
    (buyer,) = await make_buyers(state, 1)
    await log_in(client, buyer.user.email)
    shown = text_of((await client.get(f"/deals/{deal_id}", headers=HTML)).text)
    assert "Prévente : réservez dès maintenant avec un acompte de 10,00 €" in shown
    assert "compte pour 20,00 € de réduction" in shown and "Payez le solde de 60,00 €" in shown
    assert "l’acompte n’est pas remboursé" in shown

    form = await client.get(f"/deals/{deal_id}/deposit?quantity=2", headers=HTML)
    assert form.status_code == 200 and "20,00 €" in text_of(form.text)  # 2 deposits of 10 €
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form.text)
    assert key
    data = {**PAGE_ADDRESS, "idempotency_key": key.group(1), "csrf_token": await csrf_token(client, "/presales")}
    first = await client.post(f"/deals/{deal_id}/deposit?quantity=2", data=data, headers=HTML)
    again = await client.post(f"/deals/{deal_id}/deposit?quantity=2", data=data, headers=HTML)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"].startswith("/pay/sandbox/pay_")
    assert again.headers["location"] == first.headers["location"]  # one deposit for a double submit
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as psp:  # no cookies
        await pay(psp, state, first.headers["location"].rsplit("/", 1)[1])

    listed = text_of((await client.get("/presales", headers=HTML)).text)
    assert "Acompte payé" in listed and "Payer le solde" not in listed  # not before the deal starts
    clock.advance(hours=1, seconds=1)
    listed = await client.get("/presales", headers=HTML)
    link = re.search(r'href="(/presales/\d+/balance)"', listed.text)
    assert link
    balance_form = await client.get(link.group(1), headers=HTML)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', balance_form.text)
    assert key and "120,00 €" in text_of(balance_form.text)  # 2 × (80 € - 20 € credit)
    data = {**PAGE_ADDRESS, "idempotency_key": key.group(1), "csrf_token": await csrf_token(client, "/presales")}
    placed = await client.post(link.group(1), data=data, headers=HTML)
    assert placed.status_code == 303 and placed.headers["location"].startswith("/pay/sandbox/pay_")


PAGE_ADDRESS = {
    "name": "Margaux Petit",
    "line1": "12 rue des Lilas",
    "city": "Lyon",
    "postal_code": "69003",
    "country": "FR",
}
