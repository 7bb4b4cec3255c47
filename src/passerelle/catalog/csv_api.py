"""JSON routes for catalog CSV: a merchant's staff download and upload the whole catalog."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Path, Query, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from passerelle.catalog import csv_io
from passerelle.deps import CurrentUser, Session, UnitOfWorkRoute
from passerelle.errors import Invalid
from passerelle.merchants import service as merchants

router = APIRouter(tags=["catalog"], route_class=UnitOfWorkRoute)

# Bounded so an absurd id is a 422, not a database integer overflow.
MerchantId = Annotated[int, Path(ge=1, le=2**62)]


class RowErrorOut(BaseModel):
    line: int
    field: str | None
    code: str
    message: str


class ImportReportOut(BaseModel):
    created: int
    updated: int
    errors: list[RowErrorOut]


class RejectedImportOut(ImportReportOut):
    code: str
    message: str


@router.get(
    "/me/merchants/{merchant_id}/catalog.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The catalog, one row per SKU"}},
)
async def export_catalog(
    merchant_id: MerchantId,
    user: CurrentUser,
    session: Session,
    excel: Annotated[bool, Query(description="French Excel flavour: `;`, decimal comma, BOM")] = False,
) -> Response:
    merchant = await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    text = await csv_io.export_catalog(session, merchant_id=merchant.id, excel=excel)
    return Response(
        content=text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="catalogue-{merchant.slug}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/me/merchants/{merchant_id}/catalog.csv",
    response_model=ImportReportOut,
    responses={422: {"model": RejectedImportOut, "description": "Nothing imported; every bad row listed"}},
)
async def import_catalog(
    merchant_id: MerchantId,
    user: CurrentUser,
    session: Session,
    file: Annotated[UploadFile, File(description="UTF-8 CSV, `,` or `;` delimited")],
) -> ImportReportOut:
    merchant = await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    # One byte over the limit is enough for the import to say the file is too large.
    data = await file.read(csv_io.MAX_FILE_BYTES + 1)
    report = await csv_io.import_catalog(session, merchant=merchant, data=data)
    if report.errors:
        raise Invalid(
            "invalid_csv",
            "Nothing was imported: fix the problems listed (by CSV line) and import again",
            extra={"created": 0, "updated": 0, "errors": [e.as_dict() for e in report.errors]},
        )
    return ImportReportOut(created=report.created, updated=report.updated, errors=[])
