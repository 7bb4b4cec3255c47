"""HTML routes for merchants: storefronts, the seller console's home and application form,
and the operators' review queue."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from passerelle.deps import Session, UnitOfWorkRoute
from passerelle.errors import DomainError
from passerelle.i18n.countries import country_names
from passerelle.merchants import service
from passerelle.merchants.models import Merchant, MerchantKind, MerchantStatus
from passerelle.web.context import Page, PageContext, form_list, form_text, page_guard, path_id
from passerelle.web.errors import error_text, form_field
from passerelle.web.listing import find_products
from passerelle.web.search_form import parse_filters

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])

APPLY_FIELDS = frozenset({"name", "kind", "country", "ships_to", "currency", "description"})
DECISIONS_SHOWN = 50


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/m/{slug}")
async def storefront(slug: str, page: PageContext, session: Session) -> Response:
    merchant = await service.get_public(session, slug_or_id=slug)
    filters = parse_filters(page.request.query_params, currency=page.locale.currency)
    results = await find_products(page, session, filters, merchant_id=merchant.id)
    ships_to = await service.ships_to(session, merchant_id=merchant.id)
    return page.render("merchants/storefront.html", merchant=merchant, results=results, ships_to=ships_to)


@router.get("/console")
async def console_home(page: PageContext, session: Session) -> Response:
    user = page.require_user()
    memberships = await service.merchants_of(session, user=user)
    return page.render("merchants/console_home.html", memberships=memberships)


def _apply_page(page: Page, *, values: dict[str, object], errors: dict[str, str], status: int = 200) -> Response:
    return page.render(
        "merchants/apply.html",
        status=status,
        values=values,
        errors=errors,
        kinds=[k.value for k in MerchantKind],
        countries=_chosen_first(country_names(page.locale.language), values.get("ships_to")),
    )


def _chosen_first(countries: list[tuple[str, str]], chosen: object) -> list[tuple[str, str]]:
    """Ticked countries at the top of the long checklist, so a person sees what is selected."""
    picked = set(chosen) if isinstance(chosen, list) else set()
    return [c for c in countries if c[0] in picked] + [c for c in countries if c[0] not in picked]


@router.get("/console/apply")
async def apply_form(page: PageContext) -> Response:
    user = page.require_user()
    values: dict[str, object] = {
        "name": "",
        "kind": MerchantKind.brand.value,
        "country": user.country,
        "ships_to": [user.country],
        "currency": page.locale.currency,
        "description": "",
    }
    return _apply_page(page, values=values, errors={})


@router.post("/console/apply")
async def apply(page: PageContext, session: Session) -> Response:
    user = page.require_user()
    form = await page.form()
    ships_to = [code.strip().upper() for code in form_list(form, "ships_to", max_length=2)]
    values: dict[str, object] = {
        "name": form_text(form, "name", max_length=120),
        "kind": form_text(form, "kind", max_length=20),
        "country": form_text(form, "country", max_length=2).upper(),
        "ships_to": ships_to,
        "currency": form_text(form, "currency", max_length=3).upper(),
        "description": form_text(form, "description", max_length=5000),
    }
    kind = MerchantKind.__members__.get(str(values["kind"]))
    if kind is None:
        message = page.gettext("Choose what kind of seller you are")
        return _apply_page(page, values=values, errors={"kind": message}, status=422)
    try:
        merchant = await service.apply(
            session,
            applicant=user,
            name=str(values["name"]),
            kind=kind,
            country=str(values["country"]),
            ships_to=ships_to,
            currency=str(values["currency"]),
            description=str(values["description"]),
        )
    except DomainError as error:
        errors = {form_field(error, APPLY_FIELDS): error_text(page.translations, error)}
        return _apply_page(page, values=values, errors=errors, status=error.status_code)
    return _see_other(f"/console/m/{merchant.id}?applied=1")


async def _review_page(page: Page, session: Session, *, error: str = "", status: int = 200) -> Response:
    pending, pending_total = await service.list_by_status(session, status=MerchantStatus.pending, limit=100)
    approved, _ = await service.list_by_status(session, status=MerchantStatus.approved, limit=DECISIONS_SHOWN)
    rejected, _ = await service.list_by_status(session, status=MerchantStatus.rejected, limit=DECISIONS_SHOWN)
    decided: list[Merchant] = sorted(
        approved + rejected, key=lambda m: (m.reviewed_at or m.created_at, m.id), reverse=True
    )[:DECISIONS_SHOWN]
    ships_to = {m.id: await service.ships_to(session, merchant_id=m.id) for m in pending}
    return page.render(
        "merchants/operator.html",
        status=status,
        pending=pending,
        pending_total=pending_total,
        decided=decided,
        ships_to=ships_to,
        error=error,
        done=page.request.query_params.get("done", ""),
    )


@router.get("/operator/merchants")
async def review_queue(page: PageContext, session: Session) -> Response:
    page.require_operator()
    return await _review_page(page, session)


@router.post("/operator/merchants/{merchant_ref}/review")
async def review(merchant_ref: str, page: PageContext, session: Session) -> Response:
    operator = page.require_operator()
    merchant_id = path_id(merchant_ref, "merchant")
    form = await page.form()
    decision = form_text(form, "decision", max_length=10)
    if decision not in ("approve", "reject"):
        return await _review_page(page, session, error=page.gettext("Choose approve or reject"), status=422)
    try:
        await service.review(
            session,
            operator=operator,
            merchant_id=merchant_id,
            approve=decision == "approve",
            note=form_text(form, "note", max_length=500),
        )
    except DomainError as error:
        if error.status_code == 404:
            raise
        return await _review_page(page, session, error=error_text(page.translations, error), status=error.status_code)
    return _see_other(f"/operator/merchants?done={decision}")
