"""The server's nudge to `passerelle worker` (infra/outbox_wake.py), over a real Unix socket."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable

import pytest

from passerelle.infra.outbox_wake import RESCAN_SECONDS, SLOTS, WakeListener, WakeSender, listening_workers


async def _until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not nudged within 5 s")


async def test_given_two_listening_workers_when_the_server_nudges_then_both_wake() -> None:
    database = f"sqlite+aiosqlite:////tmp/{secrets.token_hex(8)}.db"
    woken: list[str] = []
    first = WakeListener(database, lambda: woken.append("first"))
    second = WakeListener(database, lambda: woken.append("second"))
    sender = WakeSender(database)
    try:
        assert (first.slot, second.slot) == (0, 1)
        for _ in range(3):
            sender.send()
        await _until(lambda: {"first", "second"} <= set(woken))
    finally:
        first.close()
        second.close()
    sender.send()  # nobody listens any more: dropped, never raised
    sender.close()


async def test_given_every_slot_taken_then_one_more_worker_polls() -> None:
    database = f"sqlite+aiosqlite:////tmp/{secrets.token_hex(8)}.db"
    listeners = [WakeListener(database, lambda: None) for _ in range(SLOTS + 1)]
    try:
        assert [listener.slot for listener in listeners] == [*range(SLOTS), None]
        assert not listeners[-1].listening
    finally:
        for listener in listeners:
            listener.close()


async def test_given_a_worker_started_after_the_first_nudge_then_it_is_nudged_from_the_next_scan() -> None:
    database = f"sqlite+aiosqlite:////tmp/{secrets.token_hex(8)}.db"
    clock = [100.0]
    woken: list[str] = []
    first = WakeListener(database, lambda: woken.append("first"))
    sender = WakeSender(database)
    sender.monotonic = lambda: clock[0]
    late: WakeListener | None = None
    try:
        sender.send()  # finds the first worker only
        await _until(lambda: "first" in woken)
        late = WakeListener(database, lambda: woken.append("late"))
        clock[0] += RESCAN_SECONDS / 2
        sender.send()  # between scans: only the workers known
        await asyncio.sleep(0.05)
        assert "late" not in woken
        clock[0] += RESCAN_SECONDS
        sender.send()
        await _until(lambda: "late" in woken)
    finally:
        first.close()
        if late is not None:
            late.close()
        sender.close()


def test_given_no_worker_listening_then_the_server_says_so_once_a_minute(caplog: pytest.LogCaptureFixture) -> None:
    sender = WakeSender(f"sqlite+aiosqlite:////tmp/{secrets.token_hex(8)}.db")
    with caplog.at_level(logging.WARNING, logger="passerelle.infra.outbox_wake"):
        for _ in range(5):
            sender.send()
    sender.close()
    assert [r.getMessage() for r in caplog.records if "no `passerelle worker` listens" in r.getMessage()] != []
    assert len(caplog.records) == 1


async def test_given_two_databases_then_a_nudge_wakes_only_the_worker_of_its_own() -> None:
    ours, theirs = (f"sqlite+aiosqlite:////tmp/{secrets.token_hex(8)}.db" for _ in range(2))
    woken: list[str] = []
    listeners = [WakeListener(ours, lambda: woken.append("ours")), WakeListener(theirs, lambda: woken.append("theirs"))]
    sender = WakeSender(ours)
    try:
        sender.send()
        for _ in range(100):
            if woken:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
    finally:
        for listener in listeners:
            listener.close()
        sender.close()
    assert woken == ["ours"]


async def test_given_workers_listening_then_the_count_finds_them_without_waking_them() -> None:
    database = f"sqlite+aiosqlite:////tmp/{secrets.token_hex(8)}.db"
    woken: list[int] = []
    assert listening_workers(database) == 0
    first = WakeListener(database, lambda: woken.append(1))
    second = WakeListener(database, lambda: woken.append(2))
    try:
        assert listening_workers(database) == 2
        await asyncio.sleep(0.05)
        assert woken == []  # probed, not nudged
    finally:
        first.close()
    assert listening_workers(database) == 1
    second.close()
    assert listening_workers(database) == 0


async def test_given_many_commits_in_one_pass_of_the_loop_then_each_worker_gets_one_nudge() -> None:
    database = f"sqlite+aiosqlite:////tmp/{secrets.token_hex(8)}.db"
    woken: list[str] = []
    listener = WakeListener(database, lambda: woken.append("worker"))
    sender = WakeSender(database)
    sent: list[str] = []
    send = sender.send

    def counted() -> None:
        sent.append("datagrams")
        send()

    sender.send = counted  # type: ignore[method-assign]
    try:
        for _ in range(64):  # a group commit's members, answered together
            sender.send_soon()
        assert sent == []  # not yet: once the loop's pass is over
        await _until(lambda: "worker" in woken)
        assert len(sent) == 1
        sender.send_soon()
        await asyncio.sleep(0.01)
        assert len(sent) == 2  # a later pass nudges again
    finally:
        listener.close()
        sender.close()
