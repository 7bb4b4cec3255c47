"""`passerelle seed ...`"""

from __future__ import annotations

import typer

from passerelle.cli.common import settings, upgrade_database, with_state

app = typer.Typer(no_args_is_help=True)


@app.command("demo")
def demo(force: bool = typer.Option(False, help="Seed even when the database already has data.")) -> None:
    """Load the demo marketplace (merchants, products, accounts) into the configured database."""
    from passerelle.seed.demo import seed_demo, seed_demo_if_empty

    current = settings()
    upgrade_database(current)
    report = with_state(current, seed_demo if force else seed_demo_if_empty)
    typer.echo(report.summary())


@app.command("creators")
def creators(count: int = typer.Option(1_000_000, min=1, help="How many creator profiles to load.")) -> None:
    """Bulk-load creator profiles (influencer program) with realistic distributions; prints the time."""
    from passerelle.seed.creators import progress_bar, seed_creators

    current = settings()
    upgrade_database(current)
    seconds = with_state(current, lambda state: seed_creators(state, count=count, progress=progress_bar(count)))
    typer.echo(f"seeded {count:,} creators in {seconds:.1f} s ({count / seconds:,.0f}/s)")
