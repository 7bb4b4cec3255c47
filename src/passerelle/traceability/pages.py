"""The public page of a unit (what its QR code opens): when and where it was made, what it
is made of and where from, when it was shipped and delivered, and whether the signed
chain behind these facts verifies. Nothing about the buyer is shown."""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import Product, ProductTranslation, Sku
from passerelle.deps import Session, State, UnitOfWorkRoute
from passerelle.errors import DomainError
from passerelle.i18n.messages import N_
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant
from passerelle.traceability import service
from passerelle.traceability.models import ProductionBatch, Unit
from passerelle.traceability.verify import verify_serial
from passerelle.web.context import Page, PageContext, form_text, page_guard, path_id

router = APIRouter(include_in_schema=False, route_class=UnitOfWorkRoute, dependencies=[Depends(page_guard)])


async def _title(session: AsyncSession, product_id: int, language: str) -> str:
    """The product's title in the viewer's language, else in the one the merchant wrote."""
    product = await session.get(Product, product_id)
    rows = await session.execute(
        select(ProductTranslation.language, ProductTranslation.title).where(ProductTranslation.product_id == product_id)
    )
    texts = {lang: text for lang, text in rows.all()}
    return texts.get(language) or (texts.get(product.source_language, "") if product else "")


def _day(page: Page, at: datetime | None) -> str:
    return str(format_date(at, "long", locale=page.locale.language)) if at else ""


@router.get("/trace/{serial}")
async def unit_page(serial: str, page: PageContext, session: Session) -> Response:
    unit = await service.unit_by_serial(session, serial=serial[:64])
    chain = await service.records(session, unit_id=unit.id)
    verdict = await verify_serial(session, serial=unit.serial)
    facts: dict[str, Any] = {}
    for record in chain:
        facts.setdefault(record.kind, record)  # the first record of each kind
    made = facts.get("made")
    merchant = await session.get(Merchant, unit.merchant_id)
    sku = await session.get(Sku, unit.sku_id)
    title = await _title(session, sku.product_id, page.locale.language) if sku is not None else ""
    return page.render(
        "traceability/unit.html",
        serial=unit.serial,
        title=title,
        merchant=merchant,
        made=made.data if made else None,
        made_on=_day(page, made.occurred_at if made else None),
        shipped_on=_day(page, facts["shipped"].occurred_at if "shipped" in facts else None),
        delivered_on=_day(page, facts["delivered"].occurred_at if "delivered" in facts else None),
        valid=verdict.valid,
        records=len(chain),
    )


console_router = APIRouter(
    prefix="/console/m/{merchant_ref}",
    include_in_schema=False,
    route_class=UnitOfWorkRoute,
    dependencies=[Depends(page_guard)],
)
TRACE_ERRORS: dict[str, str] = {
    "invalid_factory": N_("Give the factory's name and city."),
    "invalid_line": N_("Give the line number."),
    "line_exists": N_("This factory already has a line with this number."),
    "invalid_period": N_("The batch must end after it starts."),
    "invalid_units": N_("Give between 1 and 10000 units."),
    "unknown_country": N_("Choose a country from the list"),
    "serial_taken": N_("One of these serial numbers already exists."),
}


async def _staff(page: Page, session: AsyncSession, merchant_ref: str) -> Merchant:
    user = page.require_user()
    return await merchants.require_staff(session, user=user, merchant_id=path_id(merchant_ref, "merchant"))


