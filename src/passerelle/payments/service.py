"""Payment rules: open a payment for a purchase, charge on the sandbox, apply webhooks."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from passerelle.accounts.models import User
from passerelle.db.base import utcnow
from passerelle.db.prepared import Prepared, bound, plain_copy
from passerelle.errors import Conflict, DomainError, NotFound
from passerelle.infra import outbox
from passerelle.money import Money
from passerelle.orders.models import OrderEvent, Purchase
from passerelle.orders.service import payment_outcomes
from passerelle.payments.models import Payment, PaymentEvent, PaymentStatus
from passerelle.payments.providers.base import PaymentProvider, WebhookEvent
from passerelle.payments.providers.sandbox import SandboxProvider

log = logging.getLogger("passerelle.payments")
_PAYMENTS: Table = Payment.__table__  # type: ignore[assignment]


async def open_payment(session: AsyncSession, *, purchase: Purchase, provider: PaymentProvider) -> Payment:
    values: dict[str, Any] = {
        "public_id": f"pay_{secrets.token_urlsafe(18)}",
        "purchase_id": purchase.id,
        "provider": provider.name,
        "amount": purchase.total_amount,
        "currency": purchase.currency,
        "status": PaymentStatus.pending,
        "provider_ref": "",
        "failure_reason": "",
    }
    # Core INSERT ... RETURNING (an ORM flush cost several times the statement); the object
    # handed back is plain, not in the session, and only read.
    payment_id = await _INSERT_PAYMENT.scalar(session, values)
    return plain_copy(Payment, {"id": payment_id, **values})


_INSERT_PAYMENT = Prepared(
    insert(_PAYMENTS)
    .values(
        bound("public_id", "purchase_id", "provider", "amount", "currency", "status", "provider_ref", "failure_reason")
    )
    .returning(_PAYMENTS.c.id)
)


# Built once (pay and webhook run it for every order).
_BY_PUBLIC_ID = select(Payment).where(Payment.public_id == bindparam("public_id"))


async def by_public_id(session: AsyncSession, *, public_id: str) -> Payment:
    payment = (await session.execute(_BY_PUBLIC_ID, {"public_id": public_id})).scalar_one_or_none()
    if payment is None:
        raise NotFound("payment")
    return payment


async def for_buyer(session: AsyncSession, *, public_id: str, buyer: User) -> Payment:
    payment = await by_public_id(session, public_id=public_id)
    purchase = await session.get(Purchase, payment.purchase_id)
    if purchase is None or purchase.buyer_id != buyer.id:
        raise NotFound("payment")
    return payment


# The sandbox charge's statements (Core, prepared: db/prepared.py): read the payment, then
# move it from pending to processing with one conditional UPDATE, so two submits at once
# charge once.
_TO_CHARGE = Prepared(select(_PAYMENTS.c.status).where(_PAYMENTS.c.public_id == bindparam("b_public_id")))
# Pending -> processing and what the charge needs, in one statement; when it matches nothing,
# `_TO_CHARGE` tells why (no such payment, or not pending any more).
_START_CHARGE = Prepared(
    update(_PAYMENTS)
    .where(_PAYMENTS.c.public_id == bindparam("b_public_id"), _PAYMENTS.c.status == PaymentStatus.pending)
    .values(status=PaymentStatus.processing, updated_at=bindparam("now"))
    .returning(_PAYMENTS.c.amount, _PAYMENTS.c.currency)
)


async def sandbox_charge(
    session: AsyncSession, *, provider: SandboxProvider, public_id: str, card_number: str
) -> dict[str, str]:
    """What the sandbox's hosted page (and its API twin) submits. The PSP answers at once
    that it is processing; the outcome reaches passerelle later as a signed webhook. No ORM
    objects: the payment's status moved by a conditional UPDATE (pending -> processing, so a
    second submit finds it processing) that returns its amount, the webhook queued. Should
    the charge fail, the caller's transaction undoes the UPDATE."""
    started = await _START_CHARGE.first(session, {"b_public_id": public_id, "now": utcnow()})
    if started is None:
        row = await _TO_CHARGE.first(session, {"b_public_id": public_id})
        if row is None:
            raise NotFound("payment")
        raise Conflict("payment_not_pending", f"This payment is already {row.status.value}")
    amount, currency = started
    event = provider.charge(payment_public_id=public_id, amount=Money(amount, currency), card_number=card_number)
    await outbox.emit_many(session, [outbox.Message(topic="payments.sandbox.deliver", payload={"event": event})])
    return {"status": "processing", "payment_id": public_id}


