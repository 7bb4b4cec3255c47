"""The `passerelle worker` that `passerelle serve --outbox worker` starts beside itself, end to end
through the checkout benchmark: every buyer's order is paid by the webhook the worker
process applies, nothing is oversold, the two processes share SQLite's writer, and the
server's nudges wake the worker."""

from __future__ import annotations

from passerelle.bench.checkout import run
from passerelle.cli.outbox_worker import OutboxPlace


def test_given_the_outbox_in_a_worker_process_then_every_order_is_paid_once_and_nothing_oversold() -> None:
    # The worker looks at the outbox once at start, then only when the server nudges it
    # (infra/outbox_wake.py): with an hour between polls, every paid order proves a nudge.
    result = run(buyers=40, concurrency=8, outbox=OutboxPlace.worker, drain_timeout=60, worker_poll=3600)
    assert result["outbox"] == "passerelle worker process"
    assert result["errors"] == 0 and result["oversold"] == 0
    assert result["unpaid_orders"] == 0
    assert result["paid_orders"] + result["out_of_stock_answers"] == 40
    assert result["paid_orders"] > 0
