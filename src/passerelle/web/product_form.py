"""The console's "new product" form: what a person types -> a ProductIn, or messages per field.

Prices are typed in major units of the merchant's currency ("12.50" or "12,50"). Options and
volume tiers are short text lists so the form works without JavaScript:
  options "size=M, colour=Red"    tiers "10=4.50, 50=4.00" (from 10 units, 4.50 each)
Field keys for errors: title_fr, title_en, category, min_order_quantity, sku.<row>.<field>,
"skus" (the whole list) and "" (top of the form).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from passerelle.catalog.models import ProductStatus
from passerelle.catalog.schemas import ProductIn
from passerelle.errors import DomainError
from passerelle.i18n.messages import N_
from passerelle.money import Money
from passerelle.web.context import form_list, form_text

FORM_LANGUAGES = ("fr", "en")
MAX_ROWS = 50
SKU_FIELDS = ("code", "options", "price", "stock", "tiers")

# Message ids, translated when the form is rendered.
REQUIRED = N_("This field is required")
BAD_PRICE = N_("Enter a price such as 12.50")
BAD_STOCK = N_("Enter a whole number, 0 or more")
BAD_OPTIONS = N_("Write options as name=value, separated by commas (size=M, colour=Red)")
BAD_TIERS = N_("Write tiers as quantity=unit price, separated by commas (10=4.50, 50=4.00)")
BAD_CODE = N_("Use up to 64 letters, digits, dots, dashes or underscores")
BAD_TITLE = N_("Give a title of at most 200 characters")
NEED_TITLE = N_("Give the title in the product's source language")
NEED_SKU = N_("Add at least one variant with a code, a price and a stock")
CHECK_VALUE = N_("Check this value")


@dataclass
class SkuRow:
    code: str = ""
    options: str = ""
    price: str = ""
    stock: str = ""
    tiers: str = ""

    @property
    def is_blank(self) -> bool:
        return not any((self.code, self.options, self.price, self.stock, self.tiers))


@dataclass
class ProductForm:
    source_language: str = "fr"
    titles: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FORM_LANGUAGES, ""))
    descriptions: dict[str, str] = field(default_factory=lambda: dict.fromkeys(FORM_LANGUAGES, ""))
    category: str = ""
    min_order_quantity: str = "1"
    publish: bool = False
    rows: list[SkuRow] = field(default_factory=lambda: [SkuRow() for _ in range(3)])
    # field key -> message id
    errors: dict[str, str] = field(default_factory=dict)
    # index in ProductIn.skus -> index in rows (blank rows are skipped)
    row_of_sku: list[int] = field(default_factory=list)


def read_form(form: FormData) -> ProductForm:
    columns = {name: form_list(form, f"sku_{name}", max_items=MAX_ROWS, max_length=400) for name in SKU_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    rows = [
        SkuRow(**{name: (columns[name][i].strip() if i < len(columns[name]) else "") for name in SKU_FIELDS})
        for i in range(count)
    ]
    source = form_text(form, "source_language", max_length=5)
    return ProductForm(
        source_language=source if source in FORM_LANGUAGES else "fr",
        titles={lang: form_text(form, f"title_{lang}", max_length=250) for lang in FORM_LANGUAGES},
        descriptions={lang: form_text(form, f"description_{lang}", max_length=10_000) for lang in FORM_LANGUAGES},
        category=form_text(form, "category", max_length=80),
        min_order_quantity=form_text(form, "min_order_quantity", max_length=10) or "1",
        publish=form_text(form, "publish", max_length=5) == "1",
        rows=rows or [SkuRow()],
    )


def _amount(raw: str, currency: str) -> int | None:
    try:
        value = Decimal(raw.replace(" ", "").replace(",", "."))
        if not value.is_finite() or value < 0:
            return None
        return Money.from_major(value, currency).amount
    except (InvalidOperation, DomainError):
        return None


def _pairs(raw: str) -> list[tuple[str, str]] | None:
    """'a=b, c=d' (or ';'-separated) -> [('a','b'), ('c','d')]; None when malformed."""
    pairs = []
    for part in raw.replace(";", ",").split(","):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            return None
        pairs.append((name.strip(), value.strip()))
    return pairs


def _sku_input(row: SkuRow, index: int, currency: str, wholesale: bool, errors: dict[str, str]) -> dict[str, Any]:
    key = f"sku.{index}."
    if not row.code:
        errors[key + "code"] = REQUIRED
    price = _amount(row.price, currency) if row.price else None
    if price is None:
        errors[key + "price"] = BAD_PRICE if row.price else REQUIRED
    stock = int(row.stock) if row.stock.isdigit() else None
    if stock is None:
        errors[key + "stock"] = BAD_STOCK if row.stock else REQUIRED
    options = _pairs(row.options)
    if options is None:
        errors[key + "options"] = BAD_OPTIONS
    tiers: list[dict[str, int]] = []
    if wholesale and row.tiers:
        for quantity, unit in _pairs(row.tiers) or [("", "")]:
            amount = _amount(unit, currency)
            if not quantity.isdigit() or amount is None:
                errors[key + "tiers"] = BAD_TIERS
                break
            tiers.append({"min_quantity": int(quantity), "unit_amount": amount})
    return {
        "code": row.code,
        "options": dict(options or []),
        "price_amount": price or 0,
        "stock": stock or 0,
        "tiers": tiers,
    }


def _validation_field(location: tuple[int | str, ...], form: ProductForm) -> str:
    match location:
        case ("texts", str(lang), *_):
            return f"title_{lang}"
        case ("skus", int(index), str(name), *_):
            name = {"price_amount": "price"}.get(name, name)
            row = form.row_of_sku[index] if index < len(form.row_of_sku) else 0
            return f"sku.{row}.{name if name in SKU_FIELDS else 'code'}"
        case ("min_order_quantity", *_):
            return "min_order_quantity"
        case ("category", *_):
            return "category"
    return ""


def _validation_message(field_key: str) -> str:
    if field_key.startswith("title_"):
        return BAD_TITLE
    if field_key.endswith(".code"):
        return BAD_CODE
    if field_key.endswith(".options"):
        return BAD_OPTIONS
    if field_key.endswith(".tiers"):
        return BAD_TIERS
    return CHECK_VALUE


def to_product_in(form: ProductForm, *, currency: str, wholesale: bool) -> ProductIn | None:
    """The ProductIn the form describes, or None with `form.errors` filled in."""
    errors = form.errors
    texts = {
        lang: {"title": form.titles[lang], "description": form.descriptions[lang]}
        for lang in FORM_LANGUAGES
        if form.titles[lang]
    }
    if form.source_language not in texts:
        errors[f"title_{form.source_language}"] = NEED_TITLE
    skus = []
    form.row_of_sku = []
    for index, row in enumerate(form.rows):
        if row.is_blank:
            continue
        form.row_of_sku.append(index)
        skus.append(_sku_input(row, index, currency, wholesale, errors))
    if not skus:
        errors["skus"] = NEED_SKU
    moq = form.min_order_quantity if wholesale else "1"
    if not moq.isdigit() or int(moq) < 1:
        errors["min_order_quantity"] = BAD_STOCK
    if errors:
        return None
    try:
        return ProductIn(
            source_language=form.source_language,
            texts=texts,
            skus=skus,
            category=form.category or None,
            min_order_quantity=int(moq),
            status=ProductStatus.published if form.publish else ProductStatus.draft,
        )
    except ValidationError as invalid:
        for problem in invalid.errors():
            key = _validation_field(tuple(problem["loc"]), form)
            errors.setdefault(key, _validation_message(key))
        return None


def service_error_field(error: DomainError, form: ProductForm) -> str:
    """Where a catalog-service error belongs on the form."""
    name = error.field or ""
    if name == "texts":
        return f"title_{form.source_language}"
    if name.startswith("skus.") and name.endswith(".tiers"):
        index = int(name.split(".")[1])
        row = form.row_of_sku[index] if index < len(form.row_of_sku) else 0
        return f"sku.{row}.tiers"
    if name in ("skus", "category", "min_order_quantity"):
        return name
    return ""