async def record_rejection(
    sessions: async_sessionmaker[AsyncSession],
    *,
    provider: str,
    event: WebhookEvent | None,
    reason: str,
    payload: dict[str, object],
) -> None:
    """Keep a trace of a refused webhook, in its own transaction (the request rolls back)."""
    log.warning("webhook from %s rejected: %s (event %s)", provider, reason, event.event_id if event else "?")
    async with sessions() as session:
        session.add(
            PaymentEvent(
                provider=provider,
                event_id=f"rejected:{secrets.token_hex(8)}:{event.event_id if event else ''}"[:100],
                payment_id=None,
                kind=event.kind if event else "unknown",
                outcome=f"rejected:{reason}"[:40],
                payload=dict(payload),
            )
        )
        await session.commit()


async def authenticate_webhook(
    sessions: async_sessionmaker[AsyncSession],
    *,
    provider: PaymentProvider,
    provider_name: str,
    headers: Mapping[str, str],
    body: bytes,
    now: datetime,
) -> WebhookEvent:
    """Signature and age checked by the provider; a refusal is logged, then raised. Shared by
    the public webhook route and the sandbox's in-process delivery, so both check the same."""
    try:
        return provider.parse_webhook(headers=dict(headers), body=body, now=int(now.timestamp()))
    except DomainError as refused:
        await record_rejection(
            sessions,
            provider=provider_name,
            event=None,
            reason=refused.code,
            payload={"body": body[:2000].decode("utf-8", "replace")},
        )
        raise


async def apply_or_reject(
    session: AsyncSession,
    sessions: async_sessionmaker[AsyncSession],
    *,
    provider: PaymentProvider,
    provider_name: str,
    event: WebhookEvent,
    now: datetime,
) -> dict[str, str]:
    """Apply an authenticated event in `session` (committed by the caller); on a refusal
    (unknown payment, tampered amount...) roll `session` back, log it in its own transaction
    and raise."""
    try:
        outcome = await apply_webhook(session, provider=provider, event=event, now=now)
    except DomainError as refused:
        await session.rollback()
        await record_rejection(sessions, provider=provider_name, event=event, reason=refused.code, payload=event.raw)
        raise
    return {"status": outcome, "event_id": event.event_id}


# What a webhook reads of its payment and writes to it (Core, prepared: no ORM object).
_OF_EVENT = Prepared(
    select(
        _PAYMENTS.c.id,
        _PAYMENTS.c.purchase_id,
        _PAYMENTS.c.provider,
        _PAYMENTS.c.amount,
        _PAYMENTS.c.currency,
        _PAYMENTS.c.status,
    ).where(_PAYMENTS.c.public_id == bindparam("b_public_id"))
)
_MARK_SUCCEEDED = Prepared(
    update(_PAYMENTS)
    .where(_PAYMENTS.c.id == bindparam("b_id"))
    .values(status=PaymentStatus.succeeded, provider_ref=bindparam("provider_ref"))
)
_MARK_FAILED = Prepared(
    update(_PAYMENTS)
    .where(_PAYMENTS.c.id == bindparam("b_id"))
    .values(status=PaymentStatus.failed, failure_reason=bindparam("failure_reason"))
)


