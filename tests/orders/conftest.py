"""Fixtures shared by the buying-path tests."""

from __future__ import annotations

from typing import Any

import pytest

from passerelle.orders import buying_fastpath


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the buying fast path (orders/buying_fastpath.py) answered, in order."""
    paths: list[str] = []
    serve = buying_fastpath.serve

    async def counted(request: Any, *rest: Any) -> Any:
        paths.append(request.url.path)
        return await serve(request, *rest)

    monkeypatch.setattr(buying_fastpath, "serve", counted)
    return paths
