"""JSON shapes of the logistics API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100)]
# Ids from clients: bounded so that none is a number the database cannot hold (422, never 500).
Id = Annotated[int, Field(ge=1, le=2**62)]


class ParcelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight_g: int = Field(gt=0, le=70_000)
    length_mm: int = Field(gt=0, le=3000)
    width_mm: int = Field(gt=0, le=3000)
    height_mm: int = Field(gt=0, le=3000)
    packaging_type_id: Id | None = None


class ShipmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    carrier: Annotated[str, StringConstraints(max_length=30)] = "sandbox"
    service: Annotated[str, StringConstraints(max_length=30)] = "standard"
    parcels: list[ParcelIn] = Field(min_length=1, max_length=20)


class EventOut(BaseModel):
    kind: str
    occurred_at: datetime
    location: str


class ParcelOut(BaseModel):
    weight_g: int
    length_mm: int
    width_mm: int
    height_mm: int
    packaging_material: str
    packaging_recyclable: bool
    packaging_weight_g: int


class ShipmentOut(BaseModel):
    id: int
    order_id: int
    direction: str
    carrier: str
    service: str
    tracking_number: str
    status: str
    estimated_delivery: date
    shipped_at: datetime
    delivered_at: datetime | None
    parcels: list[ParcelOut]
    events: list[EventOut]
    label_url: str


class PackagingTypeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text100
    material: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    recyclable: bool
    weight_g: int = Field(ge=0, le=100_000)


class PackagingTypeOut(BaseModel):
    id: int
    name: str
    material: str
    recyclable: bool
    weight_g: int
    platform_wide: bool


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_id: Id
    quantity: int = Field(gt=0, le=10_000)


class ReturnIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lines: list[ReturnLineIn] = Field(min_length=1, max_length=200)
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class ReturnOut(BaseModel):
    id: int
    order_id: int
    status: str
    lines: list[ReturnLineIn]
    reason: str
    tracking_number: str
    label_url: str
    refund_id: int | None


class ReturnRefundIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    resellable: bool = True
    # Per order line, overriding `resellable`.
    lines: dict[Id, bool] = Field(default_factory=dict, max_length=200)


class SettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    return_window_days: int = Field(ge=0, le=365)


class RecyclingPointOut(BaseModel):
    id: int
    name: str
    lat: float
    lon: float
    address: str
    opening_hours: str
    materials: list[str]
    distance_km: float


class BulkShipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_ids: list[Id] = Field(min_length=1, max_length=20_000)
    carrier: Annotated[str, StringConstraints(max_length=30)] = "sandbox"
    service: Annotated[str, StringConstraints(max_length=30)] = "standard"
    parcel: ParcelIn
