"""The public page of a unit (what its QR code opens): when and where it was made, what it
is made of and where from, when it was shipped and delivered, and whether the signed
chain behind these facts verifies. Nothing about the buyer is shown."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from babel.dates import format_date
from fastapi import APIRouter, Depends
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import Product, ProductTranslation, Sku
from passerelle.deps import Session, UnitOfWorkRoute
from passerelle.merchants.models import Merchant
from passerelle.traceability import service
from passerelle.traceability.verify import verify_serial
from passerelle.web.context import Page, PageContext, page_guard

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
