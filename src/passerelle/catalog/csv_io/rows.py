"""Reading a catalog CSV file into rows: encoding, delimiter, header, limits, line numbers."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.slugs import slugify

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
OPTION_PREFIX = "option_"
MAX_OPTION_NAME = 30
REQUIRED_COLUMNS = ("product_ref", "sku_code", "price", "stock")
PRODUCT_COLUMNS = ("status", "category", "source_language", "min_order_quantity")
TEXT_COLUMNS = tuple(f"{kind}_{lang}" for lang in SUPPORTED_LANGUAGES for kind in ("title", "description"))
KNOWN_COLUMNS = frozenset((*REQUIRED_COLUMNS, *PRODUCT_COLUMNS, *TEXT_COLUMNS, "tiers"))


@dataclass
class RowError:
    """One problem of an import: CSV line (header = 1, 0 = the whole file), column, code."""

    line: int
    field: str | None
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "code": self.code, "message": self.message}


@dataclass
class Row:
    line: int  # where the record starts: a quoted description may span several lines
    cells: dict[str, str]


@dataclass
class ProductRows:
    ref: str
    rows: list[Row]

    @property
    def first_line(self) -> int:
        return self.rows[0].line

    def sku_line(self, index: object) -> int:
        if isinstance(index, int) and 0 <= index < len(self.rows):
            return self.rows[index].line
        return self.first_line


def parse_file(data: bytes, errors: list[RowError]) -> tuple[list[str], list[Row]] | None:
    """The column names and non-blank rows, or None with `errors` filled in."""
    if len(data) > MAX_FILE_BYTES:
        limit = f"{MAX_FILE_BYTES // (1024 * 1024)} MB"
        errors.append(RowError(0, None, "file_too_large", f"Files are limited to {limit}"))
        return None
    try:
        text = data.decode("utf-8-sig")  # a BOM, as Excel writes it, is welcome
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        message = "The file is not UTF-8; save it as 'CSV UTF-8' and import it again"
        errors.append(RowError(line, None, "not_utf8", message))
        return None
    if "\x00" in text:  # binary data, and PostgreSQL refuses NUL inside text anyway
        line = text.count("\n", 0, text.index("\x00")) + 1
        errors.append(RowError(line, None, "invalid_csv", "The file holds a NUL character: is it really a CSV file?"))
        return None
    first_line = text.split("\n", 1)[0]
    # French spreadsheets write `;` (the comma is their decimal mark); column names hold neither.
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[Row] = []
    try:
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            errors.append(RowError(1, None, "empty_file", "The file has no header row"))
            return None
        columns = check_header(header, errors)
        line = reader.line_num + 1
        for cells in reader:
            if any(cell.strip() for cell in cells):
                if len(rows) >= MAX_ROWS:
                    message = f"Import at most {MAX_ROWS} rows per file"
                    errors.append(RowError(line, None, "too_many_rows", message))
                    return None
                row = _row(line, columns, cells, errors)
                if row is not None:
                    rows.append(row)
            line = reader.line_num + 1
    except csv.Error as error:
        errors.append(RowError(reader.line_num, None, "invalid_csv", f"Unreadable CSV: {error}"))
        return None
    if not errors and not rows:
        errors.append(RowError(2, None, "empty_file", "The file has a header but no product rows"))
    return (columns, rows) if not errors else None


def column_name(raw: str) -> str:
    name = raw.strip()
    if name.lower().startswith(OPTION_PREFIX):
        # Option names keep their case: buyers see them as the merchant wrote them.
        return OPTION_PREFIX + name[len(OPTION_PREFIX) :].strip()
    return name.lower()


def check_header(header: list[str], errors: list[RowError]) -> list[str]:
    columns = [column_name(raw) for raw in header]
    while columns and not columns[-1]:  # spreadsheets often leave empty trailing cells
        columns.pop()
    seen: set[str] = set()
    for name in columns:
        if name in seen:
            errors.append(RowError(1, name, "duplicate_column", f"Column {name!r} appears twice"))
        seen.add(name)
        option_length = len(name) - len(OPTION_PREFIX)
        is_option = name.startswith(OPTION_PREFIX) and 0 < option_length <= MAX_OPTION_NAME
        if name not in KNOWN_COLUMNS and not is_option:
            message = f"Unknown column {name!r}; see docs/catalog-csv.md for the list"
            errors.append(RowError(1, name or None, "unknown_column", message))
    for name in REQUIRED_COLUMNS:
        if name not in seen:
            errors.append(RowError(1, name, "missing_column", f"The column {name!r} is required"))
    return columns


def _row(line: int, columns: list[str], cells: list[str], errors: list[RowError]) -> Row | None:
    if len(cells) > len(columns) and any(c.strip() for c in cells[len(columns) :]):
        message = (
            f"{len(cells)} cells for {len(columns)} columns; put values holding the delimiter between double quotes"
        )
        errors.append(RowError(line, None, "wrong_cell_count", message))
        return None
    padded = [*cells, *[""] * (len(columns) - len(cells))]
    # Descriptions keep their spacing and line breaks; every other cell is trimmed.
    values = {
        name: value if name.startswith("description_") else value.strip()
        for name, value in zip(columns, padded, strict=False)
    }
    return Row(line, values)


def group_by_product(rows: list[Row], errors: list[RowError]) -> list[ProductRows]:
    """Rows sharing a product_ref (wherever they are in the file) make one product."""
    products: dict[str, ProductRows] = {}
    for row in rows:
        ref = slugify(row.cells["product_ref"], max_length=160)
        if not ref:
            message = "Give the product reference (letters, digits, dashes)"
            errors.append(RowError(row.line, "product_ref", "missing_product_ref", message))
            continue
        products.setdefault(ref, ProductRows(ref=ref, rows=[])).rows.append(row)
    return list(products.values())
