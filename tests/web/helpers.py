"""Driving the HTML pages like a browser would: forms with their CSRF field, cookies kept."""

from __future__ import annotations

import re
from typing import Any

import httpx

from passerelle.deps import CSRF_COOKIE, SESSION_COOKIE
from tests.factories import PASSWORD

HTML = {"accept": "text/html,application/xhtml+xml"}
_CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


async def csrf_token(client: httpx.AsyncClient, path: str = "/login") -> str:
    """The token a page embeds in its forms (GET the page first, as a browser would)."""
    page = await client.get(path, headers=HTML)
    found = _CSRF_FIELD.search(page.text)
    assert found, f"no CSRF field on {path}: {page.status_code}"
    assert client.cookies.get(CSRF_COOKIE) == found.group(1)
    return found.group(1)


async def submit(
    client: httpx.AsyncClient,
    path: str,
    data: dict[str, Any],
    *,
    files: dict[str, Any] | None = None,
    token_from: str = "/",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """POST a form as the page would, with the CSRF field filled in."""
    token = await csrf_token(client, token_from)
    return await client.post(path, data={**data, "csrf_token": token}, files=files, headers={**HTML, **(headers or {})})


async def log_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    response = await submit(client, "/login", {"email": email, "password": password})
    assert response.status_code == 303, response.text
    assert client.cookies.get(SESSION_COOKIE)
    return response


def text_of(html: str) -> str:
    """Visible-ish text: tags dropped, whitespace folded (good enough for assertions)."""
    without_tags = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", without_tags).strip()
