"""Recycling points: CSV import, and the nearest points from the geo index match a brute
force over every point, on random points across the globe (poles and antimeridian too)."""

from __future__ import annotations

import random
import time

import httpx
import pytest

from passerelle.accounts.models import Role
from passerelle.logistics.service.recycling import GeoIndex, haversine_km, locate, parse_csv
from passerelle.state import AppState
from tests.factories import make_user


def test_given_random_points_then_the_index_finds_the_same_nearest_as_brute_force() -> None:
    rng = random.Random(8)
    ids = list(range(1, 2001))
    lats = [rng.uniform(-90, 90) for _ in ids]
    lons = [rng.uniform(-180, 180) for _ in ids]
    index = GeoIndex(ids, lats, lons)
    for _ in range(100):
        lat, lon = rng.uniform(-90, 90), rng.uniform(-180, 180)
        brute = sorted((haversine_km(lat, lon, a, b), i) for i, a, b in zip(ids, lats, lons, strict=True))[:5]
        found = index.nearest(lat, lon, k=5)
        assert [i for i, _ in found] == [i for _, i in brute]
        assert [round(d, 6) for _, d in found] == [round(d, 6) for d, _ in brute]


def test_given_100k_points_then_a_query_takes_well_under_50_ms() -> None:
    rng = random.Random(9)
    n = 100_000
    index = GeoIndex(list(range(n)), [rng.uniform(41, 51) for _ in range(n)], [rng.uniform(-5, 9) for _ in range(n)])
    started = time.perf_counter()
    for _ in range(100):
        index.nearest(rng.uniform(41, 51), rng.uniform(-5, 9), k=5)
    per_query_ms = (time.perf_counter() - started) * 1000 / 100
    assert per_query_ms < 50


def test_given_a_bad_csv_line_then_the_import_names_it() -> None:
    with pytest.raises(Exception, match="Line 3"):
        parse_csv("name,lat,lon\nA,45.7,4.8\nB,north,4.8\n")


def test_given_an_address_then_it_is_located_by_coordinates_city_or_departement() -> None:
    assert locate({"lat": "45.1", "lon": "4.2", "city": "Lyon", "country": "FR"}) == (45.1, 4.2)
    assert locate({"city": "Lyon", "country": "FR"}) == pytest.approx((45.764, 4.8357))
    assert locate({"city": "Villeurbanne", "postal_code": "69100", "country": "FR"}) == pytest.approx((45.764, 4.8357))
    assert locate({"city": "Nowhere", "country": "ZZ"}) is None


async def test_given_an_operator_import_then_the_nearest_points_endpoint_answers_by_distance(
    client: httpx.AsyncClient, state: AppState
) -> None:
    operator = await make_user(state, role=Role.operator)
    csv_text = (
        "name,lat,lon,address,opening_hours,accepted_materials\n"
        "Lyon Part-Dieu,45.7606,4.8590,Rue Garibaldi,Mo-Sa 08:00-19:00,cardboard;paper\n"
        "Paris Bastille,48.8532,2.3691,Place de la Bastille,24/7,glass\n"
        "Lyon Confluence,45.7417,4.8186,Cours Charlemagne,Mo-Su 09:00-20:00,cardboard;plastic\n"
    )
    seller = await make_user(state)
    refused = await client.post(
        "/api/v1/operator/logistics/recycling-points", content=csv_text.encode(), headers=seller.headers
    )
    assert refused.status_code == 403
    imported = await client.post(
        "/api/v1/operator/logistics/recycling-points", content=csv_text.encode(), headers=operator.headers
    )
    assert imported.json() == {"imported": 3}
    near = (
        await client.get("/api/v1/logistics/recycling-points/nearest", params={"lat": 45.76, "lon": 4.84, "k": 2})
    ).json()
    assert [p["name"] for p in near] == ["Lyon Part-Dieu", "Lyon Confluence"]
    assert near[0]["materials"] == ["cardboard", "paper"]
    assert near[0]["distance_km"] < near[1]["distance_km"]
