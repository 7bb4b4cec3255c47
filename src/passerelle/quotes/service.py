"""Request-for-quote rules. Every status change is one conditional UPDATE on the status it
expects, so two clicks (or a buyer's accept racing the wholesaler's decline) apply once.
Services never commit; the route's unit of work does."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from passerelle.accounts.models import User
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.companies import service as companies
from passerelle.errors import Conflict, Forbidden, Invalid, NotFound
from passerelle.infra import outbox
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant, MerchantKind, MerchantStatus
from passerelle.orders.service.checkout import CheckoutTerms, PlacedCheckout, place_and_open_payment
from passerelle.orders.service.placement import LineRequest
from passerelle.quotes.models import Quote, QuoteLine, QuoteStatus

S = QuoteStatus
Party = Literal["buyer", "merchant"]
MAX_LINES = 50
MAX_VALIDITY = timedelta(days=90)


@dataclass(frozen=True)
class AskedLine:
    sku_id: int
    quantity: int


@dataclass(frozen=True)
class PricedLine:
    sku_id: int
    unit_amount: int


@dataclass(frozen=True)
class QuoteLineView:
    line: QuoteLine
    sku_code: str
    product_id: int


def effective_status(quote: Quote, now: datetime) -> QuoteStatus:
    """An answered quote past its validity is expired even before the sweep records it."""
    if quote.status == S.answered and quote.valid_until is not None and quote.valid_until <= now:
        return S.expired
    return quote.status


_REFUSALS: dict[QuoteStatus, tuple[str, str]] = {
    S.requested: ("quote_not_answered", "The wholesaler has not answered this quote yet"),
    S.answered: ("quote_already_answered", "This quote is already answered"),
    S.accepted: ("quote_already_accepted", "This quote was already accepted"),
    S.declined: ("quote_declined", "This quote was declined"),
    S.expired: ("quote_expired", "This quote has expired"),
}


def _refuse(status: QuoteStatus) -> Conflict:
    code, message = _REFUSALS[status]
    return Conflict(code, message, extra={"status": status.value})


async def request_quote(
    session: AsyncSession,
    *,
    buyer: User,
    merchant_id: int,
    lines: Sequence[AskedLine],
    message: str,
    company_id: int | None,
    now: datetime,
) -> Quote:
    """A buyer (for themselves or a company they belong to) asks a wholesaler to price quantities."""
    if company_id is not None:
        await companies.require_member(session, user=buyer, company_id=company_id)
    merchant = await session.get(Merchant, merchant_id)
    if merchant is None or merchant.status != MerchantStatus.approved:
        raise NotFound("merchant")
    if merchant.kind != MerchantKind.wholesale:
        raise Conflict("quotes_wholesale_only", "Only wholesalers answer requests for quotes", field="merchant_id")
    if await merchants.membership(session, user=buyer, merchant_id=merchant_id) is not None:
        raise Conflict("own_merchant", "You cannot ask your own shop for a quote", field="merchant_id")
    await _check_lines(session, merchant_id=merchant_id, lines=lines)

    quote = Quote(
        buyer_id=buyer.id,
        company_id=company_id,
        merchant_id=merchant_id,
        status=S.requested,
        currency=merchant.currency,
        message=message.strip(),
        answer_note="",
        decline_reason="",
        created_at=now,
        updated_at=now,
    )
    session.add(quote)
    await session.flush()
    session.add_all(QuoteLine(quote_id=quote.id, sku_id=line.sku_id, quantity=line.quantity) for line in lines)
    await session.flush()
    return quote


async def _check_lines(session: AsyncSession, *, merchant_id: int, lines: Sequence[AskedLine]) -> None:
    if not lines:
        raise Invalid("empty_quote", "Ask for at least one item", field="lines")
    if len(lines) > MAX_LINES:
        raise Invalid("too_many_lines", f"A quote holds at most {MAX_LINES} items", field="lines")
    if len({line.sku_id for line in lines}) != len(lines):
        raise Invalid("duplicate_sku", "List each item once, with its total quantity", field="lines")
    rows = await session.execute(
        select(Sku.id, Product.id, Product.min_order_quantity)
        .join(Product, Product.id == Sku.product_id)
        .where(
            Sku.id.in_([line.sku_id for line in lines]),
            Product.merchant_id == merchant_id,
            Product.status == ProductStatus.published,
        )
    )
    found = {sku_id: (product_id, moq) for sku_id, product_id, moq in rows.all()}
    per_product: dict[int, int] = defaultdict(int)
    for index, line in enumerate(lines):
        if line.sku_id not in found:
            raise Invalid(
                "unknown_sku", f"This wholesaler does not sell item {line.sku_id}", field=f"lines.{index}.sku_id"
            )
        per_product[found[line.sku_id][0]] += line.quantity
    # Same rule as checkout: the minimum order counts every SKU of a product together.
    minimums = {product_id: moq for product_id, moq in found.values()}
    for product_id, quantity in per_product.items():
        if quantity < minimums[product_id]:
            raise Invalid(
                "below_minimum_order",
                f"Ask for at least {minimums[product_id]} units of product {product_id}",
                field="lines",
                extra={"product_id": product_id, "min_order_quantity": minimums[product_id]},
            )


async def load_for_party(session: AsyncSession, *, quote_id: int, actor: User) -> tuple[Quote, Party]:
    """The quote and who `actor` is to it; 404 for anyone else, so ids leak nothing."""
    quote = await session.get(Quote, quote_id, populate_existing=True)
    if quote is None:
        raise NotFound("quote")
    if quote.buyer_id == actor.id:
        return quote, "buyer"
    if await merchants.membership(session, user=actor, merchant_id=quote.merchant_id) is not None:
        return quote, "merchant"
    raise NotFound("quote")


async def _move(
    session: AsyncSession, *, quote_id: int, expected: Sequence[QuoteStatus], now: datetime, **values: object
) -> None:
    """The conditional status change; anything else that changed the quote first wins."""
    conditions: list[ColumnElement[bool]] = [Quote.id == quote_id, Quote.status.in_(list(expected))]
    if S.answered in expected:
        # An answered quote past its validity is expired, whatever its stored status says.
        conditions.append(or_(Quote.status != S.answered, Quote.valid_until > now))
    result = await session.execute(
        update(Quote).where(*conditions).values(updated_at=now, **values).execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("quote_changed", "The quote changed meanwhile; reload it")


async def answer(
    session: AsyncSession,
    *,
    actor: User,
    quote_id: int,
    prices: Sequence[PricedLine],
    valid_until: datetime,
    note: str,
    now: datetime,
) -> Quote:
    """The wholesaler's staff price every line and say how long the prices hold."""
    quote, party = await load_for_party(session, quote_id=quote_id, actor=actor)
    if party != "merchant":
        raise Forbidden("Only the wholesaler answers a quote")
    status = effective_status(quote, now)
    if status != S.requested:
        raise _refuse(status)
    if not now < valid_until <= now + MAX_VALIDITY:
        raise Invalid(
            "invalid_valid_until", "The answer must stay valid for some time, and at most 90 days", field="valid_until"
        )
    lines = list((await session.execute(select(QuoteLine).where(QuoteLine.quote_id == quote.id))).scalars())
    by_sku = {p.sku_id: p.unit_amount for p in prices}
    if len(by_sku) != len(prices) or set(by_sku) != {line.sku_id for line in lines}:
        raise Invalid("quote_lines_mismatch", "Give one unit price for each requested item", field="lines")
    await _move(
        session,
        quote_id=quote.id,
        expected=[S.requested],
        now=now,
        status=S.answered,
        valid_until=valid_until,
        answered_at=now,
        answered_by_id=actor.id,
        answer_note=note.strip(),
    )
    for line in lines:
        line.unit_amount = by_sku[line.sku_id]
    # Lets the sweep record the expiry when nobody accepted in time.
    await outbox.emit_wake(session, topic="quotes.expire_due", at=valid_until)
    await session.flush()
    await session.refresh(quote)
    return quote


