"""One embedded engine per journal: a second process (or a second `--workers` process)
over the same data directory would sell every deal's stock once more."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from passerelle.cli import app
from passerelle.festival.engine.engine import DealEngine, EngineInUse
from passerelle.infra.clock import SystemClock


async def test_given_an_engine_on_a_journal_then_a_second_one_is_refused_until_it_stops(tmp_path: Path) -> None:
    journal = tmp_path / "engine" / "journal.db"
    first = DealEngine(journal, clock=SystemClock())
    with pytest.raises(EngineInUse, match="PASSERELLE_REDIS_URL"):
        DealEngine(journal, clock=SystemClock())
    await first.stop()
    second = DealEngine(journal, clock=SystemClock())  # the lock went with the first engine
    await second.stop()


def test_given_several_workers_without_redis_then_serve_refuses_before_starting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PASSERELLE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("PASSERELLE_REDIS_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", "--workers", "2", "--port", "1"])
    assert result.exit_code == 2
    assert "PASSERELLE_REDIS_URL" in result.output
    assert not (tmp_path / "passerelle.db").exists()  # refused before migrating anything
