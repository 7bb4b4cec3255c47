"""HTML routes of live commerce: the room's shelf (pinned cards, running deal, open
auctions, fetched by static/js/live_shop.js on each room event), "buy" from a card, the
host's selling console, the replay page and the analytics page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.schemas import ProductCard
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError
from passerelle.http import MAX_ID
from passerelle.i18n.messages import N_
from passerelle.live import analytics, commerce, service
from passerelle.live.api import finish_replay, hls_url, publish_after_commit
from passerelle.live.commerce_api import add_to_cart, start_deal_after_commit
from passerelle.live.commerce_schemas import CartIn
from passerelle.live.media import media_paths, recording_finished
from passerelle.live.models import LiveRoom, MemberRole, RoomStatus
from passerelle.live.pages import _cards
from passerelle.money import Money
from passerelle.orders.pages.pay_form import login_first
from passerelle.state import AppState
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _whole(raw: str, *, low: int, high: int, field: str) -> int:
    if not raw.strip().isdigit() or not low <= int(raw) <= high:
        raise DomainError("invalid_number", N_("Give a whole number in the allowed range"), field=field, status=422)
    return int(raw)


def _amount(raw: str, currency: str, field: str) -> int:
    try:
        amount = Money.from_major(raw.replace(",", ".").strip(), currency).amount
    except (ValueError, ArithmeticError, DomainError):
        amount = 0
    if amount < 1:
        raise DomainError("invalid_amount", N_("Give a valid price"), field=field, status=422)
    return amount


async def shelf_values(page: Page, session: AsyncSession, state: AppState, room: LiveRoom) -> dict[str, Any]:
    now = state.clock.now()
    pinned = await commerce.pins(session, room_id=room.id)
    deals = await commerce.room_deals(session, room_id=room.id, now=now)
    running = await commerce.room_auctions(session, room_id=room.id)
    auctions = [a for a in running if a.status.value == "open" and a.ends_at > now]
    skus = {a.id: (await commerce.sku_by_id(session, a.sku_id)) for a in auctions}
    wanted = list(dict.fromkeys([*pinned, *(p for _, p in deals), *(s.product_id for s in skus.values())]))
    cards = {c.id: c for c in await _cards(page, session, wanted)}
    engine = state.engine
    return {
        "room": room,
        "pinned": [cards[p] for p in pinned if p in cards],
        "deals": [
            (
                deal,
                cards.get(product),
                await engine.remaining(deal.id) if engine else 0,
                Money(deal.price_amount, deal.currency),
            )
            for deal, product in deals
        ],
        "auctions": [
            (a, cards.get(skus[a.id].product_id), Money(a.price_amount or a.starting_amount, a.currency))
            for a in auctions
        ],
    }


@router.get("/live/{room_ref}/shelf")
async def shelf(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await service.get_room(session, path_id(room_ref, "room"))
    return page.render("live/_shelf.html", **await shelf_values(page, session, state, room))


@router.post("/live/{room_ref}/buy")
async def buy(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    """The card's "Buy": to the cart, credited to the room, its host and co-hosts."""
    room = await service.get_room(session, path_id(room_ref, "room"))
    if page.user is None:
        return login_first(f"/live/{room.id}")
    form = await page.form()
    product_id = path_id(form_text(form, "product_id", max_length=20), "product")
    await commerce.in_showcase(session, room, product_id)
    await add_to_cart(session, room=room, buyer=page.user, body=CartIn(product_id=product_id))
    if state.live is not None:
        state.live.recorder.clicked(room_id=room.id, product_id=product_id)
    return _see_other("/cart")


# --- the host's selling console -------------------------------------------------------------


async def _managed(page: Page, session: AsyncSession, room_ref: str) -> LiveRoom:
    return await commerce.room_for_manager(session, room_id=path_id(room_ref, "room"), actor=page.require_user())


