"""Which carriers this server talks to. Built from settings once per secret (cheap)."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from passerelle.config import Settings
from passerelle.errors import DomainError
from passerelle.logistics.carriers.base import Carrier
from passerelle.logistics.carriers.sandbox import SandboxCarrier


def carrier_secret(settings: Settings, name: str) -> str:
    """Each carrier's webhook secret, derived from the server's secret key."""
    return hmac.new(
        settings.resolved_secret_key.encode(), f"carrier-webhooks:{name}".encode(), hashlib.sha256
    ).hexdigest()


@lru_cache(maxsize=8)
def _carriers(sandbox_secret: str) -> dict[str, Carrier]:
    return {"sandbox": SandboxCarrier(webhook_secret=sandbox_secret)}


def carriers(settings: Settings) -> dict[str, Carrier]:
    return _carriers(carrier_secret(settings, "sandbox"))


def carrier(settings: Settings, name: str) -> Carrier:
    found = carriers(settings).get(name)
    if found is None:
        raise DomainError("unknown_carrier", f"Unknown carrier {name}", field="carrier", status=404)
    return found
