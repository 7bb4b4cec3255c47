"""`passerelle bench ...`: benchmarks print JSON; progress goes to stderr."""

from __future__ import annotations

import json

import typer

from passerelle.cli.outbox_worker import OutboxPlace

app = typer.Typer(no_args_is_help=True)


@app.command("checkout")
def checkout(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    buyers: int = typer.Option(3000, min=10, help="Buyers, one paid order each."),
    concurrency: int = typer.Option(64, min=1, help="Concurrent buyers in the load process."),
    outbox: OutboxPlace = typer.Option(
        OutboxPlace.auto,
        help="The server's `--outbox`: 'worker' consumes it in `passerelle worker` beside the server, 'server' "
        "inside it, 'auto' (serve's default) in a worker on two cores or more.",
    ),
) -> None:
    """Cart -> checkout -> sandbox payment -> webhook -> paid, against a real server on the embedded default."""
    from passerelle.bench.checkout import run

    typer.echo(f"bench checkout: {buyers} buyers, concurrency {concurrency}, outbox {outbox.value}...", err=True)
    typer.echo(json.dumps(run(buyers=buyers, concurrency=concurrency, outbox=outbox)))


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
    edge: bool = typer.Option(
        True,
        "--edge/--direct",
        help="Through `passerelle edge`, as deployed (nginx + Lua gathering claims into batches; the no-op "
        "ceiling through it too), or straight to the server. Ignored with --batched (the gateway's own route).",
    ),
    seconds: int = typer.Option(8, min=1, help="Duration of each wrk run."),
    connections: int = typer.Option(64, min=1, help="wrk connections."),
) -> None:
    """Claims through the real server over loopback (wrk in its own process), vs a no-op route."""
    from passerelle.bench.http import run
    from passerelle.festival.edge import lua_available as edge_available

    edge = edge and not batched
    if edge and not edge_available():
        typer.echo(
            "bench http: nginx's Lua module is missing (apt-get install libnginx-mod-http-lua lua-cjson); direct",
            err=True,
        )
        edge = False
    mode = " --batched" if batched else " --edge" if edge else " --direct"
    typer.echo(f"bench http{mode}: {seconds}s per run...", err=True)
    typer.echo(json.dumps(run(batched=batched, edge=edge, seconds=seconds, connections=connections)))


@app.command("captions")
def captions(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    targets: str = typer.Option("es,fr", help="Caption languages, comma-separated (the first one for mt figures)."),
    rounds: int = typer.Option(100_000, min=1000, help="Cached chat messages to serve."),
) -> None:
    """espeak-ng speech through the live caption pipeline at real-time speed; MT and cached chat throughput."""
    from passerelle.bench.captions import run
    from passerelle.captions.asr import AsrUnavailable
    from passerelle.captions.speech import ToolMissing
    from passerelle.cli.common import settings

    wanted = [t.strip() for t in targets.split(",") if t.strip()]
    typer.echo(f"bench captions: targets {wanted}, ~25 s of speech in real time...", err=True)
    try:
        result = run(settings(), targets=wanted, rounds=rounds)
    except (ToolMissing, AsrUnavailable) as error:
        typer.echo(f"bench captions: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(json.dumps(result))


@app.command("live")
def live(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    viewers: int = typer.Option(10_000, min=1, help="WebSocket viewers in the load process."),
    rate: float = typer.Option(
        12.0,
        min=0.1,
        help="Chat messages per second, all posters together (12 x 10,000 viewers > 100,000 deliveries/s).",
    ),
    seconds: float = typer.Option(10.0, min=1, help="How long the posters post."),
) -> None:
    """Chat fan-out of one live room to N viewers over WebSockets, against a real server."""
    from passerelle.bench.live import run

    typer.echo(f"bench live: {viewers} viewers, {rate} messages/s for {seconds}s...", err=True)
    typer.echo(json.dumps(run(viewers=viewers, rate=rate, seconds=seconds)))


@app.command("tracking")
def tracking(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    parcels: int = typer.Option(8000, min=10, help="Parcels in the batched phase (5 events each)."),
    batch: int = typer.Option(500, min=1, max=1000, help="Events per webhook request in the batched phase."),
    concurrency: int = typer.Option(8, min=1, help="Concurrent requests in the load process."),
    single_parcels: int = typer.Option(600, min=10, help="Parcels in the one-event-per-request phase."),
) -> None:
    """Carrier tracking events through the real webhook endpoint from a separate process, one per request
    then in batches; lost and twice-applied events checked in the database afterwards."""
    from passerelle.bench.tracking import run

    typer.echo(f"bench tracking: {parcels} parcels in batches of {batch}, {single_parcels} one by one...", err=True)
    typer.echo(json.dumps(run(parcels=parcels, batch=batch, concurrency=concurrency, single_parcels=single_parcels)))


@app.command("assistant")
def assistant(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    seconds: int = typer.Option(8, min=1, help="Duration of each wrk run."),
    connections: int = typer.Option(32, min=1, help="wrk connections."),
    uncached: bool = typer.Option(True, help="Also measure a server with the answer cache off."),
) -> None:
    """Labelled assistant questions (fr, en, es) from the demo catalog through the real server, wrk for load."""
    from passerelle.bench.assistant import run

    typer.echo(f"bench assistant: seeding the demo, then {seconds}s per run...", err=True)
    typer.echo(json.dumps(run(seconds=seconds, connections=connections, uncached=uncached)))


@app.command("clicks")
def clicks(
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON (the default output anyway)."),
    seconds: int = typer.Option(10, min=1, help="Duration of the wrk run."),
    connections: int = typer.Option(64, min=1, help="wrk connections."),
    workers: int = typer.Option(1, min=1, help="Server processes."),
    edge: bool = typer.Option(True, help="Also measure through the nginx edge (the headline figure)."),
) -> None:
    """Tracked-link redirects + click recording: through the nginx edge in front of the real server,
    and through the server's own Python redirect (wrk in its own process)."""
    from passerelle.bench.clicks import run

    typer.echo(f"bench clicks: {seconds}s, {connections} connections, {workers} worker(s)...", err=True)
    typer.echo(json.dumps(run(seconds=seconds, connections=connections, workers=workers, edge=edge)))


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
