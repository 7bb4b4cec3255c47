"""The commissions consumer's cheap way out: an order no rule could credit (no promo code,
no live room, no visitor on its lines) is answered by one read, with no write transaction."""

from __future__ import annotations

import httpx
from sqlalchemy import event, func, select, update

from passerelle.connect.models import Commission
from passerelle.connect.service.attribution import may_credit, may_credit_any
from passerelle.connect.tasks import on_order_paid, on_orders_paid
from passerelle.orders.models import OrderLine
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, pay, sku_of
from tests.factories import make_merchant, make_product, make_user


async def _paid_order(client: httpx.AsyncClient, state: AppState) -> int:
    shop = await make_merchant(state, await make_user(state))
    sku = (await sku_of(client, await make_product(state, shop)))["id"]
    (buyer,) = await make_buyers(state, 1)
    await add_to_cart(client, buyer, sku)
    placed = (await checkout(client, buyer)).json()
    await pay(client, state, placed["payment"]["id"])
    return int(placed["orders"][0]["id"])


async def test_given_a_paid_order_nobody_referred_then_no_write_transaction_is_opened(
    client: httpx.AsyncClient, state: AppState
) -> None:
    order_id = await _paid_order(client, state)
    writes: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        writes.append(statement)

    event.listen(state.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await on_order_paid(state, {"order_id": order_id})
    finally:
        event.remove(state.db.engine.sync_engine, "before_cursor_execute", record)
    assert writes == []


async def test_given_a_line_with_a_visitor_or_a_live_room_then_the_full_attribution_runs(
    client: httpx.AsyncClient, state: AppState
) -> None:
    order_id = await _paid_order(client, state)
    async with state.db.read_sessions() as session:
        assert not await may_credit(session, order_id=order_id)
    for attribution in ({"visitor": "v1"}, {"room_id": 1, "host_id": 2}):
        async with state.db.writing() as session:
            await session.execute(
                update(OrderLine).where(OrderLine.order_id == order_id).values(attribution=attribution)
            )
        async with state.db.read_sessions() as session:
            assert await may_credit(session, order_id=order_id)
    # A visitor who clicked no link: the full path runs and still credits nobody.
    await on_order_paid(state, {"order_id": order_id})
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Commission))).scalar_one() == 0


async def test_given_an_unknown_order_then_nothing_may_be_credited(state: AppState) -> None:
    async with state.db.read_sessions() as session:
        assert not await may_credit(session, order_id=999_999)


async def test_given_a_group_of_paid_orders_then_one_read_sorts_them_and_only_a_candidate_is_attributed(
    client: httpx.AsyncClient, state: AppState
) -> None:
    plain, referred = await _paid_order(client, state), await _paid_order(client, state)
    async with state.db.writing() as session:
        await session.execute(
            update(OrderLine).where(OrderLine.order_id == referred).values(attribution={"visitor": "v"})
        )
    async with state.db.read_sessions() as session:
        assert await may_credit_any(session, order_ids=[plain, referred, 999_999]) == {referred}
    assert await on_orders_paid(state, [{"order_id": plain}, {"order_id": referred}]) == [None, None]
