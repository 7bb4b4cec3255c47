"""Paid webhooks settled as a group (payments/settlement.py): the same rows as applying each
alone, no read inside the write transaction, and the general way when something changed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from passerelle.catalog.models import Sku
from passerelle.festival.models import Festival
from passerelle.festival.screen_models import Dimension, ScreenCount
from passerelle.infra.outbox import OutboxMessage
from passerelle.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction
from passerelle.orders.models import Order, OrderEvent
from passerelle.orders.service import expiry
from passerelle.payments import service, settlement
from passerelle.payments.models import Payment, PaymentEvent
from passerelle.payments.providers.base import WebhookEvent
from passerelle.payments.tasks import _sandbox, deliver_sandbox_webhook, deliver_sandbox_webhooks
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, sku_of
from tests.factories import make_merchant, make_product, make_user
from tests.orders.test_statement_counts import statement_log
from tests.payments.test_webhooks import _event


async def _shops(client: httpx.AsyncClient, state: AppState) -> list[int]:
    """Two shops, three SKUs (two in the first shop), and one sale in each shop already paid
    the general way, so that their ledger accounts exist."""
    skus = []
    for prices in ((4900, 1500), (2500,)):
        shop = await make_merchant(state, await make_user(state))
        skus += [(await sku_of(client, await make_product(state, shop, price=p, stock=50)))["id"] for p in prices]
    (first,) = await make_buyers(state, 1)
    for sku in (skus[0], skus[2]):
        await add_to_cart(client, first, sku)
    placed = (await checkout(client, first)).json()
    await deliver_sandbox_webhook(state, {"event": _event(placed["payment"]["id"], placed["total"]["amount"])})
    return skus


async def _placed(client: httpx.AsyncClient, state: AppState, baskets: list[list[tuple[int, int]]]) -> list[Any]:
    """One buyer per basket, checked out (unpaid): their checkout answers."""
    answers = []
    for buyer, basket in zip(await make_buyers(state, len(baskets)), baskets, strict=True):
        for sku, quantity in basket:
            await add_to_cart(client, buyer, sku, quantity)
        answers.append((await checkout(client, buyer)).json())
    return answers


async def _authenticated(state: AppState, answers: list[Any], prefix: str) -> dict[int, WebhookEvent]:
    provider = _sandbox(state)
    now = state.clock.now()
    events = {}
    for index, answer in enumerate(answers):
        payload = _event(answer["payment"]["id"], answer["total"]["amount"], event_id=f"{prefix}{index}")
        body, headers = provider.signed_delivery(payload, now=int(now.timestamp()))
        events[index] = await service.authenticate_webhook(
            state.db.sessions, provider=provider, provider_name=provider.name, headers=headers, body=body, now=now
        )
    return events


async def _festival_now(state: AppState) -> None:
    now = datetime.now(UTC)
    async with state.db.writing() as session:
        session.add(
            Festival(
                name="11.11",
                slug="f",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=1),
                time_zone="UTC",
            )
        )


async def _stock(state: AppState) -> dict[int, tuple[int, int, int]]:
    async with state.db.read_sessions() as session:
        return {s.id: (s.stock, s.reserved, s.sold) for s in (await session.execute(select(Sku))).scalars()}


async def _screen(state: AppState) -> dict[tuple[Dimension, str], tuple[int, int]]:
    """The big screen's counts but the per-second and peak ones (they follow the clock)."""
    async with state.db.read_sessions() as session:
        rows = (await session.execute(select(ScreenCount))).scalars()
        return {
            (r.dimension, r.key): (r.orders, r.gmv_amount)
            for r in rows
            if r.dimension not in (Dimension.second, Dimension.peak)
        }


def _delta(before: dict[Any, tuple[int, ...]], after: dict[Any, tuple[int, ...]]) -> dict[Any, tuple[int, ...]]:
    return {
        key: tuple(a - b for a, b in zip(value, before.get(key, (0,) * len(value)), strict=True))
        for key, value in after.items()
        if value != before.get(key)
    }


async def _what_happened(state: AppState, answers: list[Any]) -> list[Any]:
    """Per purchase, everything its payment wrote, without ids or times."""
    async with state.db.read_sessions() as session:
        seen = []
        for answer in answers:
            order_ids = [o["id"] for o in answer["orders"]]
            payment = (
                await session.execute(select(Payment).where(Payment.public_id == answer["payment"]["id"]))
            ).scalar_one()
            orders = (await session.execute(select(Order).where(Order.id.in_(order_ids)).order_by(Order.id))).scalars()
            events = (
                await session.execute(
                    select(OrderEvent).where(OrderEvent.order_id.in_(order_ids)).order_by(OrderEvent.id)
                )
            ).scalars()
            entries = await session.execute(
                select(
                    LedgerTransaction.kind,
                    LedgerTransaction.memo,
                    LedgerAccount.code,
                    LedgerEntry.amount,
                    LedgerEntry.currency,
                )
                .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
                .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
                .where(LedgerTransaction.order_id.in_(order_ids))
            )
            messages = (await session.execute(select(OutboxMessage.topic, OutboxMessage.payload))).all()
            seen.append(
                {
                    "payment": (payment.status, payment.provider_ref),
                    "payment_events": sorted(
                        (e.kind, e.outcome)
                        for e in (
                            await session.execute(select(PaymentEvent).where(PaymentEvent.payment_id == payment.id))
                        ).scalars()
                    ),
                    "orders": [(o.merchant_id, o.status, o.total_amount) for o in orders],
                    "order_events": [
                        (order_ids.index(e.order_id), e.from_status, e.to_status, e.actor_kind, e.note) for e in events
                    ],
                    "ledger": sorted(
                        (
                            kind,
                            memo.replace(str(order_ids[0]), "#").replace(str(order_ids[-1]), "#"),
                            code,
                            amount,
                            currency,
                        )
                        for kind, memo, code, amount, currency in entries
                    ),
                    "messages": sorted(
                        t for t, p in messages if isinstance(p, dict) and p.get("order_id") in order_ids
                    ),
                }
            )
    return seen


