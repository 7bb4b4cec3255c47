"""JSON routes for reference data: countries, currencies, FX rates (import by operators)."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel

from passerelle.deps import Operator, RequestLocale, Session, State, UnitOfWorkRoute
from passerelle.errors import Invalid
from passerelle.i18n import fx
from passerelle.i18n.countries import country_names

router = APIRouter(tags=["reference"], route_class=UnitOfWorkRoute)


class FxOut(BaseModel):
    base: str
    rates: dict[str, str]


class FxImportOut(BaseModel):
    as_of: date
    currencies: int


class CountryOut(BaseModel):
    code: str
    name: str


@router.get("/fx", response_model=FxOut)
async def rates(locale: RequestLocale) -> FxOut:
    return FxOut(base=locale.fx.base, rates={c: str(r) for c, r in sorted(locale.fx.rates.items())})


@router.post("/operator/fx", response_model=FxImportOut)
async def import_fx(
    operator: Operator, session: Session, state: State, file: Annotated[UploadFile, File(description="ECB CSV")]
) -> FxImportOut:
    raw = await file.read(1_000_001)
    if len(raw) > 1_000_000:
        raise Invalid("file_too_large", "FX files are limited to 1 MB", field="file")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("invalid_encoding", "The file must be UTF-8", field="file") from None
    as_of, parsed = fx.parse_ecb_csv(text)
    count = await fx.import_rates(session, as_of=as_of, rates=parsed, base=state.settings.base_currency)
    state.invalidate_fx()
    return FxImportOut(as_of=as_of, currencies=count)


@router.get("/countries", response_model=list[CountryOut])
async def countries(locale: RequestLocale) -> list[CountryOut]:
    return [CountryOut(code=c, name=n) for c, n in country_names(locale.language)]
