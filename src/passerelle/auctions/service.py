"""Auction rules with the database: list an item, bid, close, pay. Never commits.

The auctioned unit is held (SKU stock -> reserved) when the auction is listed, so it
cannot be sold twice; the winner's order sells it (reserved -> sold) when paid, and an
auction without a bid, or whose winner never pays, puts it back on sale.

Bids on one auction are serialized by an optimistic lock (`version`): the bid is decided
by the pure rules on the row as read, and written only if nobody wrote in between; a
lost race is retried on the fresh row.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.auctions import rules
from passerelle.auctions.models import Auction, AuctionBid, AuctionStatus
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.errors import Conflict, Invalid, NotFound
from passerelle.infra import outbox
from passerelle.merchants import service as merchants
from passerelle.orders import stock
from passerelle.orders.models import Order, OrderStatus
from passerelle.orders.service import placement
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout, place_and_open_payment

SOURCE = "auction"
PAY_WITHIN = timedelta(days=2)
MAX_DURATION = timedelta(days=14)
BID_RETRIES = 5


async def create(
    session: AsyncSession,
    *,
    actor: User,
    merchant_id: int,
    sku_id: int,
    starting_amount: int,
    increment_amount: int,
    starts_at: datetime,
    ends_at: datetime,
    room_id: int | None = None,
    snipe_window_seconds: int = 30,
    extend_seconds: int = 30,
) -> Auction:
    merchant = await merchants.require_staff(session, user=actor, merchant_id=merchant_id)
    merchants.require_approved(merchant)
    row = (
        await session.execute(
            select(Sku, Product)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id == sku_id, Sku.merchant_id == merchant_id)
        )
    ).first()
    if row is None:
        raise NotFound("sku")
    if row[1].status != ProductStatus.published:
        raise Conflict("not_published", "Publish the product before auctioning it", field="sku_id")
    if not timedelta(0) < ends_at - starts_at <= MAX_DURATION:
        raise Invalid("invalid_window", "An auction lasts up to 14 days and ends after it starts", field="ends_at")
    if not (5 <= snipe_window_seconds <= 600 and 5 <= extend_seconds <= 600):
        raise Invalid("invalid_extension", "Anti-sniping times are between 5 s and 10 min", field="extend_seconds")
    await stock.reserve(session, {sku_id: 1})  # out_of_stock when there is no unit to auction
    auction = Auction(
        merchant_id=merchant_id,
        seller_id=actor.id,
        sku_id=sku_id,
        room_id=room_id,
        currency=merchant.currency,
        starting_amount=starting_amount,
        increment_amount=increment_amount,
        starts_at=starts_at,
        ends_at=ends_at,
        snipe_window_seconds=snipe_window_seconds,
        extend_seconds=extend_seconds,
        status=AuctionStatus.open,
        price_amount=0,
        leader_max_amount=0,
        bids_count=0,
        version=0,
    )
    session.add(auction)
    await session.flush()
    outbox.emit(session, topic="auctions.close", payload={"auction_id": auction.id}, at=ends_at)
    return auction


def book_of(auction: Auction) -> rules.Book:
    return rules.Book(
        starting_amount=auction.starting_amount,
        increment=auction.increment_amount,
        price=auction.price_amount,
        leader_id=auction.leader_id,
        leader_max=auction.leader_max_amount,
        ends_at=auction.ends_at.timestamp(),
        snipe_window=auction.snipe_window_seconds,
        extend_seconds=auction.extend_seconds,
        bids=auction.bids_count,
    )


async def bid(session: AsyncSession, *, bidder: User, auction_id: int, max_amount: int, now: datetime) -> rules.Outcome:
    """Place a maximum bid. Raises with a stable code when refused."""
    for _ in range(BID_RETRIES):
        auction = await session.get(Auction, auction_id, populate_existing=True)
        if auction is None:
            raise NotFound("auction")
        if auction.status != AuctionStatus.open:
            raise Conflict(rules.NOT_RUNNING, "This auction is over")
        outcome = rules.place(
            book_of(auction),
            bidder_id=bidder.id,
            max_amount=max_amount,
            now=now.timestamp(),
            starts_at=auction.starts_at.timestamp(),
            seller_id=auction.seller_id,
        )
        if not outcome.accepted:
            raise _refusal(outcome, auction)
        book = outcome.book
        written = await session.execute(
            update(Auction)
            .where(Auction.id == auction_id, Auction.version == auction.version)
            .values(
                price_amount=book.price,
                leader_id=book.leader_id,
                leader_max_amount=book.leader_max,
                bids_count=book.bids,
                ends_at=datetime.fromtimestamp(book.ends_at, UTC),
                version=auction.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        if written.rowcount != 1:  # type: ignore[attr-defined]
            continue  # another bid landed first: decide again on the fresh row
        session.add(
            AuctionBid(
                auction_id=auction_id,
                bidder_id=bidder.id,
                max_amount=max_amount,
                price_after=book.price,
                leading_after=book.leader_id == bidder.id,
                extended=outcome.extended,
                created_at=now,
            )
        )
        await session.flush()
        return outcome
    raise Conflict("in_progress", "Many bids at once; try again")


def _refusal(outcome: rules.Outcome, auction: Auction) -> Conflict:
    if outcome.code == rules.TOO_LOW:
        least = rules.minimum_bid(book_of(auction))
        return Conflict(rules.TOO_LOW, "Bid at least the minimum", field="max_amount", extra={"minimum": least})
    if outcome.code == rules.OWN_AUCTION:
        return Conflict(rules.OWN_AUCTION, "You cannot bid on your own auction")
    return Conflict(rules.NOT_RUNNING, "This auction is not taking bids now")


async def close(session: AsyncSession, *, auction_id: int, now: datetime) -> AuctionStatus | None:
    """At the end time: a leader wins (and has `PAY_WITHIN` to pay), else the unit goes
    back on sale. A bid that pushed the end back makes this run again at the new end."""
    auction = await session.get(Auction, auction_id, populate_existing=True)
    if auction is None or auction.status != AuctionStatus.open:
        return None
    if now < auction.ends_at:
        outbox.emit(session, topic="auctions.close", payload={"auction_id": auction_id}, at=auction.ends_at)
        return None
    if auction.leader_id is None:
        auction.status = AuctionStatus.unsold
        await stock.release(session, {auction.sku_id: 1})
    else:
        auction.status = AuctionStatus.won
        auction.pay_by = now + PAY_WITHIN
        outbox.emit(session, topic="auctions.unpaid", payload={"auction_id": auction_id}, at=auction.pay_by)
    await session.flush()
    return auction.status


async def checkout(
    session: AsyncSession, *, winner: User, auction_id: int, terms: CheckoutTerms, now: datetime
) -> PlacedCheckout:
    auction = await session.get(Auction, auction_id, populate_existing=True)
    if auction is None or auction.leader_id != winner.id or auction.status not in (AuctionStatus.won,):
        raise NotFound("auction")
    assert auction.pay_by is not None
    if now >= auction.pay_by:
        raise Conflict("payment_overdue", "The time to pay for this auction is over")
    if auction.order_id is not None:
        open_order = await session.get(Order, auction.order_id)
        if open_order is not None and open_order.status == OrderStatus.pending_payment:
            raise Conflict("payment_in_progress", "A payment for this auction is already open")
    attribution: dict[str, int] = {"auction_id": auction.id}
    if auction.room_id is not None:
        attribution["room_id"] = auction.room_id
    done = await place_and_open_payment(
        session,
        buyer=winner,
        requests=[placement.LineRequest(auction.sku_id, 1, auction.price_amount, attribution)],
        terms=replace(terms, hold_for=min(terms.hold_for, auction.pay_by - now), coupon_code=None),
        now=now,
        source=SOURCE,
        hold_stock=False,  # the unit was held when the auction was listed
    )
    auction.order_id = done.placed.orders[0].id
    await session.flush()
    return done


async def on_order_paid(session: AsyncSession, *, order_id: int) -> None:
    await session.execute(
        update(Auction)
        .where(Auction.order_id == order_id, Auction.status == AuctionStatus.won)
        .values(status=AuctionStatus.paid)
        .execution_options(synchronize_session=False)
    )


async def on_order_dropped(session: AsyncSession, *, order_id: int) -> None:
    """The winner's order expired or was declined: they may try again until `pay_by`."""
    await session.execute(
        update(Auction)
        .where(Auction.order_id == order_id, Auction.status == AuctionStatus.won)
        .values(order_id=None)
        .execution_options(synchronize_session=False)
    )


async def expire_unpaid(session: AsyncSession, *, auction_id: int, now: datetime) -> bool:
    """Past `pay_by` without payment: the unit goes back on sale."""
    auction = await session.get(Auction, auction_id, populate_existing=True)
    if auction is None or auction.status != AuctionStatus.won or auction.pay_by is None or now < auction.pay_by:
        return False
    if auction.order_id is not None:
        order = await session.get(Order, auction.order_id)
        if order is not None and order.status == OrderStatus.pending_payment:
            outbox.emit(
                session, topic="auctions.unpaid", payload={"auction_id": auction_id}, at=now + timedelta(minutes=1)
            )
            return False  # its hold ends at pay_by at the latest: look again shortly
    auction.status = AuctionStatus.unpaid
    await stock.release(session, {auction.sku_id: 1})
    await session.flush()
    return True
