"""`passerelle db ...`"""

from __future__ import annotations

import typer
from alembic import command

from passerelle.cli.common import settings, upgrade_database
from passerelle.db.migrate import alembic_config

app = typer.Typer(no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Create or migrate the database to the latest schema."""
    current = settings()
    upgrade_database(current)
    typer.echo(f"database at head: {current.resolved_database_url.split('@')[-1]}")


@app.command("current")
def current_revision() -> None:
    """Print the schema revision the database is at."""
    command.current(alembic_config(settings().resolved_database_url))
