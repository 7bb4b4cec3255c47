"""The attribution cookie: a random visitor id set on the first tracked click.

Clicks are stored with this id; when the buyer adds to cart, the cart line carries
`{"visitor": <id>}` in its attribution (cart/api.py and cart/pages.py call `with_visitor`),
which checkout copies to the order line. At payment, the visitor's clicks decide who is credited.
Reading it at add-to-cart (not at checkout) keeps the click that led to *this* item even when the
buyer checks out later from another tab.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.requests import Request

VISITOR_COOKIE = "pc_v"
VISITOR_MAX_AGE = 90 * 86400  # the longest campaign window
_VALID = re.compile(r"^[A-Za-z0-9_-]{16,32}$")


def new_visitor() -> str:
    return secrets.token_urlsafe(16)


def valid_visitor(value: str) -> bool:
    return _VALID.match(value) is not None


def visitor_of(request: Request) -> str | None:
    value = request.cookies.get(VISITOR_COOKIE, "")
    return value if valid_visitor(value) else None


def with_visitor(request: Request, attribution: dict[str, Any] | None) -> dict[str, Any] | None:
    """The cart line's attribution plus this browser's visitor id (when it has clicked a link)."""
    visitor = visitor_of(request)
    if visitor is None:
        return attribution
    return {**(attribution or {}), "visitor": visitor}
