"""Room viewer figures are aggregated by the database (SQLite and PostgreSQL): checked against a
brute-force count over many sessions, with ties, zero-length stays, reconnecting accounts and
sessions still open on this process."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from passerelle.infra.clock import SystemClock
from passerelle.live import analytics, service
from passerelle.live.analytics import Open, Recorder
from passerelle.live.commerce_models import LiveViewSession
from passerelle.state import AppState
from tests.factories import make_user

START = datetime(2030, 11, 11, 20, 0, tzinfo=UTC)


def brute_force(visits: list[tuple[str, datetime, datetime]]) -> dict[str, int]:
    """Peak = the most sessions with joined <= t < left, tried at every join instant."""
    peak = max((sum(1 for _, a, b in visits if a <= t < b) for _, t, _ in visits), default=0)
    watched = sum((b - a for _, a, b in visits), timedelta())
    return {
        "peak_viewers": peak,
        "unique_viewers": len({v for v, _, _ in visits}),
        "watch_seconds": watched // timedelta(seconds=1),
    }


def random_stays(rng: random.Random, count: int) -> list[tuple[str, datetime, datetime]]:
    stays = []
    for n in range(count):
        viewer = f"u{rng.randrange(300)}" if rng.random() < 0.7 else f"g{n:016x}"
        # Whole seconds on a short span make many ties; some stays have microseconds, some none.
        joined = START + timedelta(seconds=rng.randrange(900), microseconds=rng.choice([0, rng.randrange(10**6)]))
        stay = (
            timedelta(seconds=rng.randrange(240), microseconds=rng.randrange(10**6))
            if rng.random() < 0.9
            else timedelta()
        )
        stays.append((viewer, joined, joined + stay))
    return stays


async def make_room(state: AppState) -> int:
    host = await make_user(state)
    async with state.db.sessions() as session:
        room, _ = await service.create_room(
            session, host=await session.merge(host.user), title="Mesures", language="fr", starts_at=START
        )
        await session.commit()
        return room.id


@pytest.mark.both_backends
async def test_given_many_sessions_and_some_open_when_the_host_reads_analytics_then_sql_matches_brute_force(
    state: AppState,
) -> None:
    rng = random.Random(1111)
    room_id, other_room = await make_room(state), await make_room(state)
    stored = random_stays(rng, 1500)
    now = START + timedelta(seconds=1300)
    still_open = [Open(room_id, v, a) for v, a, _ in random_stays(rng, 40)] + [Open(room_id, "u7", START)]
    async with state.db.sessions() as session:
        rows = [{"room_id": room_id, "viewer": v, "joined_at": a, "left_at": b} for v, a, b in stored]
        elsewhere = [{"room_id": other_room, "viewer": "u1", "joined_at": START, "left_at": now}] * 50
        await session.execute(insert(LiveViewSession), rows + elsewhere)
        await session.commit()
    recorder = Recorder(state.db, SystemClock())
    recorder.open = {i: o for i, o in enumerate(still_open)}
    recorder.open[-1] = Open(other_room, "u2", START)  # another room's viewer: not counted

    async with state.db.sessions() as session:
        figures = await analytics.report(
            session, room_id=room_id, recorder=recorder, now=now, fx=await state.fx(), base="EUR"
        )
        only_stored = await analytics.viewer_figures(session, room_id=room_id, open_now=[], now=now)
        nobody = await analytics.viewer_figures(session, room_id=other_room + 1, open_now=[], now=now)

    expected = brute_force(stored + [(o.viewer, o.joined_at, now) for o in still_open])
    assert {k: figures[k] for k in expected} == expected
    assert expected["peak_viewers"] > 40 and expected["unique_viewers"] < len(stored)  # ties and repeat viewers
    alone = brute_force(stored)
    assert (only_stored.peak, only_stored.unique, only_stored.watch_seconds) == (
        alone["peak_viewers"], alone["unique_viewers"], alone["watch_seconds"],
    )  # fmt: skip
    assert (nobody.peak, nobody.unique, nobody.watch_seconds) == (0, 0, 0)
