"""`passerelle bench ...`: benchmarks print JSON; progress goes to stderr."""

from __future__ import annotations

import json

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("checkout")
def checkout(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    buyers: int = typer.Option(3000, min=10, help="Buyers, one paid order each."),
    concurrency: int = typer.Option(64, min=1, help="Concurrent buyers in the load process."),
) -> None:
    """Cart -> checkout -> sandbox payment -> webhook -> paid, against a real server on the embedded default."""
    from passerelle.bench.checkout import run

    typer.echo(f"bench checkout: {buyers} buyers, concurrency {concurrency}...", err=True)
    typer.echo(json.dumps(run(buyers=buyers, concurrency=concurrency)))
