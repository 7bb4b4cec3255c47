"""Page-number links that keep the current filters."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

WINDOW = 2


@dataclass(frozen=True)
class Pages:
    current: int
    count: int
    # (number, url); a None url is a gap ("…").
    links: list[tuple[int, str | None]]
    previous_url: str | None
    next_url: str | None


def page_count(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def paginate(*, path: str, params: Iterable[tuple[str, str]], total: int, page: int, per_page: int) -> Pages:
    kept = [(k, v) for k, v in params if k != "page" and v != ""]
    count = page_count(total, per_page)
    current = min(max(page, 1), count)

    def url(number: int) -> str:
        query = kept + ([("page", str(number))] if number > 1 else [])
        return path + (f"?{urlencode(query)}" if query else "")

    shown = sorted({1, count, *range(max(1, current - WINDOW), min(count, current + WINDOW) + 1)})
    links: list[tuple[int, str | None]] = []
    for number in shown:
        if links and number - links[-1][0] > 1:
            links.append((number - 1, None))
        links.append((number, url(number)))
    return Pages(
        current=current,
        count=count,
        links=links,
        previous_url=url(current - 1) if current > 1 else None,
        next_url=url(current + 1) if current < count else None,
    )
