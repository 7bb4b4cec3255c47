"""`passerelle worker` beside `passerelle serve` (PASSERELLE_OUTBOX_PROCESS=true), end to end
through the checkout benchmark: every buyer's order is paid by the webhook the worker
process applies, nothing is oversold, and the two processes share SQLite's writer."""

from __future__ import annotations

from passerelle.bench.checkout import run


def test_given_the_outbox_in_a_worker_process_then_every_order_is_paid_once_and_nothing_oversold() -> None:
    result = run(buyers=40, concurrency=8, worker_process=True, drain_timeout=60)
    assert result["outbox"] == "passerelle worker process"
    assert result["errors"] == 0 and result["oversold"] == 0
    assert result["unpaid_orders"] == 0
    assert result["paid_orders"] + result["out_of_stock_answers"] == 40
    assert result["paid_orders"] > 0
