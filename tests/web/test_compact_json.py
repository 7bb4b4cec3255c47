"""Idempotent answers are written by orjson (http.py) and read like Starlette's JSON."""

from __future__ import annotations

import json

from starlette.responses import JSONResponse

from passerelle.http import CompactJSONResponse


def test_given_bodies_starlette_writes_then_the_compact_response_writes_the_same_json() -> None:
    bodies = [
        {"purchase_id": 7, "orders": [{"id": 1, "total": {"amount": 4900, "currency": "EUR"}}], "ok": True},
        {"titre": "Savon de Marseille — 100 g", "emoji": "🧼"},
        {1: "a key that is not a string"},
        {"big": 2**70},  # beyond orjson's integers: Starlette's encoder takes over
    ]
    for body in bodies:
        compact = CompactJSONResponse(body).body
        assert json.loads(compact) == json.loads(JSONResponse(body).body)
