"""JSON columns go through orjson (db/engine.py): what is read back is what the standard
library's encoder would have stored."""

from __future__ import annotations

import json
from typing import Any

import pytest

from passerelle.infra.outbox import OutboxMessage
from passerelle.state import AppState

PAYLOADS: list[dict[str, Any]] = [
    {"order_id": 12, "lines": [{"sku": 3, "qty": 2}], "note": "Livraison à Montréal — 🎁"},
    {"by_merchant": {7: 1200, 8: 0}},  # integer keys come back as strings, as with json
    {"flag": True, "nothing": None, "ratio": 0.25, "big": 2**62},
]


@pytest.mark.both_backends
@pytest.mark.parametrize("payload", PAYLOADS)
async def test_given_a_payload_then_it_reads_back_as_json_would_have_stored_it(
    state: AppState, payload: dict[str, Any]
) -> None:
    async with state.db.writing() as session:
        message = OutboxMessage(topic="json", payload=payload)
        session.add(message)
    async with state.db.read_sessions() as session:
        stored = await session.get(OutboxMessage, message.id)

    assert stored is not None and stored.payload == json.loads(json.dumps(payload))
