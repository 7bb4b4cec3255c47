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


@app.command("engine")
def engine(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    claims: int = typer.Option(1_000_000, min=1000, help="Claims to drive through the engine."),
    buyers: int = typer.Option(100_000, min=1),
    deals: int = typer.Option(1000, min=1),
) -> None:
    """Deal claims through the engine in-process, durable on SQLite FULL, vs one transaction per claim."""
    from passerelle.bench.engine import run

    typer.echo(f"bench engine: {claims} claims, {buyers} buyers, {deals} deals...", err=True)
    typer.echo(json.dumps(run(claims=claims, buyers=buyers, deals=deals)))


@app.command("http")
def http(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    batched: bool = typer.Option(False, "--batched", help="Drive POST /api/v1/claims:batch (edge gateways) instead."),
    seconds: int = typer.Option(8, min=1, help="Duration of each wrk run."),
    connections: int = typer.Option(64, min=1, help="wrk connections."),
) -> None:
    """Claims through the real server over loopback (wrk in its own process), vs a no-op route."""
    from passerelle.bench.http import run

    typer.echo(f"bench http{' --batched' if batched else ''}: {seconds}s per run...", err=True)
    typer.echo(json.dumps(run(batched=batched, seconds=seconds, connections=connections)))


@app.command("clicks")
def clicks(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    seconds: int = typer.Option(10, min=1, help="Duration of the wrk run."),
    connections: int = typer.Option(64, min=1, help="wrk connections."),
    workers: int = typer.Option(1, min=1, help="Server processes."),
) -> None:
    """Tracked-link redirects + click recording through the real server (wrk in its own process)."""
    from passerelle.bench.clicks import run

    typer.echo(f"bench clicks: {seconds}s, {connections} connections, {workers} worker(s)...", err=True)
    typer.echo(json.dumps(run(seconds=seconds, connections=connections, workers=workers)))


@app.command("attribution")
def attribution(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    orders: int = typer.Option(1_000_000, min=1, help="Orders to attribute."),
    creators: int = typer.Option(100_000, min=1, help="Creators the clicks point to."),
) -> None:
    """Attribution rules (last click in window, code, live-room split) over in-memory orders."""
    from passerelle.bench.attribution import run

    typer.echo(f"bench attribution: {orders} orders...", err=True)
    typer.echo(json.dumps(run(orders=orders, creators=creators)))


@app.command("matching")
def matching(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    queries: int = typer.Option(200, min=1, help="Recommendation queries to time."),
) -> None:
    """Recommended creators over the configured database (run `passerelle seed creators` first)."""
    from passerelle.bench.matching import run

    typer.echo(f"bench matching: {queries} queries...", err=True)
    typer.echo(json.dumps(run(queries=queries)))
