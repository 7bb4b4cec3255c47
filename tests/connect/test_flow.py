"""From a click to a paid commission, through the real routes and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from passerelle.connect.models import Click, Commission
from passerelle.connect.service.ledger import owed_account, pending_account
from passerelle.infra.clock import FrozenClock
from passerelle.ledger import service as ledger
from passerelle.state import AppState
from tests.commerce import drain
from tests.connect.helpers import buy, click, deliver, make_creator, make_link, make_shop


async def commissions_of(state: AppState, order_id: int) -> list[Commission]:
    async with state.db.read_sessions() as session:
        rows = await session.execute(select(Commission).where(Commission.order_id == order_id))
        return list(rows.scalars())


@pytest.mark.both_backends
async def test_given_a_creator_link_when_a_buyer_clicks_and_pays_then_a_pending_commission_is_booked_and_balanced(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=5))  # outbox rows are stamped in real time
    state.clock = clock
    shop = await make_shop(client, state, price=10000, rate_bp=1000)
    creator, creator_id = await make_creator(client, state)
    code = await make_link(client, creator, shop)

    response = await click(client, code)
    assert response.status_code == 302 and response.headers["location"] == f"/p/{shop.product_id}"
    assert "pc_v" in response.cookies
    assert await state.connect.recorder.flush() == 1

    _, order_id = await buy(client, state, shop)
    (commission,) = await commissions_of(state, order_id)
    assert (commission.creator_id, commission.status, commission.rule) == (creator_id, "pending", "last_click")
    assert commission.approve_at is None  # the return window opens at delivery
    assert commission.amount == 1000 and commission.rate_bp == 1000

    async with state.db.read_sessions() as session:
        assert await ledger.balance(session, account=pending_account(creator_id), currency="EUR") == -1000
        assert all(total == 0 for total in (await ledger.total_of_all_entries(session)).values())
        # What the buyer paid = platform commission + creator commission + merchant net.
        paid = await ledger.balance(session, account=ledger.CLEARING, currency="EUR")
        platform = -await ledger.balance(session, account=ledger.COMMISSION, currency="EUR")
        merchant = -await ledger.balance(session, account=ledger.merchant_account(shop.merchant.id), currency="EUR")
        assert paid == platform + 1000 + merchant

    dashboard = await client.get("/api/v1/creators/me/dashboard", headers=creator.headers)
    assert dashboard.json()["earnings"] == {"pending": {"EUR": 1000}} and dashboard.json()["clicks"] == 1

    await deliver(client, state, shop, order_id)
    clock.advance(days=15)
    await drain(state)
    (commission,) = await commissions_of(state, order_id)
    assert commission.status == "approved"
    async with state.db.read_sessions() as session:
        assert await ledger.balance(session, account=owed_account(creator_id), currency="EUR") == -1000


async def test_given_clicks_when_the_same_visitor_clicks_again_then_it_counts_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    shop = await make_shop(client, state)
    creator, _ = await make_creator(client, state)
    code = await make_link(client, creator, shop)
    for _ in range(3):
        assert (await click(client, code)).status_code == 302
    await state.connect.recorder.flush()
    async with state.db.read_sessions() as session:
        assert len((await session.execute(select(Click.id))).all()) == 1
    assert state.connect.recorder.stats.repeats == 2
    assert (await client.get("/r/nosuchcode")).status_code == 404


async def test_given_no_click_when_a_buyer_pays_then_no_commission(client: httpx.AsyncClient, state: AppState) -> None:
    shop = await make_shop(client, state)
    await make_creator(client, state)
    _, order_id = await buy(client, state, shop)
    assert await commissions_of(state, order_id) == []
