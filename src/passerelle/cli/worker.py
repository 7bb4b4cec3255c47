"""`passerelle worker`: the outbox consumer in a process of its own (payment webhooks and the
bookings of a paid order, mails, creator commissions...), so that the server's event loop
keeps to the requests and the machine's second core does this work. Run the server with
PASSERELLE_OUTBOX_PROCESS=true: it then keeps only the topics that need its festival engine.
Several workers may run side by side (each message is leased to one of them); their write
transactions and the server's queue for SQLite's one writer in turn (db/write_lock.py).
The server nudges the workers after each commit that queued messages (infra/outbox_wake.py);
the poll is for messages due later and for those other commands queue."""

from __future__ import annotations

import asyncio
import os
import signal

import typer
import uvloop

from passerelle.cli.common import settings
from passerelle.cli.outbox_worker import PARENT_ENV
from passerelle.config import Settings
from passerelle.festival.engine.tuning import tune_collector
from passerelle.infra.outbox import OutboxRunner
from passerelle.infra.outbox_wake import WakeListener
from passerelle.state import AppState

DEFAULT_BATCH = 100
DEFAULT_CONCURRENCY = 16
# On SQLite, larger passes mean fewer, larger write transactions (bench checkout
# with the worker: it held the writer ~1.0 s per 8,000 buyers against ~3.2 s with
# 100 messages and 16 handlers at once, and the server's requests waited for it half as long).
SQLITE_BATCH = 600


def worker(
    poll: float = typer.Option(
        0.5,
        min=0.001,
        envvar="PASSERELLE_WORKER_POLL",
        help="Seconds between two looks for due messages when idle (the server nudges us after its commits; "
        "the poll is for messages due later and those other processes queue).",
    ),
    batch: int | None = typer.Option(
        None,
        min=1,
        envvar="PASSERELLE_WORKER_BATCH",
        help=f"Messages taken per pass (default {SQLITE_BATCH} on SQLite, {DEFAULT_BATCH} otherwise).",
    ),
    concurrency: int | None = typer.Option(
        None,
        min=1,
        help="Handlers run at once (default 1 on SQLite: there, a write transaction waits for the CPU work of "
        f"every other handler running beside it, with the server's requests queued behind; {DEFAULT_CONCURRENCY} "
        "otherwise).",
    ),
) -> None:
    current = settings()
    on_sqlite = current.resolved_database_url.startswith("sqlite")
    batch = batch or (SQLITE_BATCH if on_sqlite else DEFAULT_BATCH)
    concurrency = concurrency or (1 if on_sqlite else DEFAULT_CONCURRENCY)
    uvloop.run(_run(current, poll, batch=batch, concurrency=concurrency))


async def _run(current: Settings, poll: float, *, batch: int, concurrency: int) -> None:
    from passerelle.app import build_fastapi  # the app delivers the sandbox PSP's webhooks in-process
    from passerelle.tasks import WORKER_HANDLERS

    # No group commit here: it shares the buying requests' transaction in the server; in a
    # process without requests it only added a savepoint to each of our write transactions
    # (the worker's CPU per paid order +15-30 % in bench checkout).
    state = AppState.from_settings(current.model_copy(update={"group_commit": False}))
    state.settle_reads_first = True  # our write transactions are what the server's requests wait for
    build_fastapi(current, state=state)
    # Like the server (app.py): what start-up loaded is frozen and young collections are
    # rare. With the default thresholds a full collection rescanned the app every few passes,
    # inside the write transactions the server's requests wait for.
    tune_collector()
    runner = OutboxRunner(
        state,
        WORKER_HANDLERS,
        poll_seconds=poll,
        batch=batch,
        concurrency=concurrency,
        own_topics_only=True,
        mark_done_with_next_lease=True,
    )
    state.outbox_runner = runner  # what the handlers' commits wake: this runner
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    nudges = WakeListener(current.resolved_database_url, runner.wake)
    parent = os.environ.get(PARENT_ENV)
    orphaned = asyncio.create_task(_until_orphaned(int(parent), stop)) if parent else None
    runner.start()
    woken = f"woken by the server, slot {nudges.slot}" if nudges.listening else "every wake-up slot is taken: polling"
    typer.echo(
        f"worker: consuming the outbox of {current.resolved_database_url} "
        f"({woken}, poll {poll}s, {batch} messages a pass, {concurrency} at once)",
        err=True,
    )
    try:
        await stop.wait()
    finally:
        if orphaned is not None:
            orphaned.cancel()
        nudges.close()
        await runner.stop()  # the batch in hand is finished first
        await state.db.dispose()


async def _until_orphaned(parent: int, stop: asyncio.Event, every: float = 1.0) -> None:
    """Stop once the `passerelle serve` that started us is gone (killed outright, it could
    not stop us itself): we are then handed to another parent."""
    while os.getppid() == parent:  # noqa: ASYNC110 - nothing signals a parent's death here
        await asyncio.sleep(every)
    typer.echo("worker: the server that started us is gone; stopping", err=True)
    stop.set()
