"""FX rates in the ECB reference-rates CSV format, for tests."""

from __future__ import annotations

from passerelle.i18n import fx
from passerelle.state import AppState

ECB_DAILY = """Date, USD, JPY, GBP, CHF, CNY,
22 November 2024, 1.0412, 160.78, 0.83188, 0.9299, 7.5430,
"""


async def load_rates(state: AppState, text: str = ECB_DAILY) -> None:
    as_of, rates = fx.parse_ecb_csv(text)
    async with state.db.sessions() as session:
        await fx.import_rates(session, as_of=as_of, rates=rates, base="EUR")
        await session.commit()
    state.invalidate_fx()
