"""JSON routes for payments: status, the sandbox card submission, provider webhooks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, StringConstraints

from passerelle.catalog.schemas import MoneyOut
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError
from passerelle.http import idempotent_json
from passerelle.orders.buying_route import buying_post, request_context
from passerelle.payments import service
from passerelle.payments.providers.sandbox import SandboxProvider

router = APIRouter(tags=["payments"], route_class=UnitOfWorkRoute)


class CardIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    card_number: Annotated[str, StringConstraints(min_length=12, max_length=30)]


class PaymentOut(BaseModel):
    id: str
    status: str
    amount: MoneyOut
    provider: str
    failure_reason: str


@router.get("/payments/{payment_id}", response_model=PaymentOut)
async def get_payment(payment_id: Annotated[str, StringConstraints(max_length=60)], session: Session) -> PaymentOut:
    """The payment id is an unguessable capability (like a PSP's checkout-session URL)."""
    payment = await service.by_public_id(session, public_id=payment_id)
    return PaymentOut(
        id=payment.public_id,
        status=payment.status.value,
        amount=MoneyOut(amount=payment.amount, currency=payment.currency),
        provider=payment.provider,
        failure_reason=payment.failure_reason,
    )


@buying_post(router, "/payments/sandbox/{payment_id}/pay", status_code=202)
async def sandbox_pay(
    payment_id: Annotated[str, StringConstraints(max_length=60)],
    body: CardIn,
    request: Request,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Response:
    """What the sandbox's hosted payment page submits. The outcome follows as a signed webhook.
    Cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined."""
    state, session, user = await request_context(request)
    provider = state.payment_providers["sandbox"]
    assert isinstance(provider, SandboxProvider)

    async def work() -> tuple[int, Any]:
        return 202, await service.sandbox_charge(
            session, provider=provider, public_id=payment_id, card_number=body.card_number
        )

    return await idempotent_json(
        session,
        key=idempotency_key if user is not None else None,
        user_id=user.id if user is not None else 0,
        scope=f"sandbox-pay:{payment_id}",
        body=body.model_dump(),
        work=work,
    )


@router.post("/payments/webhooks/{provider_name}")
async def webhook(
    provider_name: Annotated[str, StringConstraints(max_length=30)], request: Request, session: Session, state: State
) -> dict[str, str]:
    """Provider webhooks: signature and age checked, each event applied once, amounts matched."""
    provider = state.payment_providers.get(provider_name)
    if provider is None:
        raise DomainError("unknown_provider", "Unknown payment provider", status=404)
    body = await request.body()
    if len(body) > 64_000:
        raise DomainError("payload_too_large", "Webhook body too large", status=413)
    now = state.clock.now()
    event = await service.authenticate_webhook(
        state.db.sessions, provider=provider, provider_name=provider_name, headers=request.headers, body=body, now=now
    )
    return await service.apply_or_reject(
        session, state.db.sessions, provider=provider, provider_name=provider_name, event=event, now=now
    )
