"""Checking a unit's provenance chain: order, links, hashes, signatures and the signed head."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.traceability import signing
from passerelle.traceability.models import ProvenanceRecord, SigningKey, Unit
from passerelle.traceability.service import records, unit_by_serial


@dataclass(frozen=True)
class Verdict:
    serial: str
    valid: bool
    records: int
    broken_seq: int | None = None  # the first record that does not hold (None: the chain's end)
    broken_id: int | None = None
    reason: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "serial": self.serial,
            "valid": self.valid,
            "records": self.records,
            "broken_record": None if self.valid else {"seq": self.broken_seq, "id": self.broken_id},
            "reason": self.reason,
        }

    def describe(self) -> str:
        if self.valid:
            return "valid"
        where = f"record #{self.broken_seq} (id {self.broken_id})" if self.broken_seq is not None else "chain head"
        return f"broken at {where}: {self.reason}"


def check_chain(unit: Unit, chain: list[ProvenanceRecord], keys: dict[str, str]) -> Verdict:
    """Pure check: each record has the next seq, links to the previous hash, hashes to what
    it claims and is signed by a key of the unit's merchant; the signed head matches the end."""
    prev = signing.GENESIS
    for expected, record in enumerate(chain, start=1):

        def broken(reason: str, record: ProvenanceRecord = record) -> Verdict:
            return Verdict(unit.serial, False, len(chain), record.seq, record.id, reason)

        if record.seq != expected:
            return broken(f"expected record #{expected} here (a record was removed or moved)")
        if record.prev_hash != prev:
            return broken("does not link to the previous record (reordered or inserted)")
        public = keys.get(record.key_id)
        if public is None:
            return broken("signed with a key that is not the merchant's")
        body = signing.canonical(
            serial=unit.serial,
            seq=record.seq,
            kind=record.kind,
            occurred_at=record.occurred_at,
            data=record.data,
            prev_hash=record.prev_hash,
            key_id=record.key_id,
        )
        if signing.digest(body) != record.hash:
            return broken("its content was changed after signing (hash mismatch)")
        if not signing.check(public, body, record.signature):
            return broken("bad signature")
        prev = record.hash
    head_ok = any(
        signing.check(k, signing.head_message(unit.serial, unit.record_count, unit.head_hash), unit.head_signature)
        for k in keys.values()
    )
    if not head_ok:
        return Verdict(unit.serial, False, len(chain), None, None, "the signed chain head is not valid")
    if unit.record_count != len(chain) or unit.head_hash != prev:
        last = chain[-1] if chain else None
        return Verdict(
            unit.serial,
            False,
            len(chain),
            (last.seq + 1) if last else 1,
            None,
            f"the signed head counts {unit.record_count} records, {len(chain)} found (the newest were removed)",
        )
    return Verdict(unit.serial, True, len(chain))


async def verify_serial(session: AsyncSession, *, serial: str) -> Verdict:
    unit = await unit_by_serial(session, serial=serial)
    chain = await records(session, unit_id=unit.id)
    rows = await session.execute(
        select(SigningKey.key_id, SigningKey.public_key).where(SigningKey.merchant_id == unit.merchant_id)
    )
    keys = {key_id: public for key_id, public in rows.all()}
    return check_chain(unit, chain, keys)
