"""Replay offsets count on-air time only: the recording has no gap when the encoder drops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from passerelle.live.commerce import AirClock
from passerelle.live.commerce_models import AIR_EVENT, LiveEvent

START = datetime(2026, 11, 11, 20, 0, tzinfo=UTC)


def _air(seconds: float, on: bool) -> LiveEvent:
    return LiveEvent(
        room_id=1, offset_ms=0, at=START + timedelta(seconds=seconds), payload={"type": AIR_EVENT, "on": on}
    )


def test_given_a_drop_and_a_resume_then_later_events_are_not_shifted_by_the_gap() -> None:
    clock = AirClock.from_events([_air(0, True), _air(30, False), _air(90, True), _air(120, False)])
    assert clock is not None
    at = lambda seconds: START + timedelta(seconds=seconds)  # noqa: E731
    assert clock.offset_ms(at(10)) == 10_000
    assert clock.offset_ms(at(60)) == 30_000  # while off air: where the recording paused
    assert clock.offset_ms(at(100)) == 40_000  # 30 s before the drop + 10 s after the resume
    assert clock.offset_ms(at(500)) == 60_000  # after the end: the recording's length
    assert clock.offset_ms(at(-5)) == 0


def test_given_a_room_still_on_air_or_repeated_starts_then_the_open_span_counts_up_to_now() -> None:
    clock = AirClock.from_events([_air(0, True), _air(5, True), _air(20, False), _air(25, False), _air(40, True)])
    assert clock is not None
    assert clock.spans == [(START, START + timedelta(seconds=20)), (START + timedelta(seconds=40), None)]
    assert clock.offset_ms(START + timedelta(seconds=50)) == 30_000


def test_given_no_air_event_then_no_air_clock_and_stored_offsets_are_used() -> None:
    assert AirClock.from_events([]) is None
