"""HTML routes for the catalog: home, search and categories, product pages, and the
merchant console's catalog pages (`console_router`, every route scoped to one merchant).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog import csv_io, views
from passerelle.catalog import service as catalog
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.catalog.schemas import ProductCard
from passerelle.config import Settings
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError, Invalid, NotFound
from passerelle.i18n.countries import country_names
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant, MerchantKind
from passerelle.search.service import Sort
from passerelle.web.categories import CategoryOption, category_tree
from passerelle.web.context import (
    Page,
    PageContext,
    form_file,
    form_text,
    page_guard,
    path_id,
    safe_next,
)
from passerelle.web.errors import error_text
from passerelle.web.listing import find_products
from passerelle.web.paging import paginate
from passerelle.web.product_form import (
    BAD_STOCK,
    FORM_LANGUAGES,
    ProductForm,
    read_form,
    service_error_field,
    to_product_in,
)
from passerelle.web.search_form import SearchFilters, parse_filters
from passerelle.web.variants import OPTION_PREFIX, choose_sku, option_groups

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])

HOME_PRODUCTS = 12
SHIPS_TO_SHOWN = 12
MAX_STOCK = 10**9


def _see_other(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def page_settings(page: Page) -> Settings:
    settings: Settings = page.request.app.state.passerelle.settings
    return settings


async def _categories(page: Page, session: AsyncSession) -> list[CategoryOption]:
    return category_tree(await catalog.list_categories(session), page.locale.language)


@router.get("/")
async def home(page: PageContext, session: Session, state: State) -> Response:
    # Imported here: the festival pages import catalog modules, never the other way round.
    from passerelle.festival.pages import festival_banner

    categories = [c for c in await _categories(page, session) if c.depth == 0]
    newest = SearchFilters(sort=Sort.newest.value)
    results = await find_products(page, session, newest, per_page=HOME_PRODUCTS)
    return page.render(
        "catalog/home.html",
        categories=categories,
        cards=results.cards,
        festival_banner=await festival_banner(session, state),
    )


async def _search_page(page: Page, session: AsyncSession, *, category: CategoryOption | None) -> Response:
    filters = parse_filters(page.request.query_params, currency=page.locale.currency)
    categories = await _categories(page, session)
    if category is None and filters.category:
        category = next((c for c in categories if c.slug == filters.category), None)
    filters.category = category.slug if category else ""
    results = await find_products(page, session, filters, category_id=category.id if category else None)
    errors = {name: page.gettext(message) for name, message in filters.errors.items()}
    values: dict[str, Any] = {
        "filters": filters,
        "errors": errors,
        "category": category,
        "categories": categories,
        "results": results,
        "countries": country_names(page.locale.language),
        "sorts": [s.value for s in Sort],
    }
    status = 422 if errors else 200
    if page.is_htmx:
        return page.render("catalog/_results.html", status=status, **values)
    return page.render("catalog/search.html", status=status, **values)


@router.get("/search")
async def search_page(page: PageContext, session: Session) -> Response:
    return await _search_page(page, session, category=None)


@router.get("/c/{slug}")
async def category_page(slug: str, page: PageContext, session: Session) -> Response:
    category = next((c for c in await _categories(page, session) if c.slug == slug), None)
    if category is None:
        raise NotFound("category")
    return await _search_page(page, session, category=category)


@router.get("/p/{product_ref}")
@router.get("/p/{product_ref}/{slug}")
async def product_page(product_ref: str, page: PageContext, session: Session) -> Response:
    product_id = path_id(product_ref, "product")
    locale = page.locale
    staff_of = [m.id for m, _ in await merchants.merchants_of(session, user=page.user)] if page.user else []
    product = await views.detail(
        session,
        product_id=product_id,
        language=locale.language,
        currency=locale.currency,
        fx=locale.fx,
        staff_merchant_ids=staff_of,
    )
    row = await session.get(Product, product_id)
    merchant = await merchants.get(session, merchant_id=product.merchant.id)
    ships_to = await merchants.ships_to(session, merchant_id=merchant.id)
    categories = await _categories(page, session)
    category = next((c for c in categories if row is not None and c.id == row.category_id), None)
    params = dict(page.request.query_params)
    selected = choose_sku(product.skus, params)
    viewer_country = page.viewer.country if page.viewer else None
    return page.render(
        "catalog/product.html",
        product=product,
        slug=row.slug if row else "",
        merchant=merchant,
        category=category,
        parent_category=next((c for c in categories if category and c.id == category.parent_id), None),
        groups=option_groups(product.skus),
        selected=selected,
        option_prefix=OPTION_PREFIX,
        ships_to=ships_to,
        ships_to_shown=SHIPS_TO_SHOWN,
        viewer_country=viewer_country,
        is_staff=merchant.id in staff_of,
        is_public=product.status == "published" and merchant.status.value == "approved",
    )


# --- Merchant console: every route is scoped to one merchant the user works for. ---------

console_router = APIRouter(
    prefix="/console/m/{merchant_ref}",
    include_in_schema=False,
    route_class=UnitOfWorkRoute,
    dependencies=[Depends(page_guard)],
)
CONSOLE_PER_PAGE = 50
PUBLISH_STATES = {s.value: s for s in ProductStatus}


@dataclass(frozen=True)
class ConsoleRow:
    card: ProductCard
    status: str
    skus: list[Sku]


async def _staff_merchant(page: Page, session: AsyncSession, merchant_ref: str) -> tuple[User, Merchant]:
    """The signed-in user and the merchant of the URL; 404 unless they work for it."""
    user = page.require_user()
    merchant_id = path_id(merchant_ref, "merchant")
    return user, await merchants.require_staff(session, user=user, merchant_id=merchant_id)


async def _merchant_product(session: AsyncSession, merchant: Merchant, product_ref: str) -> Product:
    product = await session.get(Product, path_id(product_ref, "product"))
    if product is None or product.merchant_id != merchant.id:
        raise NotFound("product")
    return product


async def _console_rows(
    page: Page, session: AsyncSession, merchant: Merchant, page_number: int
) -> tuple[list[ConsoleRow], int]:
    ids, total = await catalog.merchant_product_ids(
        session, merchant_id=merchant.id, status=None, page=page_number, per_page=CONSOLE_PER_PAGE
    )
    # The console shows the merchant's own prices, not the viewer's display currency.
    cards = await views.cards(
        session, product_ids=ids, language=page.locale.language, currency=merchant.currency, fx=page.locale.fx
    )
    rows_of_status = await session.execute(select(Product.id, Product.status).where(Product.id.in_(ids)))
    statuses = {product_id: status for product_id, status in rows_of_status.all()}
    skus: dict[int, list[Sku]] = {}
    for sku in (
        await session.execute(select(Sku).where(Sku.product_id.in_(ids)).order_by(Sku.position, Sku.id))
    ).scalars():
        skus.setdefault(sku.product_id, []).append(sku)
    rows = [ConsoleRow(card, statuses[card.id].value, skus.get(card.id, [])) for card in cards]
    return rows, total


async def _console_page(
    page: Page,
    session: AsyncSession,
    merchant: Merchant,
    *,
    report: csv_io.ImportReport | None = None,
    upload_error: str = "",
    status: int = 200,
) -> Response:
    raw_page = page.request.query_params.get("page", "1")
    page_number = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= 10_000 else 1
    rows, total = await _console_rows(page, session, merchant, page_number)
    pages = paginate(
        path=page.request.url.path,
        params=[(k, v) for k, v in page.request.query_params.multi_items() if k == "page"],
        total=total,
        page=page_number,
        per_page=CONSOLE_PER_PAGE,
    )
    params = page.request.query_params
    return page.render(
        "catalog/console_products.html",
        status=status,
        merchant=merchant,
        rows=rows,
        total=total,
        pages=pages,
        report=report,
        upload_error=upload_error,
        notice={k: params.get(k, "") for k in ("applied", "imported", "updated", "created")},
        max_csv_megabytes=csv_io.MAX_FILE_BYTES // (1024 * 1024),
    )


@console_router.get("")
async def console_products(merchant_ref: str, page: PageContext, session: Session) -> Response:
    _user, merchant = await _staff_merchant(page, session, merchant_ref)
    return await _console_page(page, session, merchant)


def _product_form_page(
    page: Page, merchant: Merchant, form: ProductForm, categories: list[CategoryOption], *, status: int = 200
) -> Response:
    return page.render(
        "catalog/console_product_form.html",
        status=status,
        merchant=merchant,
        form=form,
        errors={key: page.gettext(message) for key, message in form.errors.items()},
        categories=categories,
        wholesale=merchant.kind == MerchantKind.wholesale,
        form_languages=FORM_LANGUAGES,
    )


@console_router.get("/products/new")
async def new_product_form(merchant_ref: str, page: PageContext, session: Session) -> Response:
    _user, merchant = await _staff_merchant(page, session, merchant_ref)
    return _product_form_page(page, merchant, ProductForm(), await _categories(page, session))


@console_router.post("/products/new")
async def create_product(merchant_ref: str, page: PageContext, session: Session) -> Response:
    user, merchant = await _staff_merchant(page, session, merchant_ref)
    form = read_form(await page.form())
    wholesale = merchant.kind == MerchantKind.wholesale
    data = to_product_in(form, currency=merchant.currency, wholesale=wholesale)
    if data is not None:
        try:
            product = await catalog.create_product(session, actor=user, merchant_id=merchant.id, data=data)
        except DomainError as error:
            form.errors[service_error_field(error, form)] = error_text(page.translations, error)
        else:
            return _see_other(f"/console/m/{merchant.id}/products/{product.id}?created=1")
    # Already-translated service messages pass through gettext unchanged.
    return _product_form_page(page, merchant, form, await _categories(page, session), status=422)


async def _manage_page(
    page: Page,
    session: AsyncSession,
    merchant: Merchant,
    product: Product,
    *,
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    detail = await views.detail(
        session,
        product_id=product.id,
        language=page.locale.language,
        currency=merchant.currency,
        fx=page.locale.fx,
        staff_merchant_ids=[merchant.id],
    )
    skus = list(
        (
            await session.execute(select(Sku).where(Sku.product_id == product.id).order_by(Sku.position, Sku.id))
        ).scalars()
    )
    return page.render(
        "catalog/console_product.html",
        status=status,
        merchant=merchant,
        product=detail,
        slug=product.slug,
        skus=skus,
        errors=errors,
        notice={k: page.request.query_params.get(k, "") for k in ("created", "uploaded")},
        max_image_megabytes=page_settings(page).max_upload_bytes // (1024 * 1024),
    )


@console_router.get("/products/{product_ref}")
async def manage_product(merchant_ref: str, product_ref: str, page: PageContext, session: Session) -> Response:
    _user, merchant = await _staff_merchant(page, session, merchant_ref)
    product = await _merchant_product(session, merchant, product_ref)
    return await _manage_page(page, session, merchant, product, errors={})


@console_router.post("/products/{product_ref}/status")
async def change_status(merchant_ref: str, product_ref: str, page: PageContext, session: Session) -> Response:
    user, merchant = await _staff_merchant(page, session, merchant_ref)
    product = await _merchant_product(session, merchant, product_ref)
    form = await page.form()
    wanted = PUBLISH_STATES.get(form_text(form, "status", max_length=20))
    if wanted is None:
        raise Invalid("invalid_status", "Choose draft, published or archived", field="status")
    await catalog.set_status(session, actor=user, product_id=product.id, status=wanted)
    return _see_other(safe_next(form_text(form, "next"), f"/console/m/{merchant.id}"))


@console_router.post("/skus/{sku_ref}/stock")
async def change_stock(merchant_ref: str, sku_ref: str, page: PageContext, session: Session) -> Response:
    user, merchant = await _staff_merchant(page, session, merchant_ref)
    sku = await session.get(Sku, path_id(sku_ref, "sku"))
    if sku is None or sku.merchant_id != merchant.id:
        raise NotFound("sku")
    form = await page.form()
    raw = form_text(form, "stock", max_length=10)
    error = "" if raw.isdigit() and int(raw) <= MAX_STOCK else page.gettext(BAD_STOCK)
    if not error:
        sku = await catalog.set_stock(session, actor=user, sku_id=sku.id, stock=int(raw))
    if page.is_htmx:
        return page.render(
            "catalog/_stock_form.html",
            status=422 if error else 200,
            merchant=merchant,
            sku=sku,
            value=raw if error else str(sku.stock),
            stock_error=error,
            saved=not error,
        )
    if error:
        raise Invalid("invalid_stock", "Enter a whole number, 0 or more", field="stock")
    return _see_other(safe_next(form_text(form, "next"), f"/console/m/{merchant.id}"))


@console_router.post("/products/{product_ref}/images")
async def upload_image(
    merchant_ref: str, product_ref: str, page: PageContext, session: Session, state: State
) -> Response:
    user, merchant = await _staff_merchant(page, session, merchant_ref)
    product = await _merchant_product(session, merchant, product_ref)
    form = await page.form()
    upload = form_file(form, "file")
    limit = state.settings.max_upload_bytes
    message = ""
    if upload is None:
        message = page.gettext("Choose an image file")
    else:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            message = page.gettext("Images are limited to %(megabytes)s MB", megabytes=limit // (1024 * 1024))
        else:
            try:
                await catalog.add_image(
                    session,
                    actor=user,
                    product_id=product.id,
                    data=data,
                    storage=state.storage,
                    alt=form_text(form, "alt", max_length=200),
                )
            except DomainError as error:
                message = error_text(page.translations, error)
    if message:
        return await _manage_page(page, session, merchant, product, errors={"file": message}, status=422)
    return _see_other(f"/console/m/{merchant.id}/products/{product.id}?uploaded=1")


@console_router.post("/import")
async def import_csv(merchant_ref: str, page: PageContext, session: Session) -> Response:
    _user, merchant = await _staff_merchant(page, session, merchant_ref)
    form = await page.form()
    upload = form_file(form, "file")
    if upload is None:
        return await _console_page(page, session, merchant, upload_error=page.gettext("Choose a CSV file"), status=422)
    data = await upload.read(csv_io.MAX_FILE_BYTES + 1)
    if len(data) > csv_io.MAX_FILE_BYTES:
        message = page.gettext(
            "CSV files are limited to %(megabytes)s MB", megabytes=csv_io.MAX_FILE_BYTES // (1024 * 1024)
        )
        return await _console_page(page, session, merchant, upload_error=message, status=422)
    report = await csv_io.import_catalog(session, merchant=merchant, data=data)
    if report.errors:
        return await _console_page(page, session, merchant, report=report, status=422)
    return _see_other(f"/console/m/{merchant.id}?imported={report.created}&updated={report.updated}")


@console_router.get("/export.csv")
async def export_csv(merchant_ref: str, page: PageContext, session: Session) -> Response:
    _user, merchant = await _staff_merchant(page, session, merchant_ref)
    excel = page.request.query_params.get("excel") == "1"
    text = await csv_io.export_catalog(session, merchant_id=merchant.id, excel=excel)
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="catalog-{merchant.slug}.csv"',
            "Cache-Control": "no-store",
        },
    )
