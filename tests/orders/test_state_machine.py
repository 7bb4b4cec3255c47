"""A Hypothesis state machine over reserve / pay / fail / expire / cancel / refund.

After every step: each SKU's stock + reserved + sold equals its initial stock, none is
negative, the held and sold units match a simple model of the orders, and every ledger
currency sums to zero."""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import select

from passerelle.accounts.models import Role, User
from passerelle.catalog import service as catalog
from passerelle.catalog.models import Sku
from passerelle.catalog.schemas import ProductIn
from passerelle.config import Settings
from passerelle.infra.clock import FrozenClock
from passerelle.ledger import service as ledger
from passerelle.merchants import service as merchants
from passerelle.merchants.models import MerchantKind
from passerelle.orders.models import Order, OrderLine, OrderStatus
from passerelle.orders.service import expiry, lifecycle, placement, refunds
from passerelle.payments import service as payments
from passerelle.payments.models import Payment
from passerelle.payments.providers.base import WebhookEvent
from passerelle.state import AppState

INITIAL = [4, 3]
_events = itertools.count()
TEMPLATE: Path | None = None


class CheckoutMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="passerelle-sm-"))
        assert TEMPLATE is not None
        shutil.copyfile(TEMPLATE, self.tmp / "db.sqlite")
        self.state = AppState.from_settings(
            Settings(data_dir=self.tmp, database_url=f"sqlite+aiosqlite:///{self.tmp / 'db.sqlite'}", secret_key="sm")
        )
        self.clock = FrozenClock(datetime.now(UTC))
        self.state.clock = self.clock
        self.orders: dict[int, dict[str, Any]] = {}  # order_id -> {"payment": public_id, "sku": i, "qty": n}

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.state.db.dispose())
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize()
    def catalog(self) -> None:
        async def setup() -> None:
            async with self.state.db.sessions() as session:
                owner = User(
                    email="o@acheteurs.fr",
                    password_hash="x",
                    display_name="o",
                    role=Role.seller,
                    country="FR",
                    language="fr",
                    currency="EUR",
                )
                operator = User(
                    email="op@acheteurs.fr",
                    password_hash="x",
                    display_name="op",
                    role=Role.operator,
                    country="FR",
                    language="fr",
                    currency="EUR",
                )
                self.buyer = User(
                    email="b@acheteurs.fr",
                    password_hash="x",
                    display_name="b",
                    role=Role.buyer,
                    country="FR",
                    language="fr",
                    currency="EUR",
                )
                session.add_all([owner, operator, self.buyer])
                await session.flush()
                shop = await merchants.apply(
                    session,
                    applicant=owner,
                    name="Shop",
                    kind=MerchantKind.brand,
                    country="FR",
                    ships_to=["FR"],
                    currency="EUR",
                )
                await merchants.review(session, operator=operator, merchant_id=shop.id, approve=True)
                product = await catalog.create_product_for(
                    session,
                    merchant=shop,
                    data=ProductIn(
                        source_language="fr",
                        texts={"fr": {"title": "Bol"}},
                        skus=[{"code": f"S{i}", "price_amount": 1999 + i, "stock": s} for i, s in enumerate(INITIAL)],
                        status="published",
                    ),
                )
                self.owner = owner
                self.sku_ids = list(
                    (
                        await session.execute(select(Sku.id).where(Sku.product_id == product.id).order_by(Sku.position))
                    ).scalars()
                )
                await session.commit()

        self.run(setup())

    @rule(sku=st.integers(0, 1), qty=st.integers(1, 3))
    def place(self, sku: int, qty: int) -> None:
        async def go() -> None:
            async with self.state.db.sessions() as session:
                fx = await self.state.fx()
                quote = await placement.price(
                    session,
                    requests=[placement.LineRequest(self.sku_ids[sku], qty)],
                    country="FR",
                    currency="EUR",
                    fx=fx,
                    language="fr",
                )
                try:
                    placed = await placement.place(
                        session,
                        buyer=self.buyer,
                        quote=quote,
                        address=placement.Address("B", "1 rue", "Lyon", "69001", "FR"),
                        now=self.clock.now(),
                        hold_for=timedelta(minutes=15),
                    )
                except Exception as error:  # out of stock is a legitimate answer
                    assert getattr(error, "code", "") == "out_of_stock"
                    await session.rollback()
                    return
                payment = await payments.open_payment(
                    session, purchase=placed.purchase, provider=self.state.payment_providers["sandbox"]
                )
                await session.commit()
                self.orders[placed.orders[0].id] = {"payment": payment.public_id, "sku": sku, "qty": qty}

        self.run(go())

    def _webhook(self, order_id: int, kind: str) -> None:
        async def go() -> None:
            async with self.state.db.sessions() as session:
                payment = (
                    await session.execute(select(Payment).where(Payment.public_id == self.orders[order_id]["payment"]))
                ).scalar_one()
                event = WebhookEvent(
                    f"evt_{next(_events)}",
                    kind,
                    payment.public_id,
                    payment.amount,
                    payment.currency,
                    "ch_x",
                    {"data": {}},
                )
                await payments.apply_webhook(
                    session, provider=self.state.payment_providers["sandbox"], event=event, now=self.clock.now()
                )
                await session.commit()

        self.run(go())

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def pay(self, data: st.DataObject) -> None:
        self._webhook(data.draw(st.sampled_from(sorted(self.orders))), "payment.succeeded")

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def fail(self, data: st.DataObject) -> None:
        self._webhook(data.draw(st.sampled_from(sorted(self.orders))), "payment.failed")

    @rule(minutes=st.integers(1, 20))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(minutes=minutes)

        async def go() -> None:
            async with self.state.db.sessions() as session:
                await expiry.expire_due(session, now=self.clock.now())
                await session.commit()

        self.run(go())

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)))

        async def go() -> None:
            async with self.state.db.sessions() as session:
                try:
                    await lifecycle.request_transition(
                        session,
                        actor=self.buyer,
                        order_id=order_id,
                        to_status=OrderStatus.cancelled,
                        now=self.clock.now(),
                    )
                    await session.commit()
                except Exception as error:
                    assert getattr(error, "code", "") == "invalid_transition"
                    await session.rollback()

        self.run(go())

    @precondition(lambda self: bool(self.orders))
    @rule(data=st.data(), restock=st.booleans(), part=st.integers(1, 100))
    def refund(self, data: st.DataObject, restock: bool, part: int) -> None:
        order_id = data.draw(st.sampled_from(sorted(self.orders)))

        async def go() -> None:
            async with self.state.db.sessions() as session:
                order = await session.get(Order, order_id)
                assert order is not None
                if order.status not in refunds.REFUNDABLE:
                    return
                payment = await payments.succeeded_payment_of(session, purchase_id=order.purchase_id)
                remaining = order.total_amount - order.refunded_amount
                amount = max(1, remaining * part // 100)
                line = (await session.execute(select(OrderLine).where(OrderLine.order_id == order_id))).scalar_one()
                returned = [refunds.ReturnedLine(line.id, 1, restock)] if line.returned_quantity < line.quantity else []
                await refunds.refund_order(
                    session,
                    order=order,
                    actor_id=self.owner.id,
                    amount=amount,
                    returned=returned,
                    reason="test",
                    provider=self.state.payment_providers["sandbox"],
                    provider_ref=payment.provider_ref,
                    now=self.clock.now(),
                )
                await session.commit()

        self.run(go())

    @invariant()
    def stock_is_conserved_and_ledger_balances(self) -> None:
        if not hasattr(self, "sku_ids"):
            return

        async def check() -> None:
            async with self.state.db.read_sessions() as session:
                for index, sku_id in enumerate(self.sku_ids):
                    sku = await session.get(Sku, sku_id, populate_existing=True)
                    assert sku is not None
                    assert min(sku.stock, sku.reserved, sku.sold) >= 0
                    assert sku.stock + sku.reserved + sku.sold == INITIAL[index]
                held = {i: 0 for i in range(len(INITIAL))}
                for order_id, info in self.orders.items():
                    order = await session.get(Order, order_id, populate_existing=True)
                    assert order is not None
                    if order.status == OrderStatus.pending_payment:
                        held[info["sku"]] += info["qty"]
                    assert 0 <= order.refunded_amount <= order.total_amount
                for index, sku_id in enumerate(self.sku_ids):
                    sku = await session.get(Sku, sku_id)
                    assert sku is not None and sku.reserved == held[index]
                totals = await ledger.total_of_all_entries(session)
                assert all(total == 0 for total in totals.values()), totals

        self.run(check())


def test_checkout_state_machine(sqlite_template: Path) -> None:
    global TEMPLATE
    TEMPLATE = sqlite_template
    machine_test = CheckoutMachine.TestCase
    machine_test.settings = settings(
        max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    machine_test().runTest()
