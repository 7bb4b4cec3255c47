"""Run Alembic migrations programmatically (CLI `passerelle db upgrade`, app start, tests)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["database_url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    # env.py drives its own event loop; keep it off the caller's.
    await asyncio.to_thread(upgrade, url, revision)


def make_revision(url: str, message: str) -> None:
    """Developer helper: autogenerate a migration from the models."""
    command.revision(alembic_config(url), message=message, autogenerate=True)
