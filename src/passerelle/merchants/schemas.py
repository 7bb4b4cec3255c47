"""API shapes for merchants."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from passerelle.merchants.models import MemberRole, MerchantKind, MerchantStatus

CountryCode = Annotated[str, StringConstraints(min_length=2, max_length=2)]


class MerchantApplyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    kind: MerchantKind
    country: CountryCode
    ships_to: list[CountryCode] = Field(min_length=1, max_length=250)
    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    description: Annotated[str, StringConstraints(max_length=5000)] = ""


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, StringConstraints(max_length=500)] = ""


class ShipsToIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    countries: list[CountryCode] = Field(min_length=1, max_length=250)


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(max_length=254)]
    role: MemberRole = MemberRole.staff


class MerchantOut(BaseModel):
    id: int
    name: str
    slug: str
    kind: MerchantKind
    country: str
    currency: str
    description: str
    status: MerchantStatus
    ships_to: list[str]
    created_at: datetime


class MerchantList(BaseModel):
    items: list[MerchantOut]
    total: int
