"""Attribution on real orders: promo code beats the cookie, live-room splits, refunds reverse,
self-referral is held, amounts always add up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from passerelle.cart.models import CartItem
from passerelle.connect.models import Commission, FraudFlag
from passerelle.connect.service.ledger import pending_account
from passerelle.ledger import service as ledger
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, drain, make_buyers, pay
from tests.connect.helpers import buy, click, make_creator, make_link, make_shop


async def commissions(state: AppState, order_id: int) -> list[Commission]:
    async with state.db.read_sessions() as session:
        rows = await session.execute(select(Commission).where(Commission.order_id == order_id).order_by(Commission.id))
        return list(rows.scalars())


async def assert_balanced(state: AppState) -> None:
    async with state.db.read_sessions() as session:
        assert all(total == 0 for total in (await ledger.total_of_all_entries(session)).values())


async def test_given_a_click_and_another_creators_promo_code_then_the_code_wins(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state, price=20000, rate_bp=1000)
    clicker, _ = await make_creator(client, state)
    _, coder_id = await make_creator(client, state)
    await click(client, await make_link(client, clicker, shop))
    await state.connect.recorder.flush()
    now = datetime.now(UTC)
    made = await client.post(
        f"/api/v1/campaigns/{shop.campaign_id}/promo-codes",
        json={
            "creator_id": coder_id,
            "code": "ANNA10",
            "discount_amount": 1000,
            "min_spend_amount": 5000,
            "starts_at": (now - timedelta(hours=1)).isoformat(),
            "ends_at": (now + timedelta(days=30)).isoformat(),
        },
        headers=shop.seller.headers,
    )
    assert made.status_code == 201, made.text
    _, order_id = await buy(client, state, shop, coupon_code="ANNA10")
    (commission,) = await commissions(state, order_id)
    assert (commission.creator_id, commission.rule, commission.detail["code"]) == (coder_id, "promo_code", "ANNA10")
    # 10 % of what the buyer paid for the line: 200.00 - the 10.00 coupon.
    assert (commission.base_amount, commission.amount) == (19000, 1900)
    await assert_balanced(state)


async def test_given_a_live_room_purchase_then_host_and_cohosts_share_exactly(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state, price=3333, rate_bp=1000)
    host, host_id = await make_creator(client, state)
    cohost_a, cohost_a_id = await make_creator(client, state)
    cohost_b, cohost_b_id = await make_creator(client, state)
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, shop.sku_id, 1)
    room = {
        "room_id": 77,
        "host_id": host.user.id,
        "cohosts": [{"user_id": cohost_a.user.id, "share_bp": 3333}, {"user_id": cohost_b.user.id, "share_bp": 3333}],
    }
    async with state.db.sessions() as session:  # what the live-room page writes on the cart line
        await session.execute(update(CartItem).values(attribution=room))
        await session.commit()
    placed = await checkout(client, buyer)
    await pay(client, state, placed.json()["payment"]["id"])
    rows = await commissions(state, int(placed.json()["orders"][0]["id"]))
    got = {c.creator_id: (c.rule, c.amount) for c in rows}
    # 10 % of 33.33 = 333; shares 3334/3333/3333 bp -> 111.02 / 110.99 / 110.99: floors 111+110+110, and
    # the 2 units left go to the largest fractions (the co-hosts), in the host's order.
    assert got == {
        host_id: ("live_room_host", 111),
        cohost_a_id: ("live_room_cohost", 111),
        cohost_b_id: ("live_room_cohost", 111),
    }
    assert all(c.detail["room_id"] == 77 for c in rows)
    dashboard = await client.get(f"/api/v1/merchants/{shop.merchant.id}/connect/dashboard", headers=shop.seller.headers)
    assert dashboard.json()["gmv_by_room"] == [{"room_id": 77, "currency": "EUR", "gmv": 3333}]
    await assert_balanced(state)


@pytest.mark.both_backends
async def test_given_a_paid_attributed_order_when_refunded_in_part_then_in_full_then_the_commission_is_reversed(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state, price=5000, rate_bp=1000)
    creator, creator_id = await make_creator(client, state)
    await click(client, await make_link(client, creator, shop))
    await state.connect.recorder.flush()
    _, order_id = await buy(client, state, shop, quantity=2)
    (commission,) = await commissions(state, order_id)
    assert commission.amount == 1000
    order = (await client.get(f"/api/v1/orders/{order_id}", headers=shop.seller.headers)).json()
    line_id = order["lines"][0]["id"]
    partial = await client.post(
        f"/api/v1/orders/{order_id}/refunds",
        json={"lines": [{"line_id": line_id, "quantity": 1, "restock": True}]},
        headers=shop.seller.headers,
    )
    assert partial.status_code == 201, partial.text
    await drain(state)
    (commission,) = await commissions(state, order_id)
    assert (commission.reversed_amount, commission.status) == (500, "pending")
    rest = await client.post(
        f"/api/v1/orders/{order_id}/refunds",
        json={"amount": order["total"]["amount"] - 5000},
        headers=shop.seller.headers,
    )
    assert rest.status_code == 201, rest.text
    await drain(state)
    await drain(state)  # a replayed refund message books nothing more
    (commission,) = await commissions(state, order_id)
    assert (commission.reversed_amount, commission.status) == (1000, "reversed")
    async with state.db.read_sessions() as session:
        assert await ledger.balance(session, account=pending_account(creator_id), currency="EUR") == 0
    await assert_balanced(state)


async def test_given_a_creator_buying_through_their_own_link_then_the_commission_is_held_and_flagged(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    creator, creator_id = await make_creator(client, state)
    await click(client, await make_link(client, creator, shop))
    await state.connect.recorder.flush()
    _, order_id = await buy(client, state, shop, buyer=creator)
    (commission,) = await commissions(state, order_id)
    assert (commission.status, commission.hold_reason) == ("held", "self_referral")
    async with state.db.read_sessions() as session:
        (flag,) = (await session.execute(select(FraudFlag))).scalars()
    assert (flag.kind, flag.creator_id) == ("self_referral", creator_id)
