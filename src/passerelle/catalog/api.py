"""JSON routes for the catalog: public search and product pages, merchant-side management."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Query, UploadFile

from passerelle.catalog import service, views
from passerelle.catalog.models import ProductStatus
from passerelle.catalog.schemas import (
    CategoryOut,
    ImageOut,
    ProductDetail,
    ProductIn,
    ProductList,
    SkuOut,
    StatusIn,
    StockIn,
)
from passerelle.deps import CurrentUser, OptionalUser, RequestLocale, Session, State, UnitOfWorkRoute
from passerelle.errors import Invalid
from passerelle.http import PathId
from passerelle.i18n.countries import check_country
from passerelle.merchants import service as merchants
from passerelle.merchants.models import MerchantKind
from passerelle.search import service as search
from passerelle.search.service import SearchQuery, Sort

router = APIRouter(tags=["catalog"], route_class=UnitOfWorkRoute)

Text = Annotated[str, Query(max_length=200, description="Words to find, in the `lang` language")]


@router.get("/products", response_model=ProductList)
async def list_products(
    session: Session,
    locale: RequestLocale,
    q: Text = "",
    lang: Annotated[
        str | None, Query(max_length=5, description="Content language (fr, en, es, de, it, zh, ru)")
    ] = None,
    currency: Annotated[str | None, Query(max_length=3, description="Display currency (ISO 4217)")] = None,
    category: Annotated[str | None, Query(max_length=80, description="Category slug")] = None,
    merchant: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    kind: MerchantKind | None = None,
    ships_to: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
    min_price: Annotated[int | None, Query(ge=0, le=10**12, description="Minor units of `currency`")] = None,
    max_price: Annotated[int | None, Query(ge=0, le=10**12)] = None,
    sort: Sort = Sort.relevance,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 24,
) -> ProductList:
    category_id = (await service.category_by_slug(session, slug=category)).id if category else None
    query = SearchQuery(
        text=q,
        language=locale.language,
        category_id=category_id,
        merchant_id=merchant,
        merchant_kind=kind,
        ships_to=check_country(ships_to, field="ships_to") if ships_to else None,
        min_price=min_price,
        max_price=max_price,
        currency=locale.currency,
        sort=sort,
        page=page,
        per_page=per_page,
    )
    found = await search.search(session, query=query, fx=locale.fx)
    items = await views.cards(
        session, product_ids=found.product_ids, language=locale.language, currency=locale.currency, fx=locale.fx
    )
    return ProductList(items=items, total=found.total, page=page, per_page=per_page)


@router.get("/products/{product_id}", response_model=ProductDetail)
async def get_product(product_id: PathId, session: Session, locale: RequestLocale, user: OptionalUser) -> ProductDetail:
    staff_of = [m.id for m, _ in await merchants.merchants_of(session, user=user)] if user else []
    return await views.detail(
        session,
        product_id=product_id,
        language=locale.language,
        currency=locale.currency,
        fx=locale.fx,
        staff_merchant_ids=staff_of,
    )


@router.get("/categories", response_model=list[CategoryOut])
async def categories(session: Session, locale: RequestLocale) -> list[CategoryOut]:
    return [
        CategoryOut(
            id=c.id,
            slug=c.slug,
            name=c.names.get(locale.language) or c.names.get("en") or c.slug,
            parent_id=c.parent_id,
        )
        for c in await service.list_categories(session)
    ]


@router.get("/me/merchants/{merchant_id}/products", response_model=ProductList)
async def merchant_products(
    merchant_id: PathId,
    user: CurrentUser,
    session: Session,
    locale: RequestLocale,
    status: ProductStatus | None = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=100)] = 50,
) -> ProductList:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    ids, total = await service.merchant_product_ids(
        session, merchant_id=merchant_id, status=status, page=page, per_page=per_page
    )
    items = await views.cards(
        session, product_ids=ids, language=locale.language, currency=locale.currency, fx=locale.fx
    )
    return ProductList(items=items, total=total, page=page, per_page=per_page)


@router.post("/me/merchants/{merchant_id}/products", status_code=201, response_model=ProductDetail)
async def create_product(
    merchant_id: PathId, body: ProductIn, user: CurrentUser, session: Session, locale: RequestLocale
) -> ProductDetail:
    product = await service.create_product(session, actor=user, merchant_id=merchant_id, data=body)
    return await _staff_detail(session, product.id, product.merchant_id, locale)


@router.put("/me/products/{product_id}", response_model=ProductDetail)
async def update_product(
    product_id: PathId, body: ProductIn, user: CurrentUser, session: Session, locale: RequestLocale
) -> ProductDetail:
    product = await service.update_product(session, actor=user, product_id=product_id, data=body)
    return await _staff_detail(session, product.id, product.merchant_id, locale)


@router.patch("/me/products/{product_id}/status", response_model=ProductDetail)
async def set_status(
    product_id: PathId, body: StatusIn, user: CurrentUser, session: Session, locale: RequestLocale
) -> ProductDetail:
    product = await service.set_status(session, actor=user, product_id=product_id, status=body.status)
    return await _staff_detail(session, product.id, product.merchant_id, locale)


@router.get("/me/products/{product_id}", response_model=ProductDetail)
async def staff_product(
    product_id: PathId, user: CurrentUser, session: Session, locale: RequestLocale
) -> ProductDetail:
    product = await service.product_of_staff(session, actor=user, product_id=product_id)
    return await _staff_detail(session, product.id, product.merchant_id, locale)


@router.put("/me/skus/{sku_id}/stock", response_model=SkuOut)
async def set_stock(
    sku_id: PathId, body: StockIn, user: CurrentUser, session: Session, locale: RequestLocale
) -> SkuOut:
    sku = await service.set_stock(session, actor=user, sku_id=sku_id, stock=body.stock)
    detail = await _staff_detail(session, sku.product_id, sku.merchant_id, locale)
    return next(s for s in detail.skus if s.id == sku.id)


@router.post("/me/products/{product_id}/images", status_code=201, response_model=ImageOut)
async def upload_image(
    product_id: PathId,
    user: CurrentUser,
    session: Session,
    state: State,
    file: UploadFile = File(...),
    alt: Annotated[str, Form(max_length=200)] = "",
) -> ImageOut:
    data = await file.read(state.settings.max_upload_bytes + 1)
    if len(data) > state.settings.max_upload_bytes:
        raise Invalid("file_too_large", "Images are limited to 5 MB", field="file")
    image = await service.add_image(
        session, actor=user, product_id=product_id, data=data, storage=state.storage, alt=alt
    )
    return ImageOut(
        id=image.id, url=views.media_url(image.storage_key), width=image.width, height=image.height, alt=image.alt
    )


async def _staff_detail(
    session: Session, product_id: PathId, merchant_id: PathId, locale: RequestLocale
) -> ProductDetail:
    return await views.detail(
        session,
        product_id=product_id,
        language=locale.language,
        currency=locale.currency,
        fx=locale.fx,
        staff_merchant_ids=[merchant_id],
    )
