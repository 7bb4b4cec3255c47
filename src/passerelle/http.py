"""Small HTTP helpers shared by routes."""

from __future__ import annotations

from fastapi import Request


def client_ip(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers sets request.client from X-Forwarded-For.
    return request.client.host if request.client else "unknown"
