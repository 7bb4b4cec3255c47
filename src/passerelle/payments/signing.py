"""Webhook signatures: HMAC-SHA256 over "<timestamp>.<body>", sent as
`Passerelle-Signature: t=<unix seconds>,v1=<hex digest>`; stale or replayed events are refused."""

from __future__ import annotations

import hashlib
import hmac

from passerelle.errors import DomainError

SIGNATURE_HEADER = "passerelle-signature"
TOLERANCE_SECONDS = 300


def sign(secret: str, *, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, *, header: str | None, body: bytes, now: int, tolerance: int = TOLERANCE_SECONDS) -> int:
    """Check the signature header; returns its timestamp. Raises with a stable code."""
    if not header:
        raise DomainError("missing_signature", "The webhook has no signature", status=400)
    parts = dict(piece.split("=", 1) for piece in header.split(",") if "=" in piece)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError:
        raise DomainError("bad_signature", "Malformed webhook signature", status=400) from None
    expected = sign(secret, timestamp=timestamp, body=body).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, parts.get("v1", "")):
        raise DomainError("bad_signature", "The webhook signature does not match", status=400)
    if abs(now - timestamp) > tolerance:
        raise DomainError("stale_webhook", "The webhook timestamp is too old", status=400)
    return timestamp
