"""`passerelle festival ...`: festival tools (the day's simulation for the big screen)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from passerelle.cli.common import settings, with_state

app = typer.Typer(no_args_is_help=True)


@app.command("simulate")
def simulate(
    rate: float = typer.Option(20.0, "--rate", min=0.1, help="Orders started per second."),
    duration: float = typer.Option(60.0, "--duration", min=1.0, help="Seconds to run."),
    url: str = typer.Option("http://127.0.0.1:8000", help="The running server (same database settings as here)."),
    seed: int = typer.Option(1111, help="Random seed: the same seed replays the same day."),
) -> None:
    """Replay a synthetic festival day against the running server through its public API
    (buyers from many countries, cart orders and flash deals, sandbox payments), with a
    progress bar. Prints what it sent as JSON, to check the big screen's totals against."""
    from passerelle.bench.simulate import simulate as run

    columns = (TextColumn("simulating"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as progress:
        task = progress.add_task("orders", total=int(rate * duration))

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        sent = with_state(
            settings(), lambda state: run(url, state, rate=rate, duration=duration, seed=seed, progress=advance)
        )
    typer.echo(json.dumps(sent.as_dict(), indent=2))
