"""Helpers shared by CLI commands: settings, a one-shot app state, running coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from passerelle.config import Settings, load_settings
from passerelle.db import migrate
from passerelle.state import AppState

T = TypeVar("T")


def settings() -> Settings:
    return load_settings()


def upgrade_database(current: Settings) -> None:
    current.data_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(current.resolved_database_url)


def with_state(current: Settings, work: Callable[[AppState], Awaitable[T]]) -> T:
    async def run() -> T:
        state = AppState.from_settings(current)
        try:
            return await work(state)
        finally:
            await state.db.dispose()

    return asyncio.run(run())
