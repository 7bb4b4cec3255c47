"""`passerelle users ...`"""

from __future__ import annotations

import typer

from passerelle.accounts import service
from passerelle.accounts.models import Role
from passerelle.cli.common import settings, upgrade_database, with_state
from passerelle.errors import DomainError
from passerelle.state import AppState

app = typer.Typer(no_args_is_help=True)


@app.command("create")
def create(
    email: str = typer.Option(..., help="Login e-mail."),
    role: Role = typer.Option(Role.buyer, help="buyer, seller, influencer or operator."),
    password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
    country: str = typer.Option("FR", help="ISO 3166 country code."),
    language: str = typer.Option("fr", help="Preferred language."),
    currency: str = typer.Option("EUR", help="Preferred currency (ISO 4217)."),
    name: str = typer.Option("", help="Display name."),
) -> None:
    """Create an account, e.g. the first operator: `passerelle users create --role operator --email ...`."""
    current = settings()
    upgrade_database(current)

    async def work(state: AppState) -> int:
        async with state.db.sessions() as session:
            user = await service.register(
                session,
                email=email,
                password=password,
                country=country,
                language=language,
                currency=currency,
                display_name=name or None,
                role=role,
            )
            await session.commit()
            return user.id

    try:
        user_id = with_state(current, work)
    except DomainError as error:
        typer.secho(f"error [{error.code}]: {error.message}", fg="red", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {role.value} #{user_id} <{email}>")
