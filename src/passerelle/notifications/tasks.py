"""Outbox consumers that turn order events into e-mails. Idempotent: each e-mail has a
key, and the file mailer writes a key once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from passerelle.accounts.models import User
from passerelle.infra.outbox import each_alone
from passerelle.merchants.models import Merchant, MerchantMember
from passerelle.money import Money
from passerelle.notifications.mail import build_message
from passerelle.notifications.messages import reason_text, render
from passerelle.orders.models import Order, Refund


def _language(language: str) -> str:
    return language if language in ("fr", "en") else "en"


@dataclass(frozen=True)
class Recipient:
    id: int
    email: str
    language: str
    name: str


@dataclass(frozen=True)
class OrderMail:
    """What the order e-mails say about an order: read in one statement, no ORM objects."""

    order_id: int
    total: Money  # the merchant's
    buyer_total: Money  # in the buyer's currency
    buyer: Recipient
    merchant_id: int
    merchant_name: str
    staff: tuple[Recipient, ...]


_STAFF = aliased(User)
# Built once (every paid order runs it). One row per staff member (one without any).
_ORDER_MAIL = (
    select(
        Order.id,
        Order.total_amount,
        Order.currency,
        Order.buyer_total_amount,
        Order.buyer_currency,
        User.id,
        User.email,
        User.language,
        User.display_name,
        Merchant.id,
        Merchant.name,
        _STAFF.id,
        _STAFF.email,
        _STAFF.language,
        _STAFF.display_name,
    )
    .join(User, User.id == Order.buyer_id)
    .join(Merchant, Merchant.id == Order.merchant_id)
    .outerjoin(MerchantMember, MerchantMember.merchant_id == Order.merchant_id)
    .outerjoin(_STAFF, _STAFF.id == MerchantMember.user_id)
    .where(Order.id.in_(bindparam("order_ids", expanding=True)))
    .order_by(Order.id, _STAFF.id)
)


def _order_mail(rows: list[tuple[Any, ...]]) -> OrderMail | None:
    if not rows:
        return None
    first = rows[0]
    return OrderMail(
        order_id=first[0],
        total=Money(first[1], first[2]),
        buyer_total=Money(first[3], first[4]),
        buyer=Recipient(first[5], first[6], _language(first[7]), first[8]),
        merchant_id=first[9],
        merchant_name=first[10],
        staff=tuple(Recipient(r[11], r[12], _language(r[13]), r[14]) for r in rows if r[11] is not None),
    )


async def _order_contexts(state: Any, order_ids: list[int]) -> dict[int, OrderMail]:
    """Each order's mail context, read in one statement for all of them."""
    async with state.db.read_sessions() as session:
        rows = [tuple(row) for row in await session.execute(_ORDER_MAIL, {"order_ids": order_ids})]
    by_order: dict[int, list[tuple[Any, ...]]] = {}
    for row in rows:
        by_order.setdefault(row[0], []).append(row)
    return {order_id: mail for order_id, group in by_order.items() if (mail := _order_mail(group)) is not None}


async def _order_context(state: Any, order_id: int) -> OrderMail | None:
    return (await _order_contexts(state, [order_id])).get(order_id)


async def _send(state: Any, *, to: str, kind: str, language: str, key: str, **values: str) -> None:
    subject, body = render(kind, language, **values)
    await state.mailer.send(build_message(to=to, subject=subject, body=body, key=key), key=key)


async def on_paid(state: Any, payload: dict[str, Any]) -> None:
    order = await _order_context(state, int(payload["order_id"]))
    if order is not None:
        await _paid_mails(state, order)


async def on_paid_many(state: Any, payloads: list[dict[str, Any]]) -> list[BaseException | None]:
    """`on_paid` for a group of orders (outbox.Grouped): one read for all of them; an order
    whose mails fail is answered with its error (retried alone), the others are done."""
    order_ids = [int(payload["order_id"]) for payload in payloads]
    orders = await _order_contexts(state, order_ids)

    async def mail(order_id: int) -> None:
        if order_id in orders:
            await _paid_mails(state, orders[order_id])

    return await each_alone(order_ids, mail)


async def _paid_mails(state: Any, order: OrderMail) -> None:
    buyer = order.buyer
    await _send(
        state,
        to=buyer.email,
        kind="paid_buyer",
        language=buyer.language,
        key=f"order-{order.order_id}-paid-buyer",
        order=str(order.order_id),
        name=buyer.name,
        merchant=order.merchant_name,
        total=order.buyer_total.format(buyer.language),
        url=f"/orders/{order.order_id}",
    )
    for member in order.staff:
        await _send(
            state,
            to=member.email,
            kind="paid_merchant",
            language=member.language,
            key=f"order-{order.order_id}-paid-staff-{member.id}",
            order=str(order.order_id),
            total=order.total.format(member.language),
            url=f"/console/m/{order.merchant_id}/orders/{order.order_id}",
        )


async def on_status_changed(state: Any, payload: dict[str, Any]) -> None:
    if payload.get("status") != "cancelled":
        return
    order = await _order_context(state, int(payload["order_id"]))
    if order is None:
        return
    buyer = order.buyer
    await _send(
        state,
        to=buyer.email,
        kind="cancelled_buyer",
        language=buyer.language,
        key=f"order-{order.order_id}-cancelled",
        order=str(order.order_id),
        name=buyer.name,
        merchant=order.merchant_name,
        reason=reason_text(str(payload.get("reason", "")), buyer.language),
    )


async def on_refunded(state: Any, payload: dict[str, Any]) -> None:
    order = await _order_context(state, int(payload["order_id"]))
    if order is None:
        return
    async with state.db.read_sessions() as session:
        refund = await session.get(Refund, int(payload["refund_id"]))
    if refund is None:
        return
    buyer = order.buyer
    await _send(
        state,
        to=buyer.email,
        kind="refunded_buyer",
        language=buyer.language,
        key=f"refund-{refund.id}",
        order=str(order.order_id),
        name=buyer.name,
        merchant=order.merchant_name,
        amount=Money(refund.buyer_amount, refund.buyer_currency).format(buyer.language),
    )


async def on_unfulfillable(state: Any, payload: dict[str, Any]) -> None:
    order = await _order_context(state, int(payload["order_id"]))
    if order is None:
        return
    await _send(
        state,
        to=order.buyer.email,
        kind="unfulfillable_buyer",
        language=order.buyer.language,
        key=f"order-{order.order_id}-unfulfillable",
        order=str(order.order_id),
        name=order.buyer.name,
    )
