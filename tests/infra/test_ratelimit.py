"""The in-memory token bucket behind the claim and click limits."""

from __future__ import annotations

import pytest

from passerelle.infra.ratelimit import MemoryTokenBucket


def test_given_a_burst_then_the_next_request_waits_for_one_token() -> None:
    bucket = MemoryTokenBucket(rate=2, burst=4)
    assert [bucket.allow("ip", now=10.0)[0] for _ in range(4)] == [True] * 4
    allowed, wait = bucket.allow("ip", now=10.0)
    assert not allowed and wait == pytest.approx(0.5)
    assert bucket.allow("ip", now=10.5) == (True, 0.0)  # one token back after 1/rate s
    assert bucket.allow("other", now=10.5) == (True, 0.0)  # buckets are per key


def test_given_quiet_time_then_tokens_refill_up_to_the_burst_only() -> None:
    bucket = MemoryTokenBucket(rate=1, burst=2)
    for _ in range(2):
        bucket.allow("a", now=0.0)
    assert [bucket.allow("a", now=100.0)[0] for _ in range(3)] == [True, True, False]


def test_given_events_replayed_out_of_order_then_no_refill_twice() -> None:
    bucket = MemoryTokenBucket(rate=1, burst=1)
    assert bucket.allow("a", now=5.0)[0]
    assert not bucket.allow("a", now=4.0)[0]  # older than the last event: nothing refills
    assert not bucket.allow("a", now=5.5)[0]  # half a token since t=5, not 1.5 since t=4
    assert bucket.allow("a", now=6.0)[0]


def test_given_more_keys_than_kept_then_the_least_recently_used_is_forgotten() -> None:
    bucket = MemoryTokenBucket(rate=1, burst=1, max_keys=2)
    bucket.allow("old", now=0.0)
    bucket.allow("mid", now=0.0)
    bucket.allow("old", now=0.0)  # refused, but used: "mid" is now the oldest
    bucket.allow("new", now=0.0)  # evicts "mid"
    assert bucket.allow("mid", now=0.0)[0]  # a fresh bucket (and "old" goes now)
    assert not bucket.allow("new", now=0.0)[0]  # still remembered, still empty
