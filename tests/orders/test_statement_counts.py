"""The SQL statements each step of the buying path costs, counted through the real app.

A change that adds a query to cart add, checkout, pay or the paid webhook shows here. If it
is worth it, update the figure (and docs/performance.md); if not, it is a regression."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx
from sqlalchemy import event, func, select

from passerelle.infra import outbox
from passerelle.infra.outbox import OutboxRunner
from passerelle.orders.models import Order, OrderStatus
from passerelle.payments.tasks import deliver_sandbox_webhook
from passerelle.state import AppState
from passerelle.tasks import HANDLERS
from tests.commerce import ADDRESS, GOOD_CARD, make_buyers, read_mails, sku_of
from tests.factories import Actor, make_merchant, make_product, make_user

T = TypeVar("T")

# Statements per step as sqlite3 runs them, BEGIN and SAVEPOINTs included (COMMIT is not
# counted; an INSERT of n rows counts n). The buying requests run under group commit (the
# default on SQLite, db/group_commit.py): each in its own SAVEPOINT ... RELEASE.
# The buyer's bearer token is looked up by the first add only (accounts/token_users.py).
CART_ADD_FIRST = 9  # the account's first add also creates its cart
CART_ADD_AGAIN = 7  # the cart's `updated_at` is younger than a minute: not written again
# Two SKUs: a conditional stock UPDATE and an order line each. Pricing reads the catalog's
# version, then what was not kept for it (orders/pricing_cache.py): SKU b only, the earlier
# sale having priced SKU a and read the merchant's commission and shipping fees.
CHECKOUT = 18
PAY = 5  # the payment moved to processing by one UPDATE ... RETURNING
# Outbox poll + lease, the webhook transaction (one stock UPDATE per SKU), then done. The
# lease and the done mark are members of the server's group commit (Database.
# write_with_requests): a SAVEPOINT and its RELEASE each, in a group of their own here.
PAID_WEBHOOK = 27


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []

    async def count(self, step: Awaitable[T]) -> tuple[T, list[str]]:
        self.statements.clear()
        result = await step
        return result, list(self.statements)


@contextmanager
def statement_log(state: AppState) -> Iterator[StatementLog]:
    """Every statement SQLite runs, counted by sqlite3 itself: prepared statements
    (db/prepared.py) run below SQLAlchemy's events."""
    log = StatementLog()
    traced: list[sqlite3.Connection] = []

    def record(statement: str) -> None:
        # Not counted: COMMIT, ROLLBACK, and the busy timeout set around a BEGIN tried
        # without waiting (db/sqlite_driver.py; connection settings, no table touched).
        if not statement.startswith(("COMMIT", "ROLLBACK", "PRAGMA busy_timeout")):
            log.statements.append(" ".join(statement.split())[:120])

    def trace(dbapi_connection: Any, *_: Any) -> None:
        raw: sqlite3.Connection = dbapi_connection._connection._conn
        raw.set_trace_callback(record)
        traced.append(raw)

    engines = {state.db.engine.sync_engine, state.db.read_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "checkout", trace)
    try:
        yield log
    finally:
        for engine in engines:
            event.remove(engine, "checkout", trace)
        for raw in traced:
            raw.set_trace_callback(None)


async def _buy(client: httpx.AsyncClient, runner: OutboxRunner, buyer: Actor, sku_id: int) -> None:
    await client.post("/api/v1/cart/items", json={"sku_id": sku_id, "quantity": 1}, headers=buyer.headers)
    placed = await client.post(
        "/api/v1/checkout", json={"shipping_address": ADDRESS, "payment_provider": "sandbox"}, headers=buyer.headers
    )
    payment_id = placed.json()["payment"]["id"]
    await client.post(f"/api/v1/payments/sandbox/{payment_id}/pay", json={"card_number": GOOD_CARD})
    while await runner.run_once():
        pass


