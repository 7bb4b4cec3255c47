"""Starting the claim engine with the app: open the journal, replay it, and arm any deal
the database says is armed but the journal has not seen (armed just before a crash)."""

from __future__ import annotations

from passerelle.festival import service
from passerelle.festival.engine.engine import DealEngine
from passerelle.state import AppState


async def start_engine(state: AppState) -> DealEngine:
    if state.engine is None:
        state.engine = DealEngine(
            state.settings.data_dir / "engine" / "journal.db",
            clock=state.clock,
            max_open_per_buyer=state.settings.max_open_reservations,
            redis_url=state.settings.redis_url,
        )
    engine = state.engine
    async with state.db.read_sessions() as session:
        deals = await service.armed_deals(session)
    # Every armed deal: ones the engine already holds keep what was taken from them.
    if deals:
        await engine.arm([service.engine_deal(deal) for deal in deals])
    engine.start()
    return engine
