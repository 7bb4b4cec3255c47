"""`passerelle trace ...`: provenance chains of traced units."""

from __future__ import annotations

import typer

from passerelle.cli.common import settings, with_state
from passerelle.errors import NotFound
from passerelle.state import AppState
from passerelle.traceability.verify import Verdict, verify_serial

app = typer.Typer(no_args_is_help=True)


@app.command("verify")
def verify(serial: str = typer.Argument(..., help="The unit's serial number.")) -> None:
    """Check a unit's chain (links, hashes, Ed25519 signatures, signed head). Exit 0 and
    "valid" when intact; exit 1 naming the first broken record otherwise."""

    async def work(state: AppState) -> Verdict | None:
        async with state.db.read_sessions() as session:
            try:
                return await verify_serial(session, serial=serial)
            except NotFound:
                return None

    verdict = with_state(settings(), work)
    if verdict is None:
        typer.echo(f"no unit with serial {serial}", err=True)
        raise typer.Exit(2)
    typer.echo(verdict.describe())
    raise typer.Exit(0 if verdict.valid else 1)
