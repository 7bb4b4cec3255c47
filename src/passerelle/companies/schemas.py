"""API shapes for buyer companies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from passerelle.companies.models import CompanyRole


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)]
    vat_number: Annotated[str, StringConstraints(max_length=40)] | None = Field(
        default=None, description="Checked by its national checksum (EU, GB, CH...); stored compact with its prefix"
    )


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(max_length=254)]
    role: CompanyRole = CompanyRole.buyer


class MemberOut(BaseModel):
    user_id: int
    email: str
    display_name: str
    role: CompanyRole
    since: datetime


class CompanyOut(BaseModel):
    id: int
    name: str
    country: str
    vat_number: str | None
    my_role: CompanyRole
    created_at: datetime
    members: list[MemberOut] | None = Field(default=None, description="Only on the company's own page")


class CompanyList(BaseModel):
    items: list[CompanyOut]
    total: int
