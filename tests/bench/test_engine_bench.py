"""`passerelle bench engine` on a small workload: it runs on the server's event loop (uvloop)
and its audit reads back what the journal made durable."""

from __future__ import annotations

from passerelle.bench import engine


def test_given_a_small_workload_then_the_engine_bench_sells_the_stock_once_and_audits_it() -> None:
    result = engine.run(claims=20_000, buyers=2_000, deals=20, stock=300, limit=4)

    # 20 deals x 300 units: the stock is sold out, never beyond.
    assert result["answers"]["reserved"] == 6_000
    assert sum(result["answers"].values()) == 20_000
    assert (result["oversold"], result["duplicates"], result["lost"]) == (0, 0, 0)
    assert result["claims_per_s"] > 0 and result["naive_claims_per_s"] > 0
