"""JSON routes of auctions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select

from passerelle.accounts.models import User
from passerelle.auctions import rules, service
from passerelle.auctions.models import Auction, AuctionStatus
from passerelle.auctions.schemas import AuctionIn, AuctionList, AuctionOut, BidIn, BidOut
from passerelle.catalog.schemas import MoneyOut
from passerelle.deps import CurrentUser, OptionalUser, RequestLocale, Session, State, UnitOfWorkRoute
from passerelle.errors import NotFound
from passerelle.http import IdempotencyKey, PathId, idempotent_json
from passerelle.live.announce import bid_landed
from passerelle.orders.checkout_request import terms_for
from passerelle.orders.schemas import CheckoutIn, CheckoutOut

router = APIRouter(tags=["auctions"], route_class=UnitOfWorkRoute)


def auction_out(auction: Auction, viewer: User | None) -> AuctionOut:
    book = service.book_of(auction)
    leading = viewer is not None and viewer.id == auction.leader_id

    def money(amount: int) -> MoneyOut:
        return MoneyOut(amount=amount, currency=auction.currency)

    return AuctionOut(
        id=auction.id,
        merchant_id=auction.merchant_id,
        sku_id=auction.sku_id,
        room_id=auction.room_id,
        status=auction.status.value,
        price=money(auction.price_amount or auction.starting_amount),
        minimum_bid=money(rules.minimum_bid(book)),
        bids=auction.bids_count,
        starts_at=auction.starts_at,
        ends_at=auction.ends_at,
        leading=leading,
        your_max=money(auction.leader_max_amount) if leading else None,  # only the leader sees their maximum
        pay_by=auction.pay_by if leading else None,
    )


@router.post("/me/merchants/{merchant_id}/auctions", status_code=201, response_model=AuctionOut)
async def create_auction(merchant_id: PathId, body: AuctionIn, user: CurrentUser, session: Session) -> AuctionOut:
    auction = await service.create(
        session,
        actor=user,
        merchant_id=merchant_id,
        sku_id=body.sku_id,
        starting_amount=body.starting_amount,
        increment_amount=body.increment_amount,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        room_id=body.room_id,
        snipe_window_seconds=body.snipe_window_seconds,
        extend_seconds=body.extend_seconds,
    )
    return auction_out(auction, user)


@router.get("/auctions", response_model=AuctionList)
async def list_auctions(session: Session, viewer: OptionalUser) -> AuctionList:
    rows = await session.execute(
        select(Auction).where(Auction.status == AuctionStatus.open).order_by(Auction.ends_at).limit(200)
    )
    return AuctionList(items=[auction_out(a, viewer) for a in rows.scalars()])


@router.get("/auctions/{auction_id}", response_model=AuctionOut)
async def get_auction(auction_id: PathId, session: Session, viewer: OptionalUser) -> AuctionOut:
    auction = await session.get(Auction, auction_id)
    if auction is None:
        raise NotFound("auction")
    return auction_out(auction, viewer)


@router.post("/auctions/{auction_id}/bids", status_code=201, response_model=BidOut)
async def place_bid(
    auction_id: PathId,
    body: BidIn,
    user: CurrentUser,
    session: Session,
    state: State,
    idempotency_key: IdempotencyKey = None,
) -> JSONResponse:
    """A maximum bid: the system bids for you, one increment at a time, up to it. A bid in
    the last seconds extends the end (anti-sniping)."""

    async def work() -> tuple[int, Any]:
        outcome = await service.bid(
            session, bidder=user, auction_id=auction_id, max_amount=body.max_amount, now=state.clock.now()
        )
        await bid_landed(session, state, auction_id)
        auction = await session.get(Auction, auction_id, populate_existing=True)
        assert auction is not None
        out = auction_out(auction, user)
        answer = BidOut(
            leading=out.leading, price=out.price, minimum_bid=out.minimum_bid, ends_at=out.ends_at,
            extended=outcome.extended,
        )  # fmt: skip
        return 201, answer.model_dump(mode="json")

    return await idempotent_json(
        session, key=idempotency_key, user_id=user.id, scope=f"bid:{auction_id}", body=body.model_dump(), work=work
    )


@router.post("/auctions/{auction_id}/checkout", status_code=201, response_model=CheckoutOut)
async def pay_auction(
    auction_id: PathId, body: CheckoutIn, user: CurrentUser, session: Session, state: State, locale: RequestLocale
) -> CheckoutOut:
    """The winner pays the final price (plus shipping) through the ordinary payments."""
    terms = terms_for(body, state=state, locale=locale)
    done = await service.checkout(session, winner=user, auction_id=auction_id, terms=terms, now=state.clock.now())
    return done.as_checkout_out()
