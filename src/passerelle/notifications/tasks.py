"""Outbox consumers that turn order events into e-mails. Idempotent: each e-mail has a
key, and the file mailer writes a key once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import aliased

from passerelle.accounts.models import User
from passerelle.merchants.models import Merchant, MerchantMember
from passerelle.money import Money
from passerelle.notifications.mail import Outgoing, build_message
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


def _mail(*, to: str, kind: str, language: str, key: str, **values: str) -> Outgoing:
    subject, body = render(kind, language, **values)
    return build_message(to=to, subject=subject, body=body, key=key), key


async def _send(state: Any, *, to: str, kind: str, language: str, key: str, **values: str) -> None:
    message, key = _mail(to=to, kind=kind, language=language, key=key, **values)
    await state.mailer.send(message, key=key)


async def on_paid_many(state: Any, payloads: list[dict[str, Any]]) -> list[BaseException | None]:
    """The paid-order mails (the buyer's, each staff member's) for a group of orders
    (outbox.Grouped): one read and one trip to the mailer for all of them; an order whose
    mails fail is answered with its error (retried alone), the others are done."""
    order_ids = [int(payload["order_id"]) for payload in payloads]
    orders = await _order_contexts(state, order_ids)
    outgoing: list[Outgoing] = []
    owners: list[int] = []  # the index, in order_ids, of each outgoing mail's order
    built: list[BaseException | None] = []
    for index, order_id in enumerate(order_ids):
        try:
            mails = _paid_mails(orders[order_id]) if order_id in orders else []
        except Exception as error:  # noqa: BLE001 - handed back: that order alone is retried
            built.append(error)
            continue
        built.append(None)
        outgoing += mails
        owners += [index] * len(mails)
    try:
        sent = await state.mailer.send_many(outgoing) if outgoing else []
    except Exception as error:  # noqa: BLE001 - the mailer failed as a whole (no connection)
        sent = [error] * len(outgoing)
    for index, failed in zip(owners, sent, strict=True):
        if failed is not None and built[index] is None:
            built[index] = failed
    return built


def _paid_mails(order: OrderMail) -> list[Outgoing]:
    buyer = order.buyer
    mails = [
        _mail(
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
    ]
    for member in order.staff:
        mails.append(
            _mail(
                to=member.email,
                kind="paid_merchant",
                language=member.language,
                key=f"order-{order.order_id}-paid-staff-{member.id}",
                order=str(order.order_id),
                total=order.total.format(member.language),
                url=f"/console/m/{order.merchant_id}/orders/{order.order_id}",
            )
        )
    return mails


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
