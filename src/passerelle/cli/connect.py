"""`passerelle connect ...`: the influencer program's operator jobs, run by hand (the monthly payouts
run by themselves inside the server: see connect/service/payouts.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import typer

from passerelle.cli.common import settings, upgrade_database, with_state
from passerelle.state import AppState

app = typer.Typer(no_args_is_help=True)


@app.command("payouts")
def payouts(
    currency: str = typer.Option("EUR", help="Currency of the batch (SEPA files are euros only)."),
    threshold: int = typer.Option(5000, min=1, help="Pay creators owed at least this much (minor units)."),
    out: Path = typer.Option(Path("."), help="Directory for payouts-<batch>.xml and .csv."),
) -> None:
    """Pay every creator owed at least the threshold: one batch, a SEPA pain.001 file and a CSV."""
    from passerelle.connect.service import payouts as service

    current = settings()
    upgrade_database(current)

    async def run(state: AppState) -> tuple[int, str, str, bytes | None, int, int]:
        now = state.clock.now()
        async with state.db.writing() as session:
            batch = await service.create_batch(session, currency=currency, threshold=threshold, now=now)
            paid = await service.payouts_of(session, batch_id=batch.id)
        xml = None
        if paid and batch.currency == "EUR":
            xml = service.sepa_export(
                paid,
                batch_id=batch.id,
                debtor_name=current.connect_debtor_name,
                debtor_iban=current.connect_debtor_iban,
                debtor_bic=current.connect_debtor_bic,
                execution=(now + timedelta(days=1)).date(),
            )
        return batch.id, batch.currency, service.csv_export(paid), xml, len(paid), sum(p.amount for p in paid)

    batch_id, batch_currency, csv_text, xml, count, total = with_state(current, run)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"payouts-{batch_id}.csv").write_text(csv_text)
    if xml is not None:
        (out / f"payouts-{batch_id}.xml").write_bytes(xml)
    typer.echo(f"batch {batch_id}: {count} payouts, {total} {batch_currency} minor units")
