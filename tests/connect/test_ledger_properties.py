"""Hypothesis: random sequences of pay / refund / approve / payout (each possibly replayed) keep
every ledger account balanced and never pay a commission twice."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.models import Click, Commission, Creator, Link, Payout
from passerelle.connect.service import commissions, payouts
from passerelle.connect.service.ledger import owed_account, pending_account
from passerelle.ledger import service as ledger
from passerelle.orders.models import Order, OrderLine, OrderStatus, Purchase
from passerelle.orders.service import lifecycle
from passerelle.orders.service.payment_outcomes import book_sale
from passerelle.state import AppState
from tests.commerce import make_buyers
from tests.connect.helpers import Shop, make_creator, make_link, make_shop

_visitors = itertools.count(1)
START = datetime(2026, 1, 1, tzinfo=UTC)

OPS = st.lists(
    st.tuples(
        st.sampled_from(["pay", "refund_one", "refund_all", "deliver", "approve", "payout"]),
        st.integers(min_value=0, max_value=7),  # which order
        st.booleans(),  # replay the operation at once
    ),
    min_size=1,
    max_size=14,
)
LINES = st.lists(
    st.tuples(st.integers(1, 3), st.integers(7, 99_999)), min_size=1, max_size=3
)  # >= 1 unit of commission


async def _paid_order(
    state: AppState,
    shop: Shop,
    buyer_id: int,
    link_id: int,
    creator_id: int,
    lines: list[tuple[int, int]],
    now: datetime,
) -> int:
    """An order written straight to the tables, as checkout + payment leave it (no HTTP, for speed)."""
    visitor = f"hypothesis-visitor-{next(_visitors):06d}"
    subtotal = sum(q * unit for q, unit in lines)
    async with state.db.sessions() as session:
        purchase = Purchase(
            buyer_id=buyer_id, currency="EUR", total_amount=subtotal, shipping_address={}, created_at=now
        )
        session.add(purchase)
        await session.flush()
        platform = subtotal // 10
        order = Order(
            purchase_id=purchase.id, merchant_id=shop.merchant.id, buyer_id=buyer_id, status=OrderStatus.paid,
            currency="EUR", subtotal_amount=subtotal, shipping_amount=0, vat_amount=0, total_amount=subtotal,
            commission_amount=platform, refunded_amount=0, buyer_currency="EUR", buyer_total_amount=subtotal,
            fx_rate="1", ship_to_country="FR", created_at=now, updated_at=now,
        )  # fmt: skip
        session.add(order)
        await session.flush()
        for quantity, unit in lines:
            amount = quantity * unit
            session.add(
                OrderLine(
                    order_id=order.id, sku_id=shop.sku_id, product_id=shop.product_id, title="t", sku_code="c",
                    quantity=quantity, unit_amount=unit, line_amount=amount, vat_rate_bp=0, vat_amount=0,
                    commission_rate_bp=1000, commission_amount=amount // 10, merchant_net_amount=amount - amount // 10,
                    returned_quantity=0, attribution={"visitor": visitor},
                )
            )  # fmt: skip
        session.add(Click(link_id=link_id, creator_id=creator_id, visitor=visitor, at=now - timedelta(days=1)))
        await session.flush()
        await book_sale(session, order=order)
        await session.commit()
        return order.id


async def _invariants(state: AppState, creator_ids: list[int]) -> None:
    async with state.db.read_sessions() as session:
        assert all(total == 0 for total in (await ledger.total_of_all_entries(session)).values())
        for creator_id in creator_ids:
            rows = list(
                (await session.execute(select(Commission).where(Commission.creator_id == creator_id))).scalars()
            )
            pending = -await ledger.balance(session, account=pending_account(creator_id), currency="EUR")
            owed = -await ledger.balance(session, account=owed_account(creator_id), currency="EUR")
            paid = (
                await session.execute(
                    select(func.coalesce(func.sum(Payout.amount), 0)).where(Payout.creator_id == creator_id)
                )
            ).scalar_one()
            assert pending == sum(c.amount - c.reversed_amount for c in rows if c.status in ("pending", "held"))
            earned = sum(c.amount - c.reversed_amount for c in rows if c.status in ("approved", "paid"))
            assert owed + paid == earned  # what was paid plus what is owed is exactly what was earned
            assert all(0 <= c.reversed_amount <= c.amount for c in rows)
        per_batch = (
            await session.execute(
                select(Payout.batch_id, Payout.creator_id, func.count()).group_by(Payout.batch_id, Payout.creator_id)
            )
        ).all()
        assert all(n == 1 for _, _, n in per_batch)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS, shapes=st.lists(LINES, min_size=8, max_size=8))
async def test_given_random_lifecycles_then_accounts_balance_and_nothing_is_paid_twice(
    client: httpx.AsyncClient, state: AppState, ops: list[tuple[str, int, bool]], shapes: list[list[tuple[int, int]]]
) -> None:
    world = state.__dict__.setdefault("_hypothesis_world", {})
    if not world:
        shop = await make_shop(client, state, rate_bp=1500)
        creator, creator_id = await make_creator(client, state)
        code = await make_link(client, creator, shop)
        async with state.db.sessions() as session:
            link_id = (await session.execute(select(Link.id).where(Link.code == code))).scalar_one()
            row = await session.get(Creator, creator_id)
            assert row is not None
            row.iban, row.account_holder = "FR7630006000011234567890189", "Anna Dupont"
            await session.commit()
        (buyer,) = await make_buyers(state, 1)
        world.update(shop=shop, creator_id=creator_id, link_id=link_id, buyer_id=buyer.user.id)
    now = START
    orders: dict[int, int] = {}
    for op, which, replay in ops:
        for _ in range(2 if replay else 1):
            now += timedelta(hours=1)
            async with state.db.writing() as session:
                if op == "pay" and which not in orders:
                    orders[which] = await _paid_order(
                        state,
                        world["shop"],
                        world["buyer_id"],
                        world["link_id"],
                        world["creator_id"],
                        shapes[which],
                        now,
                    )
                    await commissions.accrue(session, order_id=orders[which], now=now, return_window_days=14)
                elif op == "pay" and which in orders:
                    await commissions.accrue(session, order_id=orders[which], now=now, return_window_days=14)
                elif op in ("refund_one", "refund_all") and which in orders:
                    await _refund(session, orders[which], whole=op == "refund_all")
                    await commissions.reverse_for_order(session, order_id=orders[which])
                elif op == "deliver" and which in orders:
                    await _deliver(session, orders[which], now)
                elif op == "approve" and which in orders:
                    await commissions.approve_due(session, order_id=orders[which], now=now + timedelta(days=15))
                elif op == "payout":
                    await payouts.create_batch(session, currency="EUR", threshold=1, now=now)
            await _invariants(state, [world["creator_id"]])
    if any(op == "pay" for op, _, _ in ops):
        async with state.db.read_sessions() as session:
            made = (
                await session.execute(select(func.count()).where(Commission.order_id.in_(orders.values())))
            ).scalar_one()
        assert made >= len(orders)  # every paid order was attributed (the invariants were not vacuous)


async def _deliver(session: AsyncSession, order_id: int, now: datetime) -> None:
    """The parcel arrives (a refunded order is not delivered); the approval is scheduled."""
    await lifecycle.set_status(
        session,
        order_id=order_id,
        from_statuses=frozenset({OrderStatus.paid}),
        to_status=OrderStatus.delivered,
        actor_id=None,
        actor_kind="system",
        now=now,
    )
    await commissions.schedule_approval(session, order_id=order_id, return_window_days=14)


async def _refund(session: AsyncSession, order_id: int, *, whole: bool) -> None:
    order = await session.get(Order, order_id)
    assert order is not None
    if whole:
        order.status, order.refunded_amount = OrderStatus.refunded, order.total_amount
    else:
        line = (await session.execute(select(OrderLine).where(OrderLine.order_id == order_id).limit(1))).scalar_one()
        if line.returned_quantity < line.quantity:
            line.returned_quantity += 1
            order.refunded_amount = min(order.total_amount, order.refunded_amount + line.unit_amount)
    await session.flush()
