"""HTML routes of auctions: /auctions/{id} (price, countdown that follows extensions, bid
form) and /auctions/{id}/pay for the winner. auction.js keeps the figures live."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.auctions import rules, service
from passerelle.auctions.models import Auction, AuctionBid, AuctionStatus
from passerelle.catalog import views
from passerelle.catalog.models import Sku
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, NotFound
from passerelle.infra import idempotency
from passerelle.live.announce import bid_landed
from passerelle.money import Money
from passerelle.orders.pages.pay_form import PaySummary, login_first, render_pay_form, submit_pay_form
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])
RESULTS = {"accepted", rules.TOO_LOW, rules.NOT_RUNNING, rules.OWN_AUCTION, "in_progress", "invalid"}


async def _auction(session: AsyncSession, ref: str) -> Auction:
    auction = await session.get(Auction, path_id(ref, "auction"))
    if auction is None:
        raise NotFound("auction")
    return auction


async def _card(page: Page, session: AsyncSession, auction: Auction) -> tuple[str, str | None, int]:
    sku = await session.get(Sku, auction.sku_id)
    if sku is None:
        raise NotFound("auction")
    found = await views.cards(
        session,
        product_ids=[sku.product_id],
        language=page.locale.language,
        currency=auction.currency,
        fx=page.locale.fx,
    )
    return (found[0].title, found[0].image_url, sku.product_id) if found else (sku.code, None, sku.product_id)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@router.get("/auctions/{ref}")
async def auction_page(ref: str, page: PageContext, session: Session, state: State) -> Response:
    auction = await _auction(session, ref)
    title, image, product_id = await _card(page, session, auction)
    user = page.user
    has_bid = False
    if user is not None:
        has_bid = (
            await session.execute(
                select(AuctionBid.id)
                .where(AuctionBid.auction_id == auction.id, AuctionBid.bidder_id == user.id)
                .limit(1)
            )
        ).first() is not None
    result = page.request.query_params.get("bid", "")
    now = state.clock.now()
    return page.render(
        "auctions/auction.html",
        auction=auction,
        title=title,
        image_url=image,
        product_id=product_id,
        price=Money(auction.price_amount or auction.starting_amount, auction.currency),
        minimum=Money(rules.minimum_bid(service.book_of(auction)), auction.currency),
        leading=user is not None and user.id == auction.leader_id,
        has_bid=has_bid,
        is_seller=user is not None and user.id == auction.seller_id,
        running=auction.status == AuctionStatus.open and auction.starts_at <= now < auction.ends_at,
        result=result if result in RESULTS else "",
        ends_at=_utc(auction.ends_at),
        server_now=_utc(now),
        idempotency_key=secrets.token_urlsafe(24),  # a fresh key per rendered form
    )


@router.post("/auctions/{ref}/bid")
async def bid_from_page(ref: str, page: PageContext, session: Session, state: State) -> Response:
    auction = await _auction(session, ref)
    if page.user is None:
        return login_first(f"/auctions/{auction.id}")
    user = page.user
    form = await page.form()
    raw = form_text(form, "max_amount", max_length=20).replace(",", ".").strip()
    try:
        amount = Money.from_major(raw, auction.currency).amount
    except (ValueError, ArithmeticError, DomainError):
        return RedirectResponse(f"/auctions/{auction.id}?bid=invalid", status_code=303)

    async def work() -> tuple[int, dict[str, str]]:
        await service.bid(session, bidder=user, auction_id=auction.id, max_amount=amount, now=state.clock.now())
        await bid_landed(session, state, auction.id)
        return 201, {"code": "accepted"}

    try:
        _status, result, _replayed = await idempotency.run(
            session,
            key=form_text(form, "idempotency_key", max_length=idempotency.MAX_KEY_LENGTH) or None,
            user_id=user.id,
            scope=f"bid-page:{auction.id}",
            body={"max_amount": amount},
            work=work,
        )
        code = str(result["code"])
    except DomainError as error:
        code = error.code
    return RedirectResponse(f"/auctions/{auction.id}?bid={code}", status_code=303)


async def _won(page: Page, session: AsyncSession, ref: str) -> tuple[Auction, PaySummary]:
    user = page.require_user()
    auction = await _auction(session, ref)
    if auction.leader_id != user.id or auction.status != AuctionStatus.won:
        raise NotFound("auction")
    title, image, _ = await _card(page, session, auction)
    price = Money(auction.price_amount, auction.currency)
    summary = PaySummary(
        heading=page.gettext("Pay for the auction you won"),
        title=title,
        image_url=image,
        quantity=1,
        unit=price,
        total=price,
        shipping_included=True,
        time_zone="Europe/Paris",
        pay_by=auction.pay_by,
    )
    return auction, summary


@router.get("/auctions/{ref}/pay")
async def pay_form(ref: str, page: PageContext, session: Session) -> Response:
    if page.user is None:
        return login_first(f"/auctions/{ref}/pay")
    auction, summary = await _won(page, session, ref)
    action = f"/auctions/{auction.id}/pay"
    return await render_pay_form(page, session, action=action, merchant_id=auction.merchant_id, summary=summary)


@router.post("/auctions/{ref}/pay")
async def pay(ref: str, page: PageContext, session: Session, state: State) -> Response:
    if page.user is None:
        return login_first(f"/auctions/{ref}/pay")
    auction, summary = await _won(page, session, ref)
    user = page.user

    async def place(terms: CheckoutTerms) -> PlacedCheckout:
        return await service.checkout(session, winner=user, auction_id=auction.id, terms=terms, now=state.clock.now())

    return await submit_pay_form(
        page,
        session,
        state,
        scope="auction-page",
        action=f"/auctions/{auction.id}/pay",
        merchant_id=auction.merchant_id,
        summary=summary,
        place=place,
    )