async def decline(session: AsyncSession, *, actor: User, quote_id: int, reason: str, now: datetime) -> Quote:
    """Either side ends it: the wholesaler will not quote, or the buyer does not want the answer."""
    quote, party = await load_for_party(session, quote_id=quote_id, actor=actor)
    status = effective_status(quote, now)
    if status not in (S.requested, S.answered):
        raise _refuse(status)
    await _move(
        session,
        quote_id=quote.id,
        expected=[S.requested, S.answered],
        now=now,
        status=S.declined,
        closed_by=party,
        decline_reason=reason.strip()[:500],
    )
    await session.refresh(quote)
    return quote


async def accept(
    session: AsyncSession, *, actor: User, quote_id: int, terms: CheckoutTerms, now: datetime
) -> PlacedCheckout:
    """The buyer takes the answer before it expires: a purchase at the quoted unit prices,
    stock held like any checkout, a payment to make. Accepting twice makes one purchase."""
    quote, party = await load_for_party(session, quote_id=quote_id, actor=actor)
    if party != "buyer":
        raise Forbidden("Only the buyer who asked can accept a quote")
    status = effective_status(quote, now)
    if status != S.answered:
        raise _refuse(status)
    await _move(
        session,
        quote_id=quote.id,
        expected=[S.answered],
        now=now,
        status=S.accepted,
        accepted_at=now,
        closed_by="buyer",
    )
    lines = (
        await session.execute(select(QuoteLine).where(QuoteLine.quote_id == quote.id).order_by(QuoteLine.id))
    ).scalars()
    requests = [LineRequest(sku_id=line.sku_id, quantity=line.quantity, unit_amount=line.unit_amount) for line in lines]
    purchase = await place_and_open_payment(
        session, buyer=actor, requests=requests, agreed_currency=quote.currency, terms=terms, now=now, source="quote"
    )
    await session.execute(
        update(Quote)
        .where(Quote.id == quote.id)
        .values(purchase_id=purchase.placed.purchase.id)
        .execution_options(synchronize_session=False)
    )
    return purchase


