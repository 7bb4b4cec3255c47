"""The operator's pages of the influencer program: payout batches (per-currency totals, SEPA and
CSV downloads, a batch run by hand) and the fraud review (flags and held commissions, each to
release or to confirm as fraud). Operators only; forms carry the CSRF token; the review's
buttons swap their row in place with HTMX and fall back to a redirect without it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from passerelle.connect.models import Creator, Link, Payout, PayoutRun
from passerelle.connect.service import commissions, fraud, payouts, review
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import Invalid
from passerelle.money import Money
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/operator/payouts")
async def payouts_page(page: PageContext, session: Session, state: State) -> Response:
    page.require_operator()
    lang = page.locale.language
    rows: list[dict[str, Any]] = []
    for batch, count, total in await payouts.batches(session):
        rows.append(
            {
                "batch": batch,
                "count": count,
                "total_text": Money(total, batch.currency).format(lang),
                "sepa": batch.currency == "EUR",
            }
        )
    totals = await session.execute(
        select(Payout.currency, func.count(), func.sum(Payout.amount))
        .group_by(Payout.currency)
        .order_by(Payout.currency)
    )
    next_run = (
        await session.execute(select(PayoutRun).where(PayoutRun.ran_at.is_(None)).order_by(PayoutRun.period).limit(1))
    ).scalar_one_or_none()
    threshold = state.settings.connect_payout_threshold
    return page.render(
        "connect/operator_payouts.html",
        batches=rows,
        totals=[(cur, int(n), Money(int(t), cur).format(lang)) for cur, n, t in totals.all()],
        next_run=next_run,
        time_zone=state.settings.operator_time_zone,
        threshold_text=Money(threshold, state.settings.base_currency).format(lang),
        done=page.request.query_params.get("done", ""),
    )


@router.post("/operator/payouts")
async def run_batch(page: PageContext, session: Session, state: State) -> Response:
    """A batch now, by hand (the monthly one runs by itself): who is owed the threshold is paid."""
    page.require_operator()
    form = await page.form()
    currency = form_text(form, "currency", max_length=3).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise Invalid("invalid_currency", "A currency is a three-letter code", field="currency")
    batch = await payouts.create_batch(
        session, currency=currency, threshold=state.settings.connect_payout_threshold, now=state.clock.now()
    )
    return _see_other(f"/operator/payouts?done={batch.id}")


@router.get("/operator/payouts/{batch_ref}/sepa.xml")
async def batch_sepa(batch_ref: str, page: PageContext, session: Session, state: State) -> Response:
    page.require_operator()
    batch_id = path_id(batch_ref, "payout batch")
    xml = await payouts.batch_sepa_file(session, batch_id=batch_id, settings=state.settings, now=state.clock.now())
    disposition = f"attachment; filename=payouts-{batch_id}.xml"
    return Response(xml, media_type="application/xml", headers={"content-disposition": disposition})


@router.get("/operator/payouts/{batch_ref}/payouts.csv")
async def batch_csv(batch_ref: str, page: PageContext, session: Session) -> Response:
    page.require_operator()
    batch_id = path_id(batch_ref, "payout batch")
    body = payouts.csv_export(await payouts.payouts_of(session, batch_id=batch_id))
    disposition = f"attachment; filename=payouts-{batch_id}.csv"
    return Response(body, media_type="text/csv", headers={"content-disposition": disposition})


@router.get("/operator/connect/review")
async def review_page(page: PageContext, session: Session) -> Response:
    page.require_operator()
    flags = await fraud.open_flags(session, limit=200)
    handles = dict(
        (
            await session.execute(
                select(Creator.id, Creator.handle).where(Creator.id.in_({f.creator_id for f in flags if f.creator_id}))
            )
        ).all()
    )
    # A click flood names its link by id: the operator knows links by their short code.
    link_ids = [int(f.subject.split(":")[1]) for f in flags if f.kind == "click_flood" and f.subject[5:].isdigit()]
    link_codes = (
        dict((await session.execute(select(Link.id, Link.code).where(Link.id.in_(link_ids)))).all()) if link_ids else {}
    )
    lang = page.locale.language
    held = [
        (h, Money(h.commission.amount - h.commission.reversed_amount, h.commission.currency).format(lang))
        for h in await review.held_commissions(session)
    ]
    return page.render("connect/operator_review.html", flags=flags, handles=handles, held=held, link_codes=link_codes)


async def _answer(page: Page, *, row_id: str, done: str) -> Response:
    if page.is_htmx:
        return page.render("connect/_review_done.html", row_id=row_id, done=done)
    return _see_other(f"/operator/connect/review?done={done}")


@router.post("/operator/connect/flags/{flag_ref}/{action}")
async def review_flag(flag_ref: str, action: str, page: PageContext, session: Session, state: State) -> Response:
    page.require_operator()
    if action not in ("clear", "confirm"):
        raise Invalid("invalid_decision", "Release the hold or confirm the fraud", field="action")
    flag_id = path_id(flag_ref, "flag")
    await review.resolve_flag(session, flag_id=flag_id, confirm=action == "confirm", now=state.clock.now())
    return await _answer(page, row_id=f"flag-{flag_id}", done="released" if action == "clear" else "confirmed")


@router.post("/operator/connect/commissions/{commission_ref}/{action}")
async def review_commission(
    commission_ref: str, action: str, page: PageContext, session: Session, state: State
) -> Response:
    page.require_operator()
    commission_id = path_id(commission_ref, "commission")
    if action == "release":
        if not await commissions.release(session, commission_id=commission_id, now=state.clock.now()):
            raise Invalid("not_held", "Only a held commission can be released", field="status")
        done = "released"
    elif action == "void":
        await commissions.void_held(session, commission_id=commission_id)
        done = "confirmed"
    else:
        raise Invalid("invalid_decision", "Release the hold or confirm the fraud", field="action")
    return await _answer(page, row_id=f"commission-{commission_id}", done=done)
