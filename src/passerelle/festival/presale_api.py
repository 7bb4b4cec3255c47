"""JSON routes of presales: pay a deposit before the deal starts, the balance on the day."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from passerelle.deps import CurrentUser, RequestLocale, Session, State, UnitOfWorkRoute
from passerelle.festival import presale as presales
from passerelle.festival.api import presale_out
from passerelle.festival.models import Deal, PresaleDeposit
from passerelle.festival.schemas import BuyerPresaleList, BuyerPresaleOut, DepositIn, DepositOut
from passerelle.http import IdempotencyKey, PathId, idempotent_json
from passerelle.orders.checkout_request import idempotent_checkout, terms_for
from passerelle.orders.schemas import CheckoutIn

router = APIRouter(tags=["festival"], route_class=UnitOfWorkRoute)


def buyer_presale_out(presale: PresaleDeposit, deal: Deal) -> BuyerPresaleOut:
    terms = presale_out(deal)
    assert terms is not None
    return BuyerPresaleOut(
        id=presale.id,
        deal_id=deal.id,
        quantity=presale.quantity,
        status=presale.status.value,
        deposit_order_id=presale.deposit_order_id,
        balance_order_id=presale.balance_order_id,
        terms=terms,
    )


@router.post("/deals/{deal_id}/deposits", status_code=201, response_model=DepositOut)
async def pay_deposit(
    deal_id: PathId,
    body: DepositIn,
    user: CurrentUser,
    session: Session,
    state: State,
    locale: RequestLocale,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Hold presale units with a deposit (an order at the deposit price, no shipping).
    The rules: the balance is payable from the deal's start until `balance_due_at`;
    unpaid by then, the deposit is not refunded."""

    async def work() -> tuple[int, Any]:
        terms = terms_for(body, state=state, locale=locale)
        presale, done = await presales.take_deposit(
            session, buyer=user, deal_id=deal_id, quantity=body.quantity, terms=terms, now=state.clock.now()
        )
        deal = await session.get(Deal, deal_id)
        assert deal is not None
        out = DepositOut(presale=buyer_presale_out(presale, deal), checkout=done.as_checkout_out())
        return 201, out.model_dump(mode="json")

    return await idempotent_json(
        session,
        key=idempotency_key,
        user_id=user.id,
        scope=f"deposit:{deal_id}",
        body=body.model_dump(mode="json"),
        work=work,
    )


@router.post("/me/presales/{presale_id}/balance", status_code=201)
async def pay_balance(
    presale_id: PathId,
    body: CheckoutIn,
    user: CurrentUser,
    session: Session,
    state: State,
    locale: RequestLocale,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """Pay the rest of a presale (price - deposit credit, plus shipping) in its window."""

    return await idempotent_checkout(
        session,
        body=body,
        user=user,
        state=state,
        locale=locale,
        key=idempotency_key,
        scope=f"balance:{presale_id}",
        place=lambda terms: presales.pay_balance(
            session, buyer=user, presale_id=presale_id, terms=terms, now=state.clock.now()
        ),
    )


@router.get("/me/presales", response_model=BuyerPresaleList)
async def my_presales(user: CurrentUser, session: Session) -> BuyerPresaleList:
    rows = await presales.of_buyer(session, buyer_id=user.id)
    return BuyerPresaleList(items=[buyer_presale_out(presale, deal) for presale, deal in rows])
