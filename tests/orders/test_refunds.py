"""Refunds: partial then full, restock of returned units, ledger reversal that balances."""

from __future__ import annotations

import httpx

from passerelle.catalog.models import Sku
from passerelle.ledger import service as ledger
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, pay, read_mails, sku_of
from tests.factories import make_merchant, make_product, make_user


async def test_given_a_paid_order_when_refunded_in_two_steps_then_money_stock_and_ledger_add_up(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=3333, stock=5)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku, 3)
    body = (await checkout(client, buyer)).json()
    await pay(client, state, body["payment"]["id"])
    order_id = body["orders"][0]["id"]
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=seller.headers)).json()
    line_id = order["lines"][0]["id"]
    total = order["total"]["amount"]  # 3 x 33.33 + 4.90 = 104.89
    assert total == 10489 and order["commission"]["amount"] == 1000

    buyer_refund = await client.post(f"/api/v1/orders/{order_id}/refunds", json={"amount": 100}, headers=buyer.headers)
    assert buyer_refund.status_code == 403

    partial = await client.post(
        f"/api/v1/orders/{order_id}/refunds",
        json={"lines": [{"line_id": line_id, "quantity": 1, "restock": True}], "reason": "taille"},
        headers=seller.headers,
    )
    assert partial.status_code == 201, partial.text
    assert partial.json()["amount"]["amount"] == 3333
    assert partial.json()["order_status"] == "paid"
    too_much = await client.post(f"/api/v1/orders/{order_id}/refunds", json={"amount": total}, headers=seller.headers)
    assert too_much.status_code == 422 and too_much.json()["code"] == "invalid_amount"

    rest = await client.post(
        f"/api/v1/orders/{order_id}/refunds",
        json={
            "amount": total - 3333,
            "lines": [{"line_id": line_id, "quantity": 2, "restock": False}],
            "reason": "abîmé",
        },
        headers=seller.headers,
    )
    assert rest.status_code == 201, rest.text
    assert rest.json()["order_status"] == "refunded"
    commission_back = partial.json()["commission_reversed"]["amount"] + rest.json()["commission_reversed"]["amount"]
    assert commission_back == 1000

    async with state.db.read_sessions() as session:
        row = await session.get(Sku, sku)
        assert row is not None and (row.stock, row.reserved, row.sold) == (3, 0, 2)
        assert set((await ledger.total_of_all_entries(session)).values()) == {0}
        assert await ledger.balance(session, account=ledger.merchant_account(shop.id), currency="EUR") == 0
        assert await ledger.balance(session, account=ledger.COMMISSION, currency="EUR") == 0
    again = await client.post(f"/api/v1/orders/{order_id}/refunds", json={"amount": 1}, headers=seller.headers)
    assert again.status_code == 409 and again.json()["code"] == "not_refundable"
    await _drain_mails(state)
    assert sum(1 for m in read_mails(state) if "Remboursement" in m["Subject"]) == 2


async def _drain_mails(state: AppState) -> None:
    from tests.commerce import drain

    await drain(state)


async def test_given_a_balance_then_the_statement_csv_and_a_payout_settle_it(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.accounts.models import Role

    seller = await make_user(state)
    operator = await make_user(state, role=Role.operator)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, price=10000)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    body = (await checkout(client, buyer)).json()
    await pay(client, state, body["payment"]["id"])
    owed = (await client.get(f"/api/v1/me/merchants/{shop.id}/balance", headers=seller.headers)).json()["owed"]
    assert owed == {"EUR": 10490 - 1000}
    paid = await client.post(f"/api/v1/operator/merchants/{shop.id}/payouts", headers=operator.headers)
    assert paid.json()["paid"] == {"EUR": 9490}
    assert (await client.get(f"/api/v1/me/merchants/{shop.id}/balance", headers=seller.headers)).json()["owed"] == {
        "EUR": 0
    }
    statement = (await client.get(f"/api/v1/me/merchants/{shop.id}/statement.csv", headers=seller.headers)).text
    rows = [line.split(",") for line in statement.strip().splitlines()]
    assert rows[0][:3] == ["date", "kind", "reference"]
    assert [(r[1], r[5], r[6]) for r in rows[1:]] == [("sale", "9490", "9490"), ("payout", "-9490", "0")]
    other = await make_user(state)
    assert (await client.get(f"/api/v1/me/merchants/{shop.id}/statement.csv", headers=other.headers)).status_code == 404