async def test_given_a_buyer_when_adding_checking_out_and_paying_then_each_step_costs_its_known_statements(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku_a = (await sku_of(client, await make_product(state, shop, stock=5)))["id"]
    sku_b = (await sku_of(client, await make_product(state, shop, stock=5)))["id"]
    earlier, buyer = await make_buyers(state, 2)
    # Only the PSP's webhook: the consumers of orders.paid (mail, creators) are not counted.
    runner = OutboxRunner(state, {"payments.sandbox.deliver": deliver_sandbox_webhook})
    await _buy(client, runner, earlier, sku_a)  # the first sale opens the ledger's accounts: not counted

    with statement_log(state) as log:
        first, first_sql = await log.count(
            client.post("/api/v1/cart/items", json={"sku_id": sku_a, "quantity": 1}, headers=buyer.headers)
        )
        again, again_sql = await log.count(
            client.post("/api/v1/cart/items", json={"sku_id": sku_b, "quantity": 2}, headers=buyer.headers)
        )
        placed, checkout_sql = await log.count(
            client.post(
                "/api/v1/checkout",
                json={"shipping_address": ADDRESS, "payment_provider": "sandbox"},
                headers={**buyer.headers, "Idempotency-Key": "count-1"},
            )
        )
        payment_id = placed.json()["payment"]["id"]
        paid, pay_sql = await log.count(
            client.post(f"/api/v1/payments/sandbox/{payment_id}/pay", json={"card_number": GOOD_CARD})
        )
        handled, webhook_sql = await log.count(runner.run_once())

    assert (first.status_code, again.status_code, placed.status_code, paid.status_code) == (201, 201, 201, 202)
    assert [item["quantity"] for item in again.json()["items"]] == [1, 2]
    assert handled == 1
    async with state.db.read_sessions() as session:
        assert (await session.execute(select(func.count()).where(Order.status == OrderStatus.paid))).scalar_one() == 2

    assert len(first_sql) == CART_ADD_FIRST, "\n".join(first_sql)
    assert len(again_sql) == CART_ADD_AGAIN, "\n".join(again_sql)
    assert len(checkout_sql) == CHECKOUT, "\n".join(checkout_sql)
    assert len(pay_sql) == PAY, "\n".join(pay_sql)
    assert len(webhook_sql) == PAID_WEBHOOK, "\n".join(webhook_sql)


# The consumers of orders.paid for an order nobody referred: the fan-out (poll, lease, the
# two copies, one INSERT row each), then the copies (poll, lease, the mail read, the creator-credit read, done),
# then the poll that finds nothing left. Each of the three write transactions (lease, lease,
# done) is a group commit member: a SAVEPOINT and its RELEASE.
PAID_CONSUMERS = 20


async def test_given_a_paid_order_then_its_mail_and_creator_consumers_cost_their_known_statements(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    sku = (await sku_of(client, await make_product(state, shop, stock=5)))["id"]
    (buyer,) = await make_buyers(state, 1)
    # Paid with only the PSP's consumer: that runner drops the orders.paid message (no handler
    # for it there), so it is queued again here for the consumers under count.
    await _buy(client, OutboxRunner(state, {"payments.sandbox.deliver": deliver_sandbox_webhook}), buyer, sku)
    async with state.db.writing() as session:
        order_id = (await session.execute(select(Order.id).where(Order.buyer_id == buyer.user.id))).scalar_one()
        outbox.emit(session, topic="orders.paid", payload={"order_id": order_id})
    runner = OutboxRunner(state, {"orders.paid": HANDLERS["orders.paid"]})
    with statement_log(state) as log:
        handled, consumers_sql = await log.count(_drain(runner))
    assert handled == 3  # the message, then its two copies
    assert len(read_mails(state)) == 2  # the buyer and the shop's staff member
    assert len(consumers_sql) == PAID_CONSUMERS, "\n".join(consumers_sql)


async def _drain(runner: OutboxRunner) -> int:
    handled = 0
    while count := await runner.run_once():
        handled += count
    return handled
