"""HTML routes for the festival: the home-page banner, /festival (the current festival's
deals) and /deals/{id} (one deal, with a countdown that turns into a "Buy now" button).

Countdowns and the claim button are driven by static/js/festival.js from data attributes:
ISO UTC times plus the server's own "now" (`state.clock.now()`), so the page follows the
server's clock, not the visitor's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import Role
from passerelle.catalog import views
from passerelle.catalog.models import Sku
from passerelle.catalog.schemas import MoneyOut, ProductCard
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import NotFound
from passerelle.festival import service
from passerelle.festival.api import deal_out
from passerelle.festival.models import Deal, DealStatus, Festival
from passerelle.festival.pay_pages import PresaleRules, presale_rules
from passerelle.money import Money
from passerelle.state import AppState
from passerelle.web.context import Page, PageContext, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


def _utc(moment: datetime) -> str:
    """ISO 8601 in UTC with a Z, as the countdown script parses it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def phase(starts_at: datetime, ends_at: datetime, now: datetime) -> str:
    if now < starts_at:
        return "upcoming"
    if now < ends_at:
        return "running"
    return "ended"


@dataclass(frozen=True)
class Banner:
    name: str
    phase: str  # "upcoming" or "running"
    target: str  # ISO UTC: the start when upcoming, the end when running
    server_now: str


async def festival_banner(session: AsyncSession, state: AppState) -> Banner | None:
    """The home page's banner: the running festival (or the next one), with its countdown."""
    now = state.clock.now()
    festival = await service.current_festival(session, now=now)
    if festival is None:
        return None
    running = festival.starts_at <= now
    return Banner(
        name=festival.name,
        phase="running" if running else "upcoming",
        target=_utc(festival.ends_at if running else festival.starts_at),
        server_now=_utc(now),
    )


@dataclass(frozen=True)
class DealView:
    id: int
    card: ProductCard
    price: MoneyOut
    usual_price: MoneyOut
    remaining: int
    stock: int
    per_buyer_limit: int
    phase: str
    starts_at: str
    ends_at: str
    starts_at_dt: datetime
    ends_at_dt: datetime
    presale: PresaleView | None = None
    # The deal price in the viewer's currency, when it differs (an estimate: the buyer pays
    # in the currency chosen at checkout, converted at that moment's rate).
    local_price: MoneyOut | None = None


@dataclass(frozen=True)
class PresaleView:
    deposit: MoneyOut
    rules: PresaleRules
    remaining: int
    stock: int
    opens_at: datetime
    deposits_open: bool
    balance_open: bool


async def _deal_views(page: Page, session: AsyncSession, state: AppState, deals: list[Deal]) -> list[DealView]:
    if not deals:
        return []
    skus = {
        sku.id: sku
        for sku in (await session.execute(select(Sku).where(Sku.id.in_({d.sku_id for d in deals})))).scalars()
    }
    product_ids = list(dict.fromkeys(skus[d.sku_id].product_id for d in deals if d.sku_id in skus))
    # Deal prices are in the merchant's currency: the cards are asked for in it too.
    cards: dict[int, ProductCard] = {}
    for currency in {d.currency for d in deals}:
        wanted = [skus[d.sku_id].product_id for d in deals if d.currency == currency and d.sku_id in skus]
        for card in await views.cards(
            session,
            product_ids=[p for p in product_ids if p in wanted],
            language=page.locale.language,
            currency=currency,
            fx=page.locale.fx,
        ):
            cards[card.id] = card
    now = state.clock.now()
    result = []
    for deal in deals:
        sku = skus.get(deal.sku_id)
        found = cards.get(sku.product_id) if sku is not None else None
        if sku is None or found is None:
            continue
        card = found
        result.append(
            DealView(
                id=deal.id,
                card=card,
                price=MoneyOut(amount=deal.price_amount, currency=deal.currency),
                usual_price=MoneyOut(amount=sku.price_amount, currency=deal.currency),
                remaining=(await deal_out(deal, state)).remaining,
                stock=deal.stock,
                per_buyer_limit=deal.per_buyer_limit,
                phase="ended" if deal.status == DealStatus.closed else phase(deal.starts_at, deal.ends_at, now),
                starts_at=_utc(deal.starts_at),
                ends_at=_utc(deal.ends_at),
                starts_at_dt=deal.starts_at,
                ends_at_dt=deal.ends_at,
                presale=_presale_view(deal, now),
                local_price=_in_viewer_currency(page, deal),
            )
        )
    return result


def _in_viewer_currency(page: Page, deal: Deal) -> MoneyOut | None:
    wanted, fx = page.locale.currency, page.locale.fx
    if wanted == deal.currency or not (fx.knows(wanted) and fx.knows(deal.currency)):
        return None
    converted = fx.convert(Money(deal.price_amount, deal.currency), wanted)
    return MoneyOut(amount=converted.amount, currency=converted.currency)


def _presale_view(deal: Deal, now: datetime) -> PresaleView | None:
    if not deal.is_presale:
        return None
    assert deal.deposit_amount is not None and deal.presale_starts_at is not None
    assert deal.balance_due_at is not None
    armed = deal.status == DealStatus.armed
    return PresaleView(
        deposit=MoneyOut(amount=deal.deposit_amount, currency=deal.currency),
        rules=presale_rules(deal),
        remaining=deal.presale_stock - deal.presale_taken if armed else 0,
        stock=deal.presale_stock,
        opens_at=deal.presale_starts_at,
        deposits_open=armed and deal.presale_starts_at <= now < deal.starts_at,
        balance_open=armed and deal.starts_at <= now < deal.balance_due_at,
    )


@router.get("/festival")
async def festival_page(page: PageContext, session: Session, state: State) -> Response:
    now = state.clock.now()
    festival: Festival | None = await service.current_festival(session, now=now)
    deals = await service.list_deals(session, festival_id=festival.id) if festival is not None else []
    values: dict[str, Any] = {
        "festival": festival,
        "festival_phase": phase(festival.starts_at, festival.ends_at, now) if festival else "",
        "festival_target": _utc(festival.ends_at if festival.starts_at <= now else festival.starts_at)
        if festival
        else "",
        "deals": await _deal_views(page, session, state, deals),
        "server_now": _utc(now),
    }
    return page.render("festival/festival.html", **values)


@router.get("/festival/screen")
async def screen_page(page: PageContext, session: Session, state: State) -> Response:
    """The big screen. Operators see money (GMV, per merchant and room); anyone else sees
    the public view, without it. Figures arrive by server-sent events (screen.js)."""
    now = state.clock.now()
    festival = await service.current_festival(session, now=now)
    public = page.user is None or page.user.role != Role.operator
    return page.render(
        "festival/screen.html",
        festival=festival,
        public=public,
        ends_at=_utc(festival.ends_at) if festival else "",
        server_now=_utc(now),
        base_currency=state.settings.base_currency,
    )


@router.get("/deals/{deal_ref}")
async def deal_page(deal_ref: str, page: PageContext, session: Session, state: State) -> Response:
    deal = await session.get(Deal, path_id(deal_ref, "deal"))
    if deal is None or deal.status == DealStatus.draft:
        raise NotFound("deal")
    views_of_deal = await _deal_views(page, session, state, [deal])
    if not views_of_deal:
        raise NotFound("deal")
    view = views_of_deal[0]
    festival = await session.get(Festival, deal.festival_id)
    return page.render(
        "festival/deal.html",
        deal=view,
        festival=festival,
        server_now=_utc(state.clock.now()),
        login_next=f"/deals/{deal.id}",
    )
