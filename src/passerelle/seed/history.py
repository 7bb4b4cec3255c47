"""A few past orders, so the buyer's history and the merchant consoles are not empty.
They go through the real checkout, payment-webhook, lifecycle and shipping services."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from passerelle.accounts.models import Role, User
from passerelle.errors import DomainError
from passerelle.money import FxTable
from passerelle.orders.models import Order, OrderStatus
from passerelle.orders.service import lifecycle, placement
from passerelle.payments import service as payments
from passerelle.payments.providers.base import WebhookEvent
from passerelle.seed import shipping
from passerelle.seed.picks import buyable_skus, owner_of
from passerelle.state import AppState

# How far each past order went: (merchant steps, buyer confirms).
JOURNEYS = [
    (OrderStatus.completed,),
    (OrderStatus.shipped,),
    (OrderStatus.accepted,),
    (OrderStatus.paid,),
    (OrderStatus.delivered,),
    (OrderStatus.completed,),
]


async def seed_order_history(state: AppState) -> int:
    async with state.db.read_sessions() as session:
        if (await session.execute(select(func.count()).select_from(Order))).scalar_one():
            return 0
        buyers = list(
            (await session.execute(select(User).where(User.role == Role.buyer).order_by(User.id).limit(2))).scalars()
        )
        rows = (await session.execute(buyable_skus(min_stock=3))).all()
    picks: list[int] = []
    seen: set[int] = set()
    for sku_id, merchant_id in rows:
        if merchant_id not in seen:
            seen.add(merchant_id)
            picks.append(sku_id)
    placed = 0
    fx = await state.fx()
    for index, (journey, sku_id) in enumerate(zip(JOURNEYS, picks, strict=False)):
        buyer = buyers[index % len(buyers)] if buyers else None
        if buyer is None:
            break
        try:
            placed += await _one_order(state, buyer, sku_id, journey[0], fx, index)
        except DomainError:
            continue
    return placed


async def _one_order(state: AppState, buyer: User, sku_id: int, until: OrderStatus, fx: FxTable, index: int) -> int:
    now = state.clock.now() - timedelta(days=10 - index)
    address = placement.Address(buyer.display_name, f"{10 + index} rue de la République", "Lyon", "69002", "FR")
    async with state.db.sessions() as session:
        buyer = await session.merge(buyer)
        quote = await placement.price(
            session,
            requests=[placement.LineRequest(sku_id, 1 + index % 2)],
            country="FR",
            currency=buyer.currency,
            fx=fx,
            language=buyer.language,
        )
        done = await placement.place(
            session, buyer=buyer, quote=quote, address=address, now=now, hold_for=timedelta(minutes=15)
        )
        provider = state.payment_providers["sandbox"]
        payment = await payments.open_payment(session, purchase=done.purchase, provider=provider)
        event = WebhookEvent(
            f"evt_seed_{payment.public_id}",
            "payment.succeeded",
            payment.public_id,
            payment.amount,
            payment.currency,
            f"ch_seed_{index}",
            {"seed": True},
        )
        await payments.apply_webhook(session, provider=provider, event=event, now=now + timedelta(minutes=2))
        for order in done.orders:
            owner = await owner_of(session, order.merchant_id)
            if _rank(until) >= _rank(OrderStatus.accepted):
                await lifecycle.request_transition(
                    session, actor=owner, order_id=order.id, to_status=OrderStatus.accepted, now=now + timedelta(days=1)
                )
            if _rank(until) >= _rank(OrderStatus.shipped):
                # Shipped with a parcel and its tracking, as the console would: the order's
                # tracking page then agrees with its history (delivered by the carrier's event).
                await shipping.ship(
                    session,
                    state,
                    owner=owner,
                    order_id=order.id,
                    at=now + timedelta(days=2),
                    delivered_at=now + timedelta(days=4) if _rank(until) >= _rank(OrderStatus.delivered) else None,
                )
            if until == OrderStatus.completed:
                await lifecycle.request_transition(
                    session,
                    actor=buyer,
                    order_id=order.id,
                    to_status=OrderStatus.completed,
                    now=now + timedelta(days=5),
                )
        await session.commit()
    return 1


_ORDER = [OrderStatus.paid, OrderStatus.accepted, OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed]


def _rank(status: OrderStatus) -> int:
    return _ORDER.index(status)
