"""The server's nudge to `passerelle worker` (infra/outbox_wake.py), over a real Unix socket."""

from __future__ import annotations

import asyncio
import logging
import secrets

import pytest

from passerelle.infra.outbox_wake import WakeListener, WakeSender


async def test_given_a_listening_worker_when_the_server_nudges_then_it_wakes_and_a_second_worker_polls() -> None:
    database = f"sqlite+aiosqlite:////tmp/{secrets.token_hex(8)}.db"
    nudged = asyncio.Event()
    first = WakeListener(database, nudged.set)
    second = WakeListener(database, nudged.set)
    sender = WakeSender(database)
    try:
        assert first.listening and not second.listening
        for _ in range(3):
            sender.send()
        await asyncio.wait_for(nudged.wait(), timeout=5)
    finally:
        first.close()
        second.close()
    sender.send()  # nobody listens any more: dropped, never raised
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
