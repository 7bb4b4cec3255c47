"""JSON shapes of the traceability API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Name = Annotated[str, StringConstraints(min_length=1, max_length=120)]
Id = Annotated[int, Field(ge=1, le=2**62)]


class FactoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    city: Name
    country: Annotated[str, StringConstraints(min_length=2, max_length=2)]


class LineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    name: Annotated[str, StringConstraints(max_length=120)] = ""


class MaterialIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    material: Annotated[str, StringConstraints(min_length=1, max_length=60)]
    origin: Annotated[str, StringConstraints(min_length=2, max_length=2)]


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku_id: Id
    factory_id: Id
    line_id: Id
    started_at: datetime
    ended_at: datetime
    materials: list[MaterialIn] = Field(default_factory=list, max_length=50)
    unit_count: int = Field(default=0, ge=0, le=10_000)
    serials: list[Annotated[str, StringConstraints(min_length=1, max_length=64)]] = Field(
        default_factory=list, max_length=10_000
    )


class BatchOut(BaseModel):
    id: int
    sku_id: Id
    factory_id: Id
    line_id: Id
    serials: list[str]


class PackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    serial: Annotated[str, StringConstraints(min_length=1, max_length=64)]


class CreatedOut(BaseModel):
    id: int
