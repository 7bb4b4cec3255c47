"""Catalog CSV import and export (bulk onboarding). Never commits.

One row per SKU; rows sharing a `product_ref` form one product, and `product_ref` is the
product's slug, which is how a later import finds the product again. Every product goes
through the same rules as the JSON API (`ProductIn` + the catalog service). An import is
all or nothing: each problem is reported with its CSV line (the header is line 1) and
column, and when there is any, nothing of the file is written: the writes run inside a
SAVEPOINT that is rolled back. Column reference: docs/catalog-csv.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog import service as catalog
from passerelle.catalog.csv_io.export import export_catalog
from passerelle.catalog.csv_io.products import Context, load_context, product_input, service_error
from passerelle.catalog.csv_io.rows import (
    MAX_FILE_BYTES,
    MAX_ROWS,
    ProductRows,
    RowError,
    group_by_product,
    parse_file,
)
from passerelle.catalog.schemas import ProductIn
from passerelle.errors import DomainError
from passerelle.merchants.models import Merchant

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "ImportReport",
    "RowError",
    "export_catalog",
    "import_catalog",
]

MAX_REPORTED_ERRORS = 500


@dataclass
class ImportReport:
    created: int
    updated: int
    errors: list[RowError]

    @property
    def ok(self) -> bool:
        return not self.errors


class _Rejected(Exception):
    """Raised inside the SAVEPOINT so that leaving it rolls back every write of the file."""


async def import_catalog(session: AsyncSession, *, merchant: Merchant, data: bytes) -> ImportReport:
    """Create or replace the merchant's products described by a CSV file, all or nothing."""
    errors: list[RowError] = []
    parsed = parse_file(data, errors)
    if parsed is None:
        return _rejected(errors)
    columns, rows = parsed
    groups = group_by_product(rows, errors)
    context = await load_context(session, merchant=merchant, columns=columns)
    inputs = [(group, product_input(group, context, errors)) for group in groups]
    if errors:
        return _rejected(errors)
    created = updated = 0
    try:
        async with session.begin_nested():
            for group, data_in in inputs:
                assert data_in is not None  # no errors, so every product has its input
                try:
                    if await _write(session, merchant, context, group, data_in):
                        created += 1
                    else:
                        updated += 1
                except DomainError as error:
                    errors.append(service_error(error, group, data_in.source_language))
                except IntegrityError:
                    # A failed flush ends what this session can do: report and roll back.
                    message = "This product clashes with data saved meanwhile; import again"
                    errors.append(RowError(group.first_line, None, "conflict", message))
                    break
            if errors:
                raise _Rejected
    except _Rejected:
        return _rejected(errors)
    return ImportReport(created=created, updated=updated, errors=[])


async def _write(
    session: AsyncSession, merchant: Merchant, context: Context, group: ProductRows, data: ProductIn
) -> bool:
    """Create or replace one product; True when it is new."""
    existing = context.existing.get(group.ref)
    if existing is None:
        await catalog.create_product_for(session, merchant=merchant, data=data)
        return True
    await catalog.replace_product(session, merchant=merchant, product=existing.product, data=data)
    return False


def _rejected(found: list[RowError]) -> ImportReport:
    # One message per (line, column, code): the schema and the rules may both notice a problem.
    unique = {(e.line, e.field, e.code): e for e in reversed(found)}
    errors = sorted(unique.values(), key=lambda e: (e.line, e.field or ""))
    if len(errors) > MAX_REPORTED_ERRORS:
        hidden = len(errors) - MAX_REPORTED_ERRORS
        errors = errors[:MAX_REPORTED_ERRORS]
        errors.append(RowError(0, None, "too_many_errors", f"{hidden} more errors are not listed"))
    return ImportReport(created=0, updated=0, errors=errors)