def _utc(value: str) -> datetime | None:
    """A `datetime-local` field, read as UTC (the page says so)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _materials(text: str) -> list[service.Material]:
    """One "material: country code" per line."""
    found = []
    for line in text.splitlines()[:50]:
        material, _, origin = line.partition(":")
        if material.strip() and origin.strip():
            found.append(service.Material(material.strip(), origin.strip().upper()))
    return found


async def _console(
    page: Page, session: AsyncSession, merchant: Merchant, *, error: str = "", status: int = 200
) -> Response:
    skus = await session.execute(
        select(Sku.id, Sku.code)
        .join(Product, Product.id == Sku.product_id)
        .where(Product.merchant_id == merchant.id)
        .order_by(Sku.code)
    )
    batches = list(
        (
            await session.execute(
                select(ProductionBatch)
                .where(ProductionBatch.merchant_id == merchant.id)
                .order_by(ProductionBatch.id.desc())
                .limit(10)
            )
        ).scalars()
    )
    serials: dict[int, list[str]] = {b.id: [] for b in batches}
    if batches:
        rows = await session.execute(
            select(Unit.batch_id, Unit.serial).where(Unit.batch_id.in_(list(serials))).order_by(Unit.id).limit(500)
        )
        for batch_id, serial in rows.all():
            serials[batch_id].append(serial)
    return page.render(
        "traceability/console.html",
        status=status,
        merchant=merchant,
        factories=await service.factories(session, merchant_id=merchant.id),
        skus=skus.all(),
        batches=[(b, serials[b.id]) for b in batches],
        error=error,
        done=page.request.query_params.get("done", ""),
    )


@console_router.get("/traceability")
async def traceability_console(merchant_ref: str, page: PageContext, session: Session) -> Response:
    return await _console(page, session, await _staff(page, session, merchant_ref))


async def _attempt(
    page: Page, session: AsyncSession, merchant: Merchant, work: Awaitable[object], done: str
) -> Response:
    merchant_id = merchant.id
    try:
        async with session.begin_nested():
            await work
    except DomainError as refused:
        if refused.status_code in (401, 404):
            raise
        message = page.gettext(TRACE_ERRORS.get(refused.code, N_("That did not work")))
        fresh = await merchants.get(session, merchant_id=merchant_id)
        return await _console(page, session, fresh, error=message, status=refused.status_code)
    return RedirectResponse(f"/console/m/{merchant_id}/traceability?done={done}", status_code=303)


@console_router.post("/traceability/factories")
async def add_factory(merchant_ref: str, page: PageContext, session: Session) -> Response:
    merchant = await _staff(page, session, merchant_ref)
    form = await page.form()
    work = service.add_factory(
        session,
        merchant_id=merchant.id,
        name=form_text(form, "name", max_length=120),
        city=form_text(form, "city", max_length=120),
        country=form_text(form, "country", max_length=2).upper(),
    )
    return await _attempt(page, session, merchant, work, "factory")


@console_router.post("/traceability/factories/{factory_ref}/lines")
async def add_line(merchant_ref: str, factory_ref: str, page: PageContext, session: Session) -> Response:
    merchant = await _staff(page, session, merchant_ref)
    form = await page.form()
    work = service.add_line(
        session,
        merchant_id=merchant.id,
        factory_id=path_id(factory_ref, "factory"),
        number=form_text(form, "number", max_length=20),
    )
    return await _attempt(page, session, merchant, work, "line")


@console_router.post("/traceability/batches")
async def record_batch(merchant_ref: str, page: PageContext, session: Session, state: State) -> Response:
    merchant = await _staff(page, session, merchant_ref)
    form = await page.form()
    factory_ref, _, line_ref = form_text(form, "line", max_length=40).partition(":")
    started, ended = (
        _utc(form_text(form, "started_at", max_length=40)),
        _utc(form_text(form, "ended_at", max_length=40)),
    )
    count = form_text(form, "unit_count", max_length=6)
    sku_ref = form_text(form, "sku_id", max_length=18)
    if not (factory_ref.isdigit() and line_ref.isdigit() and sku_ref.isdigit()) or started is None or ended is None:
        return await _console(
            page, session, merchant, error=page.gettext("Fill in every field of the batch."), status=422
        )
    work = service.record_batch(
        session,
        merchant_id=merchant.id,
        sku_id=int(sku_ref),
        factory_id=int(factory_ref),
        line_id=int(line_ref),
        started_at=started,
        ended_at=ended,
        materials=_materials(form_text(form, "materials", max_length=3000)),
        unit_count=int(count) if count.isdigit() else 0,
        secret=state.settings.resolved_secret_key,
    )
    return await _attempt(page, session, merchant, work, "batch")
