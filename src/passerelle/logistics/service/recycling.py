"""Recycling drop-off points: CSV import by the operator, and the nearest points to an address.

Geo index: a k-d tree (scipy `cKDTree`) over the points as unit vectors on the sphere. The
straight-line (chord) distance between unit vectors grows with the great-circle distance,
so the k nearest by chord are exactly the k nearest on the Earth, with no error near the
poles or the antimeridian (unlike a lat/lon grid). The tree is built in memory once per
process and rebuilt when the table changes (checked with one count/max query); a query
among 100,000 points takes well under a millisecond.

Where an address is: the shipping address carries no coordinates at checkout, so
`locate()` uses, in order: `lat`/`lon` keys on the address if a client stored them; else a
built-in centroid of the address's city (a few dozen cities in `data/centroids.json`); else,
for France, the centroid of the postcode's département. That is approximate (a city or
département centre, not the street), good for "points near you", not for directions;
a real geocoder would replace `locate()`.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import cKDTree  # type: ignore[import-untyped]
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.errors import Invalid
from passerelle.logistics.models import RecyclingPoint

EARTH_RADIUS_KM = 6371.0088
MAX_IMPORT_ROWS = 200_000
CENTROIDS = Path(__file__).resolve().parent.parent / "data" / "centroids.json"


def unit_vectors(lat: np.ndarray[Any, Any], lon: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    la, lo = np.radians(lat), np.radians(lon)
    return np.column_stack((np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)))


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


class GeoIndex:
    """k nearest points by great-circle distance, over (id, lat, lon) triples."""

    def __init__(self, ids: list[int], lats: list[float], lons: list[float]) -> None:
        self.ids = np.asarray(ids, dtype=np.int64)
        self.lats = np.asarray(lats, dtype=np.float64)
        self.lons = np.asarray(lons, dtype=np.float64)
        self.tree = cKDTree(unit_vectors(self.lats, self.lons)) if ids else None

    def nearest(self, lat: float, lon: float, k: int = 5) -> list[tuple[int, float]]:
        """[(id, distance km)] nearest first."""
        if self.tree is None:
            return []
        k = min(k, len(self.ids))
        _, found = self.tree.query(unit_vectors(np.array([lat]), np.array([lon]))[0], k=k)
        indexes = [int(i) for i in np.atleast_1d(found)]
        hits = [(int(self.ids[i]), haversine_km(lat, lon, float(self.lats[i]), float(self.lons[i]))) for i in indexes]
        return sorted(hits, key=lambda hit: (hit[1], hit[0]))


_indexes: dict[str, tuple[tuple[int, int], GeoIndex]] = {}


async def index(session: AsyncSession) -> GeoIndex:
    """This process's index of the table, rebuilt when the table changed."""
    version_row = (await session.execute(select(func.count(), func.coalesce(func.max(RecyclingPoint.id), 0)))).one()
    version = (int(version_row[0]), int(version_row[1]))
    key = str(session.get_bind().engine.url)
    cached = _indexes.get(key)
    if cached is not None and cached[0] == version:
        return cached[1]
    rows = (await session.execute(select(RecyclingPoint.id, RecyclingPoint.lat, RecyclingPoint.lon))).all()
    built = GeoIndex([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    _indexes[key] = (version, built)
    return built


@dataclass(frozen=True)
class NearbyPoint:
    point: RecyclingPoint
    distance_km: float


async def nearest(session: AsyncSession, *, lat: float, lon: float, k: int = 5) -> list[NearbyPoint]:
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise Invalid("invalid_coordinates", "Latitude -90..90, longitude -180..180", field="lat")
    hits = (await index(session)).nearest(lat, lon, k=max(1, min(k, 50)))
    if not hits:
        return []
    points = {
        p.id: p
        for p in (
            await session.execute(select(RecyclingPoint).where(RecyclingPoint.id.in_([i for i, _ in hits])))
        ).scalars()
    }
    return [NearbyPoint(points[i], round(d, 2)) for i, d in hits if i in points]


def _number(value: str, what: str, line: int) -> float:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        raise Invalid("invalid_csv", f"Line {line}: {what} is not a number", field=what) from None
    if not math.isfinite(number):
        raise Invalid("invalid_csv", f"Line {line}: {what} is not a number", field=what)
    return number


def parse_csv(text: str) -> list[RecyclingPoint]:
    """Columns: name, lat, lon, address, opening_hours, accepted_materials (`;`-separated).
    All or nothing: the first bad line is reported with its number."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if not {"name", "lat", "lon"} <= fields:
        raise Invalid("invalid_csv", "The CSV needs the columns name, lat, lon", field="file")
    points: list[RecyclingPoint] = []
    for number, raw in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items()}
        if len(points) >= MAX_IMPORT_ROWS:
            raise Invalid("invalid_csv", f"At most {MAX_IMPORT_ROWS} points per import", field="file")
        lat, lon = _number(row.get("lat", ""), "lat", number), _number(row.get("lon", ""), "lon", number)
        if not (-90 <= lat <= 90 and -180 <= lon <= 180) or not row.get("name"):
            raise Invalid("invalid_csv", f"Line {number}: a name and coordinates in range are needed", field="file")
        materials = row.get("accepted_materials") or row.get("materials") or ""
        points.append(
            RecyclingPoint(
                name=row["name"][:200],
                lat=lat,
                lon=lon,
                address=row.get("address", "")[:300],
                opening_hours=row.get("opening_hours", "")[:200],
                materials=";".join(m.strip().lower() for m in materials.replace(",", ";").split(";") if m.strip())[
                    :200
                ],
            )
        )
    return points


async def import_csv(session: AsyncSession, *, text: str, replace: bool = False) -> int:
    points = parse_csv(text)
    if replace:
        await session.execute(delete(RecyclingPoint))
    session.add_all(points)
    await session.flush()
    return len(points)


@lru_cache(maxsize=1)
def _centroids() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(CENTROIDS.read_text(encoding="utf-8"))
    return loaded


def locate(address: dict[str, Any]) -> tuple[float, float] | None:
    """Approximate coordinates of a shipping address (see the module docstring)."""
    try:
        if "lat" in address and "lon" in address:
            lat, lon = float(address["lat"]), float(address["lon"])
            if -90 <= lat <= 90 and -180 <= lon <= 180:
                return lat, lon
    except (TypeError, ValueError):
        pass
    country = str(address.get("country", "")).upper()
    data = _centroids()
    city = data["cities"].get(country, {}).get(str(address.get("city", "")).strip().lower())
    if city:
        return float(city[0]), float(city[1])
    postcode = str(address.get("postal_code", "")).strip()
    if country == "FR" and len(postcode) >= 2 and postcode[:2] in data["fr_departments"]:
        lat, lon = data["fr_departments"][postcode[:2]]
        return float(lat), float(lon)
    return None
