"""Outbox consumers that turn order events into e-mails. Idempotent: each e-mail has a
key, and the file mailer writes a key once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from passerelle.accounts.models import User
from passerelle.merchants.models import Merchant, MerchantMember
from passerelle.money import Money
from passerelle.notifications.mail import build_message
from passerelle.notifications.messages import reason_text, render
from passerelle.orders.models import Order, Refund


def _language(user: User) -> str:
    return user.language if user.language in ("fr", "en") else "en"


async def _order_context(state: Any, order_id: int) -> tuple[Order, User, Merchant, list[User]] | None:
    async with state.db.read_sessions() as session:
        order = await session.get(Order, order_id)
        if order is None:
            return None
        buyer = await session.get(User, order.buyer_id)
        merchant = await session.get(Merchant, order.merchant_id)
        staff = list(
            (
                await session.execute(
                    select(User)
                    .join(MerchantMember, MerchantMember.user_id == User.id)
                    .where(MerchantMember.merchant_id == order.merchant_id)
                )
            ).scalars()
        )
    if buyer is None or merchant is None:
        return None
    return order, buyer, merchant, staff


async def _send(state: Any, *, to: str, kind: str, language: str, key: str, **values: str) -> None:
    subject, body = render(kind, language, **values)
    await state.mailer.send(build_message(to=to, subject=subject, body=body, key=key), key=key)


async def on_paid(state: Any, payload: dict[str, Any]) -> None:
    found = await _order_context(state, int(payload["order_id"]))
    if found is None:
        return
    order, buyer, merchant, staff = found
    lang = _language(buyer)
    total = Money(order.buyer_total_amount, order.buyer_currency).format(lang)
    await _send(
        state,
        to=buyer.email,
        kind="paid_buyer",
        language=lang,
        key=f"order-{order.id}-paid-buyer",
        order=str(order.id),
        name=buyer.display_name,
        merchant=merchant.name,
        total=total,
        url=f"/orders/{order.id}",
    )
    merchant_total = Money(order.total_amount, order.currency)
    for member in staff:
        member_lang = _language(member)
        await _send(
            state,
            to=member.email,
            kind="paid_merchant",
            language=member_lang,
            key=f"order-{order.id}-paid-staff-{member.id}",
            order=str(order.id),
            total=merchant_total.format(member_lang),
            url=f"/console/m/{merchant.id}/orders/{order.id}",
        )


async def on_status_changed(state: Any, payload: dict[str, Any]) -> None:
    if payload.get("status") != "cancelled":
        return
    found = await _order_context(state, int(payload["order_id"]))
    if found is None:
        return
    order, buyer, merchant, _ = found
    lang = _language(buyer)
    await _send(
        state,
        to=buyer.email,
        kind="cancelled_buyer",
        language=lang,
        key=f"order-{order.id}-cancelled",
        order=str(order.id),
        name=buyer.display_name,
        merchant=merchant.name,
        reason=reason_text(str(payload.get("reason", "")), lang),
    )


async def on_refunded(state: Any, payload: dict[str, Any]) -> None:
    found = await _order_context(state, int(payload["order_id"]))
    if found is None:
        return
    order, buyer, merchant, _ = found
    async with state.db.read_sessions() as session:
        refund = await session.get(Refund, int(payload["refund_id"]))
    if refund is None:
        return
    lang = _language(buyer)
    await _send(
        state,
        to=buyer.email,
        kind="refunded_buyer",
        language=lang,
        key=f"refund-{refund.id}",
        order=str(order.id),
        name=buyer.display_name,
        merchant=merchant.name,
        amount=Money(refund.buyer_amount, refund.buyer_currency).format(lang),
    )


async def on_unfulfillable(state: Any, payload: dict[str, Any]) -> None:
    found = await _order_context(state, int(payload["order_id"]))
    if found is None:
        return
    order, buyer, _, _ = found
    await _send(
        state,
        to=buyer.email,
        kind="unfulfillable_buyer",
        language=_language(buyer),
        key=f"order-{order.id}-unfulfillable",
        order=str(order.id),
        name=buyer.display_name,
    )
