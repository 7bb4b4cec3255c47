"""HTML pages of the influencer program: apply, the creator's dashboard (links to copy, charts,
earnings), public creator pages, the merchant's and the operator's dashboards."""

from __future__ import annotations

from typing import Any

from babel.numbers import format_percent
from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from passerelle.accounts.models import Role, User
from passerelle.catalog.models import Product
from passerelle.connect.features import CATEGORIES
from passerelle.connect.matching import recommended_campaigns
from passerelle.connect.models import Campaign
from passerelle.connect.service import campaigns, creators, fraud, links, stats
from passerelle.connect.service.ledger import balances
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, Forbidden
from passerelle.merchants import service as merchants
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
        "connect/apply.html", status=status, values=values, errors=errors, networks=NETWORKS, categories=CATEGORIES
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
    return page.render("connect/creator.html", creator=creator)


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
    titles = await _titles(session, [link.target_id for link in my_links if link.target_kind == "product"])
    return page.render(
        "connect/dashboard.html",
        creator=creator,
        data=data,
        earnings=earnings,
        suggested=suggested,
        links=my_links,
        titles=titles,
        balances=await balances(session, creator_id=creator.id),
        base_url=str(page.request.base_url).rstrip("/"),
        created=page.request.query_params.get("created", ""),
        applied=page.request.query_params.get("applied", ""),
    )


async def _titles(session: Session, product_ids: list[int]) -> dict[int, str]:
    if not product_ids:
        return {}
    rows = await session.execute(select(Product.id, Product.slug).where(Product.id.in_(product_ids)))
    return {pid: slug.replace("-", " ") for pid, slug in rows.all()}


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


def _require_operator(page: Page) -> User:
    user = page.require_user()
    if user.role != Role.operator:
        raise Forbidden("Operators only")
    return user


@router.get("/operator/creators")
async def operator_page(page: PageContext, session: Session) -> Response:
    _require_operator(page)
    return page.render(
        "connect/operator.html",
        pending=await creators.pending(session),
        totals=await stats.operator(session),
        flags=await fraud.open_flags(session, limit=50),
        tiers=await creators.tier_rules(session),
        done=page.request.query_params.get("done", ""),
    )


@router.post("/operator/creators/review")
async def operator_review(page: PageContext, session: Session) -> Response:
    _require_operator(page)
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
    return page.render(
        "connect/merchant.html",
        merchant=merchant,
        data=data,
        campaigns=await campaigns.of_merchant(session, merchant_id=merchant.id),
        categories=CATEGORIES,
        created=page.request.query_params.get("created", ""),
    )


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
    await campaigns.create(
        session,
        actor=user,
        merchant_id=merchant_id,
        kind=form_text(form, "kind", max_length=10) or "open",
        title=form_text(form, "title", max_length=120),
        rate_bp=rate_bp,
        categories=[c for c in form_list(form, "categories", max_items=10, max_length=30) if c in CATEGORIES],
    )
    return _see_other(f"/console/m/{merchant_id}/creators?created=1")