@pytest.mark.both_backends
@pytest.mark.parametrize("read_first", [True, False], ids=["read first (worker)", "read inside (server)"])
async def test_given_paid_events_settled_as_a_group_then_they_write_what_applying_each_alone_writes(
    client: httpx.AsyncClient, state: AppState, read_first: bool
) -> None:
    a1, a2, b1 = await _shops(client, state)
    await _festival_now(state)  # so that each sale is counted on the big screen too
    baskets = [[(a1, 2), (b1, 1)], [(a2, 1)], [(b1, 3), (a1, 1), (a2, 2)]]
    grouped, alone = await _placed(client, state, baskets), await _placed(client, state, baskets)
    provider = _sandbox(state)

    async def settle_grouped() -> settlement.Settled:
        events = await _authenticated(state, grouped, "evt_g")
        return await settlement.settle_paid(
            state, provider=provider, events=events, now=state.clock.now(), read_first=read_first
        )

    stock, screen = await _stock(state), await _screen(state)
    settled = await settle_grouped()
    assert settled.outcomes == {0: "applied", 1: "applied", 2: "applied"} and settled.emitted
    grouped_stock, grouped_screen = _delta(stock, await _stock(state)), _delta(screen, await _screen(state))

    stock, screen = await _stock(state), await _screen(state)
    for event in (await _authenticated(state, alone, "evt_a")).values():
        async with state.db.writing() as session:
            assert (
                await service.apply_webhook(session, provider=provider, event=event, now=state.clock.now()) == "applied"
            )
    assert grouped_stock == _delta(stock, await _stock(state))
    assert grouped_screen == _delta(screen, await _screen(state)) and grouped_screen
    assert await _what_happened(state, grouped) == await _what_happened(state, alone)

    again = await settle_grouped()
    assert again.outcomes == {}  # paid already: left to apply_webhook, which answers "duplicate"
    async with state.db.read_sessions() as session:
        totals = (
            await session.execute(
                select(LedgerEntry.currency, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.currency)
            )
        ).all()
    assert all(total == 0 for _, total in totals)


async def test_given_a_group_settled_then_its_write_transaction_reads_nothing(
    client: httpx.AsyncClient, state: AppState
) -> None:
    a1, a2, b1 = await _shops(client, state)
    answers = await _placed(client, state, [[(a1, 1), (b1, 1)], [(a2, 2)], [(b1, 1)]])
    events = await _authenticated(state, answers, "evt_read_")
    with statement_log(state) as log:
        settled, statements = await log.count(
            settlement.settle_paid(state, provider=_sandbox(state), events=events, now=state.clock.now())
        )
    assert settled.outcomes == {0: "applied", 1: "applied", 2: "applied"}
    writing = statements[statements.index("BEGIN IMMEDIATE") :]
    assert writing and not [s for s in writing if s.startswith("SELECT")], "\n".join(writing)
    # BEGIN and the member's SAVEPOINT and RELEASE (group commit, the tests' default as the
    # server's); per payment its event and its UPDATE; per order its UPDATE, its ledger
    # transaction, its history row and its orders.paid message, one UPDATE per SKU and its
    # three entries (clearing, commission, merchant: no coupon, no promotion entry).
    payments, orders, order_skus, entries = 3, 4, 4, 3 * 4
    assert len(writing) == 3 + 2 * payments + 4 * orders + order_skus + entries, "\n".join(writing)


async def test_given_an_order_expired_after_the_group_was_read_then_the_group_is_applied_the_general_way(
    client: httpx.AsyncClient, state: AppState, monkeypatch: pytest.MonkeyPatch
) -> None:
    a1, _, b1 = await _shops(client, state)
    late, on_time = await _placed(client, state, [[(a1, 1)], [(b1, 1)]])
    read = settlement._read

    async def read_then_expire(*args: Any, **kwargs: Any) -> Any:
        plans = await read(*args, **kwargs)
        assert len(plans[0]) == 2  # both would have been settled
        async with state.db.writing() as session:  # the hold runs out meanwhile
            await session.execute(
                Order.__table__.update().where(Order.id == late["orders"][0]["id"]).values(expires_at=state.clock.now())
            )
            assert await expiry.expire_due(session, now=state.clock.now() + timedelta(seconds=1)) == [
                late["orders"][0]["id"]
            ]
        return plans

    monkeypatch.setattr(settlement, "_read", read_then_expire)
    state.settle_reads_first = True  # as in `passerelle worker`
    payloads = [
        {"event": _event(a["payment"]["id"], a["total"]["amount"], event_id=f"evt_late_{i}")}
        for i, a in enumerate((late, on_time))
    ]
    assert await deliver_sandbox_webhooks(state, payloads) == [None, None]
    happened = await _what_happened(state, [late, on_time])
    # The late payment found its stock still there: sold, as apply_webhook does it.
    assert [o[1] for h in happened for o in h["orders"]] == ["paid", "paid"]
    assert happened[0]["order_events"][-1][4].startswith("paid after the hold expired")
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).select_from(LedgerTransaction))).scalar_one() == 2 + 2
