"""Monthly payouts run by themselves (an outbox message due on the configured day in the operator's
time zone, scheduling the next one), once per period however often they are scheduled or
replayed; a creator above the threshold can ask to be paid now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from passerelle.connect import tasks
from passerelle.connect.models import Creator, Payout, PayoutBatch, PayoutRun
from passerelle.connect.service.payouts import MONTHLY_TOPIC, run_time
from passerelle.infra.clock import FrozenClock
from passerelle.infra.outbox import OutboxMessage
from passerelle.state import AppState
from tests.commerce import drain
from tests.connect.helpers import Shop, buy, click, deliver, make_creator, make_link, make_shop
from tests.factories import Actor

IBAN = "FR7630006000011234567890189"


def test_given_the_first_of_the_month_in_paris_then_the_run_is_at_local_midnight_as_utc() -> None:
    mid_november = datetime(2026, 11, 15, 12, tzinfo=UTC)
    assert run_time(now=mid_november, day=1, time_zone="Europe/Paris") == (
        "2026-12",
        datetime(2026, 11, 30, 23, tzinfo=UTC),
    )
    at_the_run = datetime(2026, 11, 30, 23, tzinfo=UTC)
    assert run_time(now=at_the_run, day=1, time_zone="Europe/Paris")[0] == "2027-01"
    just_before = datetime(2026, 12, 14, 22, 59, tzinfo=UTC)  # summer time does not apply in December
    assert run_time(now=just_before, day=15, time_zone="Europe/Paris") == (
        "2026-12",
        datetime(2026, 12, 14, 23, tzinfo=UTC),
    )
    summer = datetime(2026, 6, 20, tzinfo=UTC)
    assert run_time(now=summer, day=1, time_zone="Europe/Paris")[1] == datetime(2026, 6, 30, 22, tzinfo=UTC)


async def _owed_creator(
    client: httpx.AsyncClient, state: AppState, clock: FrozenClock, shop: Shop, *, bank: bool = True
) -> tuple[Actor, int]:
    creator, creator_id = await make_creator(client, state)
    client.cookies.clear()
    await click(client, await make_link(client, creator, shop))
    await state.connect.recorder.flush()
    _, order_id = await buy(client, state, shop)
    await deliver(client, state, shop, order_id)
    if bank:
        async with state.db.writing() as session:
            row = await session.get(Creator, creator_id)
            assert row is not None
            row.iban, row.account_holder = IBAN, "Anna Dupont"
    clock.advance(days=15)
    await drain(state)
    return creator, creator_id


async def _count(state: AppState, query: object) -> int:
    async with state.db.read_sessions() as session:
        return int((await session.execute(query)).scalar_one())  # type: ignore[call-overload]


@pytest.mark.both_backends
async def test_given_approved_commissions_when_the_payout_day_comes_then_one_batch_pays_each_creator_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=5))
    state.clock = clock
    state.settings.connect_payout_threshold = 1000
    shop = await make_shop(client, state, price=12345, rate_bp=1000)
    _, anna_id = await _owed_creator(client, state, clock, shop)

    for _ in range(3):  # every process schedules at start-up: one run, one message
        await state.connect.schedule_payouts(clock)
    assert await _count(state, select(func.count()).select_from(PayoutRun)) == 1
    assert await _count(state, select(func.count()).where(OutboxMessage.topic == MONTHLY_TOPIC)) == 1

    await drain(state)  # not the day yet
    assert await _count(state, select(func.count()).select_from(Payout)) == 0

    clock.advance(days=32)  # past the next payout day, whatever today is
    await drain(state)
    async with state.db.read_sessions() as session:
        (batch,) = (await session.execute(select(PayoutBatch))).scalars()
        (payout,) = (await session.execute(select(Payout))).scalars()
        runs = list((await session.execute(select(PayoutRun).order_by(PayoutRun.period))).scalars())
    assert (batch.kind, batch.currency) == ("monthly", "EUR")
    assert (payout.creator_id, payout.amount) == (anna_id, 1234)
    assert runs[0].ran_at is not None and runs[0].batch_ids == [batch.id]
    assert len(runs) == 2 and runs[1].ran_at is None  # the next month is scheduled

    # A replayed message (a crash after the run) pays nobody again.
    await tasks.monthly_payouts(state, {"period": runs[0].period})
    assert await _count(state, select(func.count()).select_from(Payout)) == 1
    assert await _count(state, select(func.count()).select_from(PayoutRun)) == 2


async def test_given_a_creator_above_the_threshold_when_they_ask_for_a_payout_then_they_are_paid_once(
    client: httpx.AsyncClient, state: AppState
) -> None:
    clock = FrozenClock(datetime.now(UTC) + timedelta(minutes=5))
    state.clock = clock
    shop = await make_shop(client, state, price=12345, rate_bp=1000)
    anna, anna_id = await _owed_creator(client, state, clock, shop)
    bob, _ = await _owed_creator(client, state, clock, shop, bank=False)

    below = await client.post("/api/v1/creators/me/payouts", json={"currency": "EUR"}, headers=anna.headers)
    assert below.status_code == 409 and below.json()["code"] == "below_threshold"

    state.settings.connect_payout_threshold = 1000
    no_bank = await client.post("/api/v1/creators/me/payouts", json={"currency": "EUR"}, headers=bob.headers)
    assert no_bank.status_code == 422 and no_bank.json()["code"] == "no_bank_details"

    paid = await client.post("/api/v1/creators/me/payouts", json={"currency": "EUR"}, headers=anna.headers)
    assert paid.status_code == 201, paid.text
    assert [(p["creator_id"], p["amount"]) for p in paid.json()["payouts"]] == [(anna_id, 1234)]

    again = await client.post("/api/v1/creators/me/payouts", json={"currency": "EUR"}, headers=anna.headers)
    assert again.status_code == 409 and again.json()["code"] == "below_threshold"
    async with state.db.read_sessions() as session:
        batch = (await session.execute(select(PayoutBatch))).scalar_one()
    assert (batch.kind, batch.creator_id) == ("on_demand", anna_id)
