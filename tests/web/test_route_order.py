"""Routes are matched in the order they are included. The buying path's routers (cart,
orders, payments) are included first so their requests skip the other routers' routes;
this checks that doing so takes no path away from another route."""

from __future__ import annotations

import re
from pathlib import Path

from starlette.routing import compile_path

from passerelle.app import build_fastapi
from passerelle.config import Settings


def _sample(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", template)


def test_given_the_api_routes_in_matching_order_then_each_path_is_served_by_its_own_route(tmp_path: Path) -> None:
    app = build_fastapi(Settings(data_dir=tmp_path, secret_key="test-secret"))
    # The schema lists the routes in the order they were included, which is the order they match.
    routes = [
        (template, method.upper(), compile_path(template)[0])
        for template, operations in app.openapi()["paths"].items()
        for method in operations
    ]
    assert len(routes) > 100

    taken = []
    for template, method, _ in routes:
        first = next(t for t, m, regex in routes if m == method and regex.match(_sample(template)))
        if first != template:
            taken.append(f"{method} {template} is served by {first}")
    assert taken == []
