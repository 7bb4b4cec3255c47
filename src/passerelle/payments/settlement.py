"""Paid webhooks of a group settled together: every read first, then only the writes.

The sandbox's in-process deliveries come in groups (`payments.tasks.deliver_sandbox_webhooks`).
Applied one by one (`service.apply_webhook`), a paid webhook reads its payment, its orders
and their lines, whether the sale was booked, the ledger's accounts and the festival of the
moment inside the write transaction: SQLite's one writer stays held through ~17 statements
and the Python between them, while the server's buying requests wait for it
(docs/performance.md, Checkout). Here the group's reads run first, on the read side, a few
statements for all of it; the write transaction then holds only the writes, each guarded
as on the one-by-one path: the event id and the ledger reference are unique, each order's
status and each SKU's held units move by conditional UPDATE.

A guard that fails (the hold expired in between, another delivery of the same payment)
raises `Changed`: the whole transaction is rolled back and the caller applies the group
the one-by-one way, as it does after any failure. Only the plain case is settled here:
a successful payment whose orders are all pending payment, from a cart (a deal's, a
presale's or an auction's order has its own follow-up), in ledger accounts that exist.
Anything else is left to `apply_webhook`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.infra import outbox
from passerelle.ledger import service as ledger
from passerelle.ledger.models import LedgerAccount
from passerelle.orders import stock
from passerelle.orders.models import Order, OrderLine, OrderStatus
from passerelle.orders.service import lifecycle, payment_outcomes
from passerelle.payments import service
from passerelle.payments.models import Payment, PaymentStatus
from passerelle.payments.providers.base import PaymentProvider, WebhookEvent
from passerelle.state import AppState

PAID = "payment.succeeded"


class Changed(Exception):
    """Something read before the write transaction changed meanwhile: settle one by one."""


_PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]
_ORDERS: Table = Order.__table__  # type: ignore[assignment]
_LINES: Table = OrderLine.__table__  # type: ignore[assignment]
_ACCOUNTS: Table = LedgerAccount.__table__  # type: ignore[assignment]
# The group's reads, one statement each (IN lists), built once.
_PAYMENTS_OF = select(
    _PAYMENTS.c.id,
    _PAYMENTS.c.public_id,
    _PAYMENTS.c.purchase_id,
    _PAYMENTS.c.provider,
    _PAYMENTS.c.amount,
    _PAYMENTS.c.currency,
    _PAYMENTS.c.status,
).where(_PAYMENTS.c.public_id.in_(bindparam("public_ids", expanding=True)))
_ORDERS_OF = (
    select(_ORDERS.c.purchase_id, *payment_outcomes.SETTLED_COLUMNS)
    .where(_ORDERS.c.purchase_id.in_(bindparam("purchase_ids", expanding=True)))
    .order_by(_ORDERS.c.id)
)
_LINES_OF = select(_LINES.c.order_id, _LINES.c.sku_id, _LINES.c.quantity, _LINES.c.attribution).where(
    _LINES.c.order_id.in_(bindparam("order_ids", expanding=True))
)
_ACCOUNTS_OF = select(_ACCOUNTS.c.code, _ACCOUNTS.c.currency, _ACCOUNTS.c.id).where(
    _ACCOUNTS.c.code.in_(bindparam("codes", expanding=True))
)


@dataclass
class _Plan:
    """One paid event's settlement, as read before the write transaction."""

    event: WebhookEvent
    payment_id: int
    orders: list[Any] = field(default_factory=list)  # rows of SETTLED_COLUMNS, in id order
    held: dict[int, dict[int, int]] = field(default_factory=dict)  # order id -> SKU -> units
    sales: dict[int, ledger.NewTransaction] = field(default_factory=dict)  # order id -> its sale
    in_festival: set[int] = field(default_factory=set)  # orders placed during a festival


@dataclass
class Settled:
    """What `settle_paid` did: each settled event's outcome ("applied" or "duplicate") by
    its index among the events given; the others are the caller's to apply."""

    outcomes: dict[int, str]
    emitted: bool  # messages were queued: wake the outbox runner