async def expire_due(session: AsyncSession, *, now: datetime) -> int:
    """Record as expired every answered quote past its validity. Idempotent."""
    result = await session.execute(
        update(Quote)
        .where(Quote.status == S.answered, Quote.valid_until <= now)
        .values(status=S.expired, closed_by="system", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _status_filter(status: QuoteStatus, now: datetime) -> ColumnElement[bool]:
    if status == S.expired:
        return or_(Quote.status == S.expired, and_(Quote.status == S.answered, Quote.valid_until <= now))
    if status == S.answered:
        return and_(Quote.status == S.answered, Quote.valid_until > now)
    return Quote.status == status


async def list_quotes(
    session: AsyncSession,
    *,
    now: datetime,
    buyer_id: int | None = None,
    merchant_id: int | None = None,
    status: QuoteStatus | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Quote], int]:
    conditions: list[ColumnElement[bool]] = []
    if buyer_id is not None:
        conditions.append(Quote.buyer_id == buyer_id)
    if merchant_id is not None:
        conditions.append(Quote.merchant_id == merchant_id)
    if status is not None:
        conditions.append(_status_filter(status, now))
    rows = await session.execute(select(Quote).where(*conditions).order_by(Quote.id.desc()).limit(limit).offset(offset))
    total = await session.execute(select(func.count()).select_from(Quote).where(*conditions))
    return list(rows.scalars()), int(total.scalar_one())


async def lines_of(session: AsyncSession, *, quote_ids: Sequence[int]) -> dict[int, list[QuoteLineView]]:
    rows = await session.execute(
        select(QuoteLine, Sku.code, Sku.product_id)
        .join(Sku, Sku.id == QuoteLine.sku_id)
        .where(QuoteLine.quote_id.in_(list(quote_ids)))
        .order_by(QuoteLine.id)
    )
    by_quote: dict[int, list[QuoteLineView]] = defaultdict(list)
    for line, code, product_id in rows.all():
        by_quote[line.quote_id].append(QuoteLineView(line=line, sku_code=code, product_id=product_id))
    return by_quote
