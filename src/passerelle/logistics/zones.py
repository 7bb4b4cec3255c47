"""The viewer's time zone: chosen (`?tz=` or the `tz` cookie the page script sets from the
browser), else the main zone of the delivery country (from the system tz database)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ZONE_TAB = Path("/usr/share/zoneinfo/zone.tab")
UTC_ZONE = ZoneInfo("UTC")


@lru_cache(maxsize=1)
def _country_zones() -> dict[str, str]:
    first: dict[str, str] = {}
    try:
        lines = ZONE_TAB.read_text(encoding="utf-8").splitlines()
    except OSError:
        return first
    for line in lines:
        if line and not line.startswith("#"):
            parts = line.split("\t")
            if len(parts) >= 3:
                first.setdefault(parts[0], parts[2])  # zone.tab lists a country's main zone first
    return first


def zone_named(name: str | None) -> ZoneInfo | None:
    if not name or len(name) > 64 or ".." in name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def viewer_zone(*, chosen: str | None, country: str) -> ZoneInfo:
    return zone_named(chosen) or zone_named(_country_zones().get(country.upper())) or UTC_ZONE
