"""The `passerelle` command line (Typer)."""

from __future__ import annotations

import typer

from passerelle.cli import bench as bench_cmd
from passerelle.cli import connect as connect_cmd
from passerelle.cli import db as db_cmd
from passerelle.cli import edge as edge_cmd
from passerelle.cli import festival as festival_cmd
from passerelle.cli import media as media_cmd
from passerelle.cli import seed as seed_cmd
from passerelle.cli import serve as serve_cmd
from passerelle.cli import trace as trace_cmd
from passerelle.cli import translate as translate_cmd
from passerelle.cli import users as users_cmd
from passerelle.cli import worker as worker_cmd

app = typer.Typer(
    help="passerelle: marketplace and shopping-festival engine. Start with `passerelle demo`.",
    no_args_is_help=True,
    add_completion=False,
)
app.command("serve", help="Serve the app (migrates the database first).")(serve_cmd.serve)
app.command("demo", help="Migrate, seed a demo marketplace when the database is empty, then serve.")(serve_cmd.demo)
app.add_typer(db_cmd.app, name="db", help="Database schema: upgrade, current revision.")
app.add_typer(seed_cmd.app, name="seed", help="Load data: the demo marketplace.")
app.add_typer(users_cmd.app, name="users", help="Create and list accounts (operators, sellers...).")
app.command("translate", help="Translate a text with the configured engines; prints the engine used.")(
    translate_cmd.translate
)
app.command("worker", help="Consume the outbox in its own process (serve with PASSERELLE_OUTBOX_PROCESS=true).")(
    worker_cmd.worker
)
app.command("media", help="Run the live video server (nginx-rtmp, HLS) for the live rooms.")(media_cmd.media)
app.command("edge", help="Run the nginx edge for tracked links (/r/...) in front of the server.")(edge_cmd.edge)
app.add_typer(bench_cmd.app, name="bench", help="Benchmarks against real servers; JSON on stdout.")
app.add_typer(festival_cmd.app, name="festival", help="Festival tools: simulate a festival day for the big screen.")
app.add_typer(trace_cmd.app, name="trace", help="Provenance of traced units: verify a chain.")
app.add_typer(connect_cmd.app, name="connect", help="Influencer program jobs: creator payout batches.")


def main() -> None:
    app()