async def settle_paid(
    state: AppState,
    *,
    provider: PaymentProvider,
    events: dict[int, WebhookEvent],
    now: datetime,
    read_first: bool = True,
) -> Settled:
    """Settle the plain paid events of `events` (authenticated, by index) in one write
    transaction. Raises `Changed` (or the error that stopped it) with nothing written.

    `read_first`: what the settlement needs is read before the write transaction, without
    the write lock (`passerelle worker`: its write transactions are what the server's
    requests wait for). Otherwise it is read inside it, as a member of the server's group
    commit (`Database.write_with_requests`), where a read runs inline and a read session's
    would cost a thread hop each."""
    # Imported here: the festival builds on orders and payments, not the other way round.
    from passerelle.festival import screen

    plans: dict[int, _Plan] = {}
    accounts: dict[tuple[str, str], int] = {}
    if read_first:
        plans, accounts = await _read(state, provider=provider, events=events)
        if not plans:
            return Settled({}, emitted=False)
    outcomes: dict[int, str] = {}

    async def write(session: AsyncSession) -> bool:
        nonlocal plans, accounts
        if not read_first:
            plans, accounts = await _read_in(session, provider=provider, events=events)
        status_events: list[dict[str, object]] = []
        sales: list[ledger.NewTransaction] = []
        messages: list[outbox.Message] = []
        for index, plan in plans.items():
            event = plan.event
            if not await service.record_event(
                session, provider=provider.name, event=event, payment_id=plan.payment_id, now=now
            ):
                outcomes[index] = "duplicate"  # this event id was applied before
                continue
            for order in plan.orders:
                moved = await lifecycle.move_status(
                    session,
                    order_id=order.id,
                    previous=OrderStatus.pending_payment,
                    to_status=OrderStatus.paid,
                    now=now,
                )
                if not moved:
                    raise Changed(f"order {order.id} is no longer pending payment")
                status_events.append(
                    lifecycle.status_event(
                        order.id,
                        OrderStatus.pending_payment,
                        OrderStatus.paid,
                        actor_id=None,
                        actor_kind="psp",
                        now=now,
                    )
                )
                await stock.commit_reserved(session, plan.held[order.id])
                sales.append(plan.sales[order.id])
                messages.append(outbox.Message(topic="orders.paid", payload={"order_id": order.id}))
                if order.id in plan.in_festival:
                    await screen.count_paid_order(session, order=order, now=now)
            await service.mark_succeeded(session, payment_id=plan.payment_id, provider_ref=event.provider_ref)
            outcomes[index] = "applied"
        await lifecycle.record_status_events(session, status_events)
        await ledger.post_many(session, sales, accounts=accounts)
        await outbox.emit_many(session, messages)
        return bool(session.info.pop("outbox_emitted", False))

    emitted = await state.db.write_with_requests(write)
    return Settled(outcomes, emitted=emitted)


async def _read(
    state: AppState, *, provider: PaymentProvider, events: dict[int, WebhookEvent]
) -> tuple[dict[int, _Plan], dict[tuple[str, str], int]]:
    """The plans of the plain paid events among `events`, and the ledger accounts they post
    to, read without the write lock."""
    if not any(event.kind == PAID for event in events.values()):
        return {}, {}
    async with state.db.read_sessions() as session:
        return await _read_in(session, provider=provider, events=events)


async def _read_in(
    session: AsyncSession, *, provider: PaymentProvider, events: dict[int, WebhookEvent]
) -> tuple[dict[int, _Plan], dict[tuple[str, str], int]]:
    """`_read` on `session`."""
    from passerelle.festival import screen

    paid = {index: event for index, event in events.items() if event.kind == PAID}
    if not paid:
        return {}, {}
    payments = {
        row.public_id: row
        for row in await session.execute(
            _PAYMENTS_OF, {"public_ids": sorted({e.payment_public_id for e in paid.values()})}
        )
    }
    plans: dict[int, _Plan] = {}
    purchases: dict[int, int] = {}  # purchase id -> index of the event that settles it
    for index, event in paid.items():
        payment = payments.get(event.payment_public_id)
        if payment is None or not _plain_payment(payment, event, provider=provider) or payment.purchase_id in purchases:
            continue  # refused, a duplicate or a second event of a payment: apply_webhook decides
        purchases[payment.purchase_id] = index
        plans[index] = _Plan(event=event, payment_id=payment.id)
    if not plans:
        return {}, {}
    for row in await session.execute(_ORDERS_OF, {"purchase_ids": sorted(purchases)}):
        plans[purchases[row.purchase_id]].orders.append(row)
    by_order = {order.id: plan for plan in plans.values() for order in plan.orders}
    lines: dict[int, list[tuple[int, int, Any]]] = {order_id: [] for order_id in by_order}
    if by_order:
        for row in await session.execute(_LINES_OF, {"order_ids": sorted(by_order)}):
            lines[row.order_id].append((row.sku_id, row.quantity, row.attribution))
    festivals = await screen.festivals_at(session, [o.created_at for p in plans.values() for o in p.orders])
    for plan in plans.values():
        plan.sales = {order.id: payment_outcomes.sale(order) for order in plan.orders}
    moved = [p for plan in plans.values() for sale in plan.sales.values() for p in sale.postings if p.amount]
    codes = sorted({p.account for p in moved})
    accounts: dict[tuple[str, str], int] = {}
    if codes:
        accounts = {(row.code, row.currency): row.id for row in await session.execute(_ACCOUNTS_OF, {"codes": codes})}
    for index, plan in list(plans.items()):
        if not _plain_orders(plan.orders) or not _accounts_exist(plan.sales.values(), accounts):
            del plans[index]
            continue
        plan.held = {order.id: lifecycle.moving_quantities(lines[order.id]) for order in plan.orders}
        plan.in_festival = {order.id for order in plan.orders if festivals.get(order.created_at) is not None}
    return plans, accounts


def _plain_payment(payment: Any, event: WebhookEvent, *, provider: PaymentProvider) -> bool:
    return bool(
        payment.provider == provider.name
        and payment.amount == event.amount
        and payment.currency == event.currency
        and payment.status != PaymentStatus.succeeded
    )


def _plain_orders(orders: list[Any]) -> bool:
    return bool(orders) and all(
        order.status == OrderStatus.pending_payment and order.source not in payment_outcomes.PAID_TOPICS
        for order in orders
    )


def _accounts_exist(sales: Iterable[ledger.NewTransaction], accounts: dict[tuple[str, str], int]) -> bool:
    """Every account the sales move exists (a merchant's first sale creates its own, which
    `ledger.post` does)."""
    return all(
        (posting.account, sale.currency) in accounts for sale in sales for posting in sale.postings if posting.amount
    )