@router.get("/live/{room_ref}/host/shop")
async def shop_console(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await _managed(page, session, room_ref)
    people = await service.members(session, room_id=room.id)
    split = await commerce.credit_split(session, room=room)
    return page.render(
        "live/host_shop.html",
        showcase=await _cards(page, session, await service.showcase(session, room_id=room.id)),
        pinned_ids=set(await commerce.pins(session, room_id=room.id)),
        cohosts=[(u, split.get(u.id, 0)) for u, role in people if role == MemberRole.cohost],
        host_bp=commerce.FULL_BP - sum(split.values()),
        is_host=page.user is not None and page.user.id == room.host_id,
        **await shelf_values(page, session, state, room),
    )


@router.post("/live/{room_ref}/host/pins")
async def pin(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await _managed(page, session, room_ref)
    form = await page.form()
    product_id = path_id(form_text(form, "product_id", max_length=20), "product")
    now = state.clock.now()
    if form_text(form, "action", max_length=10) == "unpin":
        pinned = await commerce.unpin(session, room=room, product_id=product_id, now=now)
    else:
        pinned = await commerce.pin(session, room=room, product_id=product_id, now=now)
    publish_after_commit(session, state, room.id, {"type": "pin", "product_ids": pinned})
    return _see_other(f"/live/{room.id}/host/shop")


@router.post("/live/{room_ref}/host/deal")
async def launch_deal(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await _managed(page, session, room_ref)
    form = await page.form()
    product_id = path_id(form_text(form, "product_id", max_length=20), "product")
    sku = await commerce.sku_for(session, product_id=product_id)
    currency = (await commerce.merchant_currency(session, sku.merchant_id)) or "EUR"
    deal = await commerce.launch_deal(
        session,
        room=room,
        actor=page.require_user(),
        product_id=product_id,
        price_amount=_amount(form_text(form, "price", max_length=20), currency, "price"),
        stock=_whole(form_text(form, "stock", max_length=7), low=1, high=1_000_000, field="stock"),
        per_buyer_limit=_whole(form_text(form, "per_buyer_limit", max_length=4), low=1, high=1000, field="limit"),
        seconds=_whole(form_text(form, "seconds", max_length=3), low=10, high=300, field="seconds"),
        now=state.clock.now(),
    )
    start_deal_after_commit(session, state, room.id, deal_id=deal.id)
    return _see_other(f"/live/{room.id}/host/shop")


@router.post("/live/{room_ref}/host/auction")
async def start_auction(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await _managed(page, session, room_ref)
    form = await page.form()
    product_id = path_id(form_text(form, "product_id", max_length=20), "product")
    sku = await commerce.sku_for(session, product_id=product_id)
    currency = (await commerce.merchant_currency(session, sku.merchant_id)) or "EUR"
    auction = await commerce.start_auction(
        session,
        room=room,
        actor=page.require_user(),
        product_id=product_id,
        starting_amount=_amount(form_text(form, "starting", max_length=20), currency, "starting"),
        increment_amount=_amount(form_text(form, "increment", max_length=20), currency, "increment"),
        seconds=_whole(form_text(form, "seconds", max_length=4), low=10, high=3600, field="seconds"),
        now=state.clock.now(),
    )
    publish_after_commit(session, state, room.id, commerce.auction_event(auction, product_id=product_id))
    return _see_other(f"/live/{room.id}/host/shop")


@router.post("/live/{room_ref}/host/credit")
async def set_credit(room_ref: str, page: PageContext, session: Session) -> Response:
    room = await service.room_for_host(session, room_id=path_id(room_ref, "room"), actor=page.require_user())
    form = await page.form()
    people = [u for u, role in await service.members(session, room_id=room.id) if role == MemberRole.cohost]
    shares = {
        u.id: _whole(form_text(form, f"share_{u.id}", max_length=5) or "0", low=0, high=10_000, field="share")
        for u in people
    }
    host_bp = _whole(form_text(form, "host_bp", max_length=5), low=0, high=10_000, field="host_bp")
    await commerce.set_credit_split(session, room=room, host_bp=host_bp, cohosts=shares)
    return _see_other(f"/live/{room.id}/host/shop")


# --- replay and analytics ---------------------------------------------------------------------


@router.get("/live/{room_ref}/replay")
async def replay(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    """The recorded stream with chat, pins, deals and auctions at their video times; every
    product pinned during the live stays buyable."""
    room = await service.get_room(session, path_id(room_ref, "room"))
    events = await commerce.replay_events(session, room=room)
    ever_pinned = list(dict.fromkeys(p for _, e in events if e["type"] == "pin" for p in e["product_ids"]))
    if room.status == RoomStatus.ended and not room.on_air:
        finish_replay(state.settings, room.id)  # idempotent backstop, should a callback have been missed
    # Only a kept, finished recording is the replay's video: without recording, what is left of
    # the live's short window would play the last seconds as if they were the start.
    recorded = state.settings.media_record and recording_finished(media_paths(state.settings), room.id)
    return page.render(
        "live/replay.html",
        room=room,
        hls_url=hls_url(state.settings, room.id) if recorded else "",
        events=[{"t": offset, "event": event} for offset, event in events],
        cards=await _cards(page, session, ever_pinned),
    )


@router.get("/live/{room_ref}/analytics")
async def analytics_page(room_ref: str, page: PageContext, session: Session, state: State) -> Response:
    room = await service.get_room(session, path_id(room_ref, "room"))
    products = await commerce.analytics_scope(session, room=room, actor=page.require_user())
    figures = await analytics.report(
        session,
        room_id=room.id,
        recorder=state.live.recorder if state.live else None,
        now=state.clock.now(),
        fx=await state.fx(),
        base=state.settings.base_currency,
        product_ids=products,
    )
    ids = [p["product_id"] for p in figures["products"] if 0 < p["product_id"] <= MAX_ID]
    titles: dict[int, ProductCard] = {c.id: c for c in await _cards(page, session, ids)}
    return page.render(
        "live/analytics.html",
        room=room,
        figures=figures,
        gmv=Money(figures["gmv"]["amount"], figures["gmv"]["currency"]),
        rows=[
            (p, titles.get(p["product_id"]), Money(p["gmv"]["amount"], p["gmv"]["currency"]))
            for p in figures["products"]
        ],
        chart={
            "labels": [
                titles[p["product_id"]].title if p["product_id"] in titles else str(p["product_id"])
                for p in figures["products"]
            ],
            "clicks": [p["clicks"] for p in figures["products"]],
            "orders": [p["orders"] for p in figures["products"]],
        },
    )