async def apply_webhook(session: AsyncSession, *, provider: PaymentProvider, event: WebhookEvent, now: datetime) -> str:
    """Apply an authenticated event exactly once. Returns "applied" or "duplicate";
    raises DomainError (nothing applied) when the event does not match its payment.
    The payment is read as a row and written with a Core UPDATE where the ORM flushed its
    object at the end (updated_at moves as on the ORM's flush)."""
    payment = await _OF_EVENT.first(session, {"b_public_id": event.payment_public_id})
    if payment is None or payment.provider != provider.name:
        raise DomainError("unknown_payment", "The event names an unknown payment", status=400)
    if event.amount != payment.amount or event.currency != payment.currency:
        raise DomainError(
            "amount_mismatch",
            f"Event amount {event.amount} {event.currency} differs from the payment's {payment.amount} {payment.currency}",
            status=400,
        )
    if not await record_event(session, provider=provider.name, event=event, payment_id=payment.id, now=now):
        return "duplicate"

    if event.kind == "payment.succeeded":
        if payment.status == PaymentStatus.succeeded:
            return "duplicate"
        unfulfillable = await payment_outcomes.on_payment_succeeded(session, purchase_id=payment.purchase_id, now=now)
        for order in unfulfillable:
            refund_ref = await provider.refund(
                provider_ref=event.provider_ref,
                amount=Money(order.buyer_amount, order.buyer_currency),
                reference=f"order:{order.order_id}",
            )
            session.add(
                OrderEvent(
                    order_id=order.order_id,
                    from_status="cancelled",
                    to_status="cancelled",
                    actor_id=None,
                    actor_kind="system",
                    note=f"paid after the hold expired and the stock was gone: refunded in full ({refund_ref})",
                    at=now,
                )
            )
            outbox.emit(session, topic="orders.unfulfillable", payload={"order_id": order.order_id})
        await mark_succeeded(session, payment_id=payment.id, provider_ref=event.provider_ref)
    elif event.kind == "payment.failed":
        if payment.status not in (PaymentStatus.pending, PaymentStatus.processing):
            return "duplicate"
        failure_reason = str(event.raw.get("data", {}).get("failure_code", ""))[:200]
        await payment_outcomes.on_payment_failed(
            session, purchase_id=payment.purchase_id, now=now, reason=failure_reason
        )
        await _MARK_FAILED.rowcount(session, {"b_id": payment.id, "failure_reason": failure_reason})
    else:
        raise DomainError("unknown_event", f"Unknown event type {event.kind}", status=400)
    await session.flush()
    return "applied"


_EVENTS: Table = PaymentEvent.__table__  # type: ignore[assignment]


def _record_event_statement(dialect: str) -> Prepared:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return Prepared(
        insert(_EVENTS)
        .values(bound("provider", "event_id", "payment_id", "kind", "outcome", "payload", "received_at"))
        .on_conflict_do_nothing(index_elements=[_EVENTS.c.provider, _EVENTS.c.event_id])
        .returning(_EVENTS.c.id)
    )


# Built once per dialect (every webhook runs it): building cost about as much as running.
_RECORD_EVENT = {dialect: _record_event_statement(dialect) for dialect in ("postgresql", "sqlite")}


async def mark_succeeded(session: AsyncSession, *, payment_id: int, provider_ref: str) -> None:
    await _MARK_SUCCEEDED.rowcount(session, {"b_id": payment_id, "provider_ref": provider_ref})


async def record_event(
    session: AsyncSession, *, provider: str, event: WebhookEvent, payment_id: int, now: datetime
) -> bool:
    """Record the event once: False when (provider, event_id) is already there. One
    INSERT ... ON CONFLICT DO NOTHING (was a savepoint around an INSERT: three statements)."""
    dialect = session.get_bind().dialect.name
    inserted = await _RECORD_EVENT[dialect].first(
        session,
        {
            "provider": provider,
            "event_id": event.event_id,
            "payment_id": payment_id,
            "kind": event.kind,
            "outcome": "applied",
            "payload": event.raw,
            "received_at": now,
        },
    )
    return inserted is not None


async def succeeded_payment_of(session: AsyncSession, *, purchase_id: int) -> Payment:
    payment = (
        await session.execute(
            select(Payment).where(Payment.purchase_id == purchase_id, Payment.status == PaymentStatus.succeeded)
        )
    ).scalar_one_or_none()
    if payment is None:
        raise Conflict("not_paid", "This order has no captured payment to refund")
    return payment
