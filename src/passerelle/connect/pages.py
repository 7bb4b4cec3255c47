"""HTML pages of the influencer program: apply, the creator's dashboard (links to copy, charts,
earnings), public creator pages, the merchant's and the operator's dashboards."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_percent
from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from passerelle.catalog.columns import product_title
from passerelle.catalog.models import Product, Sku
from passerelle.connect.features import CATEGORIES, category_labels
from passerelle.connect.matching import recommended_campaigns, recommended_creators
from passerelle.connect.models import Campaign, Link, SampleRequest
from passerelle.connect.operator_pages import router as operator_router
from passerelle.connect.service import campaigns, creators, fraud, links, payouts, samples, stats
from passerelle.connect.service.ledger import balances
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, NotFound
from passerelle.live.models import LiveRoom
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant
from passerelle.money import Money
from passerelle.web.context import Page, PageContext, form_list, form_text, page_guard, path_id
from passerelle.web.errors import error_text, form_field

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])

APPLY_FIELDS = frozenset({"handle", "display_name", "channels", "categories", "countries", "languages"})
NETWORKS = ("instagram", "tiktok", "youtube", "twitch", "blog", "x", "facebook", "other")


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def _number(raw: str) -> int:
    digits = raw.replace(" ", "").replace(",", "").replace(".", "")
    return int(digits) if digits.isdigit() and len(digits) < 12 else 0


def _apply_page(page: Page, *, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Response:
    return page.render(
        "connect/apply.html",
        status=status,
        values=values,
        errors=errors,
        networks=NETWORKS,
        category_labels=category_labels(page.translations),
    )


@router.get("/creators/apply")
async def apply_form(page: PageContext, session: Session) -> Response:
    user = page.require_user()
    if await creators.of_user(session, user_id=user.id) is not None:
        return _see_other("/connect")
    values = {"handle": "", "display_name": user.display_name, "network": "instagram", "url": "", "followers": "",
              "posts": "", "countries": user.country, "languages": user.language, "categories": []}  # fmt: skip
    return _apply_page(page, values=values, errors={})


@router.post("/creators/apply")
async def apply(page: PageContext, session: Session) -> Response:
    user = page.require_user()
    form = await page.form()
    values: dict[str, Any] = {
        "handle": form_text(form, "handle", max_length=40),
        "display_name": form_text(form, "display_name", max_length=80),
        "network": form_text(form, "network", max_length=20),
        "url": form_text(form, "url", max_length=200),
        "followers": form_text(form, "followers", max_length=14),
        "posts": form_text(form, "posts", max_length=10),
        "countries": form_text(form, "countries", max_length=100),
        "languages": form_text(form, "languages", max_length=60),
        "categories": form_list(form, "categories", max_items=10, max_length=30),
    }
    try:
        await creators.apply(
            session,
            user=user,
            handle=values["handle"],
            display_name=values["display_name"],
            channels=[{"network": values["network"], "url": values["url"], "followers": _number(values["followers"])}],
            posts=_number(values["posts"]),
            countries=[c.strip() for c in values["countries"].split(",") if len(c.strip()) == 2],
            languages=[x.strip() for x in values["languages"].split(",") if 2 <= len(x.strip()) <= 8],
            categories=values["categories"],
        )
    except DomainError as error:
        errors = {form_field(error, APPLY_FIELDS): error_text(page.translations, error)}
        return _apply_page(page, values=values, errors=errors, status=error.status_code)
    return _see_other("/connect?applied=1")


@router.get("/creators/{handle}")
async def public_page(handle: str, page: PageContext, session: Session) -> Response:
    creator = await creators.by_handle(session, handle=handle[:40])
    return page.render("connect/creator.html", creator=creator, category_labels=category_labels(page.translations))


@router.get("/connect")
async def dashboard(page: PageContext, session: Session, state: State) -> Response:
    user = page.require_user()
    creator = await creators.of_user(session, user_id=user.id)
    if creator is None:
        return _see_other("/creators/apply")
    data = None
    earnings: list[tuple[str, str]] = []
    if creator.status == "approved":
        data = await stats.creator(session, creator_id=creator.id, now=state.clock.now())
        lang = page.locale.language
        for status, by_currency in sorted(data["earnings"].items()):
            earnings += [(status, Money(a, cur).format(lang)) for cur, a in sorted(by_currency.items())]
        data["conversion_text"] = format_percent(data["conversion_bp"] / 10_000, "#,##0.00 %", locale=lang)
        for c in data["commissions"]:
            c["amount_text"] = Money(c["amount"], c["currency"]).format(lang)
    my_links = await links.links_of(session, creator_id=creator.id)
    suggested: list[tuple[Campaign, dict[str, Any]]] = []
    if creator.status == "approved":
        for match in await recommended_campaigns(session, creator=creator, limit=5):
            campaign = await session.get(Campaign, match.id)
            if campaign is not None:
                suggested.append((campaign, match.reasons))
    titles = await _link_names(session, my_links, page.locale.language)
    my_balances = await balances(session, creator_id=creator.id)
    threshold = state.settings.connect_payout_threshold
    return page.render(
        "connect/dashboard.html",
        creator=creator,
        data=data,
        earnings=earnings,
        suggested=suggested,
        category_labels=category_labels(page.translations),
        links=my_links,
        titles=titles,
        balances=my_balances,
        payable=sorted(cur for cur, owed in my_balances["owed"].items() if owed >= threshold),
        sample_campaigns=await samples.open_campaigns(session) if creator.status == "approved" else [],
        my_samples=await samples.of_creator(session, creator_id=creator.id),
        base_url=str(page.request.base_url).rstrip("/"),
        created=page.request.query_params.get("created", ""),
        applied=page.request.query_params.get("applied", ""),
        notice=page.request.query_params.get("notice", ""),
    )


async def _link_names(session: Session, my_links: list[Link], language: str) -> dict[tuple[str, int], str]:
    """What each link leads to, as a reader names it: the product's title in their
    language, the live room's title, the shop's name (the link's address otherwise)."""
    wanted: dict[str, set[int]] = {}
    for link in my_links:
        wanted.setdefault(link.target_kind, set()).add(link.target_id)
    names: dict[tuple[str, int], str] = {}
    if wanted.get("product"):
        rows = await session.execute(
            select(Product.id, product_title(language), Product.slug).where(Product.id.in_(wanted["product"]))
        )
        names.update((("product", pid), title or slug.replace("-", " ")) for pid, title, slug in rows.all())
    if wanted.get("room"):
        rooms = await session.execute(select(LiveRoom.id, LiveRoom.title).where(LiveRoom.id.in_(wanted["room"])))
        names.update((("room", rid), title) for rid, title in rooms.all())
    if wanted.get("store"):
        shops = await session.execute(select(Merchant.id, Merchant.name).where(Merchant.id.in_(wanted["store"])))
        names.update((("store", mid), name) for mid, name in shops.all())
    return names


@router.post("/connect/campaigns/{campaign_ref}/join")
async def join_campaign(campaign_ref: str, page: PageContext, session: Session, state: State) -> Response:
    creator = await creators.require_creator(session, user=page.require_user())
    await campaigns.join(session, creator=creator, campaign_id=path_id(campaign_ref, "campaign"), now=state.clock.now())
    return _see_other("/connect?joined=1")


@router.post("/connect/links")
async def make_link(page: PageContext, session: Session) -> Response:
    user = page.require_user()
    creator = await creators.require_creator(session, user=user)
    form = await page.form()
    kind = form_text(form, "target_kind", max_length=10)
    target = form_text(form, "target", max_length=300)
    # Accept a pasted product URL ("/p/42/..." or "https://.../p/42") as well as a bare id.
    tail = target.split("/p/", 1)[1] if "/p/" in target else target
    target_id = _number(tail.split("/", 1)[0].split("?", 1)[0])
    link = await links.create_link(session, creator=creator, target_kind=kind or "product", target_id=target_id)
    return _see_other(f"/connect?created={link.code}")


@router.post("/connect/samples/{campaign_ref}")
async def ask_sample(campaign_ref: str, page: PageContext, session: Session, state: State) -> Response:
    creator = await creators.require_creator(session, user=page.require_user())
    form = await page.form()
    address = {key: form_text(form, key, max_length=120) for key in samples.ADDRESS_FIELDS}
    await samples.request_sample(
        session,
        creator=creator,
        campaign_id=path_id(campaign_ref, "campaign"),
        address=address,
        note=form_text(form, "note", max_length=300),
        now=state.clock.now(),
    )
    return _see_other("/connect?notice=sample")


@router.post("/connect/payouts")
async def ask_payout(page: PageContext, session: Session, state: State) -> Response:
    creator = await creators.require_creator(session, user=page.require_user())
    form = await page.form()
    await payouts.request_payout(
        session,
        creator=creator,
        currency=form_text(form, "currency", max_length=3) or "EUR",
        threshold=state.settings.connect_payout_threshold,
        now=state.clock.now(),
    )
    return _see_other("/connect?notice=payout")


@router.get("/operator/creators")
async def operator_page(page: PageContext, session: Session) -> Response:
    page.require_operator()
    return page.render(
        "connect/operator.html",
        pending=await creators.pending(session),
        totals=await stats.operator(session),
        flags=await fraud.open_flags(session, limit=50),
        tiers=await creators.tier_rules(session),
        category_labels=category_labels(page.translations),
        done=page.request.query_params.get("done", ""),
    )


@router.post("/operator/creators/review")
async def operator_review(page: PageContext, session: Session) -> Response:
    page.require_operator()
    form = await page.form()
    ids = [path_id(v, "creator") for v in form_list(form, "creator_ids", max_items=1000, max_length=18)]
    decision = form_text(form, "decision", max_length=10)
    if decision not in ("approve", "reject"):
        raise DomainError("invalid_decision", "Choose approve or reject", status=422)
    moved = await creators.review(session, creator_ids=ids, approve=decision == "approve")
    return _see_other(f"/operator/creators?done={moved}")


@router.get("/console/m/{merchant_ref}/creators")
async def merchant_page(merchant_ref: str, page: PageContext, session: Session) -> Response:
    user = page.require_user()
    merchant_id = path_id(merchant_ref, "merchant")
    merchant = await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    data = await stats.merchant(session, merchant_id=merchant.id)
    lang = page.locale.language
    for row in data["gmv_by_creator"]:
        row["gmv_text"] = Money(row["gmv"], row["currency"]).format(lang)
        row["commission_text"] = Money(row["commission"], row["currency"]).format(lang)
    for row in data["gmv_by_room"]:
        row["gmv_text"] = Money(row["gmv"], row["currency"]).format(lang)
    skus = await session.execute(
        select(Sku.id, Sku.code).where(Sku.merchant_id == merchant.id).order_by(Sku.id.desc()).limit(200)
    )
    return page.render(
        "connect/merchant.html",
        merchant=merchant,
        data=data,
        campaigns=await campaigns.of_merchant(session, merchant_id=merchant.id),
        category_labels=category_labels(page.translations),
        skus=skus.all(),
        sample_requests=await samples.of_merchant(session, actor=user, merchant_id=merchant.id),
        created=page.request.query_params.get("created", ""),
        sample=page.request.query_params.get("sample", ""),
    )


@router.get("/console/m/{merchant_ref}/campaigns/{campaign_ref}/creators")
async def campaign_creators(
    merchant_ref: str, campaign_ref: str, page: PageContext, session: Session, state: State
) -> Response:
    """The creators to invite to a campaign, best fit first, and why each fits."""
    user = page.require_user()
    merchant = await merchants.require_staff(session, user=user, merchant_id=path_id(merchant_ref, "merchant"))
    campaign = await campaigns.owned(session, actor=user, campaign_id=path_id(campaign_ref, "campaign"))
    if campaign.merchant_id != merchant.id:
        raise NotFound("campaign")
    found = await recommended_creators(session, await state.connect.index(), campaign=campaign)
    return page.render(
        "connect/campaign_creators.html",
        merchant=merchant,
        campaign=campaign,
        matches=[(match, handle) for match, handle in found if handle],
        category_labels=category_labels(page.translations),
    )


@router.post("/console/m/{merchant_ref}/samples/{request_ref}/{decision}")
async def answer_sample(
    merchant_ref: str, request_ref: str, decision: str, page: PageContext, session: Session, state: State
) -> Response:
    user = page.require_user()
    merchant = await merchants.require_staff(session, user=user, merchant_id=path_id(merchant_ref, "merchant"))
    request_id = path_id(request_ref, "sample request")
    found = await session.get(SampleRequest, request_id)
    if found is None or found.merchant_id != merchant.id:
        raise NotFound("sample request")
    if decision == "approve":
        done = await samples.approve(session, actor=user, request_id=request_id, now=state.clock.now())
    elif decision == "decline":
        done = await samples.decline(session, actor=user, request_id=request_id, now=state.clock.now())
    else:
        raise DomainError("invalid_decision", "Choose approve or decline", status=422)
    return _see_other(f"/console/m/{merchant.id}/creators?sample={done.status}")


@router.post("/console/m/{merchant_ref}/campaigns")
async def create_campaign(merchant_ref: str, page: PageContext, session: Session) -> Response:
    user = page.require_user()
    merchant_id = path_id(merchant_ref, "merchant")
    form = await page.form()
    percent = form_text(form, "rate_percent", max_length=6).replace(",", ".")
    try:
        rate_bp = round(float(percent) * 100) if percent else 0
    except ValueError:
        rate_bp = -1  # refused below with the service's message
    kind = form_text(form, "kind", max_length=10) or "open"
    sample_sku = _number(form_text(form, "sample_sku_id", max_length=18))
    await campaigns.create(
        session,
        actor=user,
        merchant_id=merchant_id,
        kind=kind,
        title=form_text(form, "title", max_length=120),
        rate_bp=rate_bp,
        sample_sku_id=sample_sku or None,
        sample_stock=_number(form_text(form, "sample_stock", max_length=6)),
        sample_limit=max(1, _number(form_text(form, "sample_limit", max_length=3))),
        categories=[c for c in form_list(form, "categories", max_items=10, max_length=30) if c in CATEGORIES],
    )
    return _see_other(f"/console/m/{merchant_id}/creators?created=1")


# The operator's payout and fraud-review pages live apart (operator_pages.py), served with these.
router.include_router(operator_router)
