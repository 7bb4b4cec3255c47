"""Page routes are installed here; each domain's pages.py adds its own router."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response


def install(app: FastAPI) -> None:
    pass


def error_page(request: Request, status: int, message: str) -> Response:
    return HTMLResponse(f"<h1>{status}</h1>", status_code=status)
