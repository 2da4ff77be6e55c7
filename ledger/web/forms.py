"""Reading a page's form through the input schema the API reads its JSON body with.

A form is flat text: ``request.form``. :func:`load_form` turns it into the shape the schema
expects and loads it, so a page refuses exactly what the API refuses, with the same messages
at the same fields (as :class:`ValidationFailed`, which the views already show at the fields).

How the flat keys map onto the schema:

- a plain field is its own key; an empty optional field counts as not given (a form cannot
  leave a field out), while an empty required field is sent as it is and refused as such;
- a ``Dict`` field is read from ``name.key`` (``lines.TRAVEL``), leaving out empty values;
- a ``List`` of nested schemas is read from ``name.N.field`` (``tranches.1.amount``); a row
  whose required fields are all empty is a row left unused, and problems name the form's N;
- a ``List`` of plain values is every value sent under its name;
- a checkbox (named by the view) is false when the browser leaves it out, as browsers do.

Keys the schema does not know (the CSRF token, the hidden ``version``, the form's own
idempotency key, the button pressed) are the page's business, not input, and are not loaded.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import marshmallow as ma
from flask import request
from werkzeug.datastructures import MultiDict

from ledger.errors import ValidationFailed
from ledger.messages import translatable
from ledger.problems import flatten_field_errors

OUT_OF_DATE = translatable("the page is out of date: reload the page and try again")


def load_form(
    schema: ma.Schema,
    *,
    checkboxes: Collection[str] = (),
    form: MultiDict[str, str] | None = None,
) -> dict[str, Any]:
    """The form loaded by ``schema``, or :class:`ValidationFailed` naming each refused field."""
    sent = request.form if form is None else form
    raw: dict[str, Any] = {}
    renamed: dict[str, str] = {}
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        if isinstance(field, ma.fields.Boolean) and key in checkboxes:
            raw[key] = key in sent
        elif isinstance(field, ma.fields.Dict):
            entries = _prefixed(sent, key)
            if entries or field.required:
                raw[key] = {sub: value for sub, value in entries.items() if value.strip()}
        elif isinstance(field, ma.fields.List) and isinstance(field.inner, ma.fields.Nested):
            rows = _rows(sent, key, field.inner.schema)
            if rows or field.required:
                raw[key] = [row for _, row in rows]
                renamed.update(
                    {f"{key}.{index}.": f"{key}.{number}." for index, (number, _) in enumerate(rows)}
                )
        elif isinstance(field, ma.fields.List):
            values = [value for value in sent.getlist(key) if value.strip()]
            if values or field.required:
                raw[key] = values
        elif key in sent:
            value = sent[key]
            if value != "" or field.required:
                raw[key] = value
    try:
        return dict(schema.load(raw))
    except ma.ValidationError as refused:
        errors = flatten_field_errors(refused.messages)
        errors = {_renamed(path, renamed): messages for path, messages in errors.items()}
        raise ValidationFailed("Invalid fields: " + ", ".join(sorted(errors)) + ".", errors=errors) from None


def row_numbers(key: str, row_schema: ma.Schema) -> list[str]:
    """The form's N of each row :func:`load_form` loaded from ``key.N.field``, in order.

    For naming a problem found after loading (an amount that is not money) at the row shown.
    """
    return [number for number, _ in _rows(request.form, key, row_schema)]


def form_version(shown_at: str) -> int:
    """The version the page was drawn from (the form's hidden field), or a 422 at ``shown_at``.

    The person cannot edit the hidden field, so a value that is not a version means the page
    was tampered with or is broken: the refusal is shown at ``shown_at``, the form's own place
    for messages, and nothing is written.
    """
    version = request.form.get("version", "")
    if not (version.isascii() and version.isdigit() and len(version) <= 9):
        raise ValidationFailed.field(shown_at, OUT_OF_DATE)
    return int(version)


def _prefixed(sent: Mapping[str, str], key: str) -> dict[str, str]:
    prefix = f"{key}."
    return {name.removeprefix(prefix): sent[name] for name in sent if name.startswith(prefix)}


def _rows(sent: Mapping[str, str], key: str, schema: ma.Schema) -> list[tuple[str, dict[str, str]]]:
    """The filled rows of ``key.N.field`` keys, in the form's order, each with its N."""
    rows: dict[str, dict[str, str]] = {}
    for path, value in _prefixed(sent, key).items():
        number, _, sub = path.partition(".")
        if sub:
            rows.setdefault(number, {})[sub] = value
    required = [f.data_key or n for n, f in schema.load_fields.items() if f.required]
    filled = []
    for number in sorted(rows, key=lambda n: (len(n), n)):
        row = {sub: value for sub, value in rows[number].items() if value != ""}
        if any(row.get(name, "").strip() for name in required):
            filled.append((number, row))
    return filled


def _renamed(path: str, renamed: dict[str, str]) -> str:
    for index_prefix, number_prefix in renamed.items():
        if path.startswith(index_prefix):
            return number_prefix + path.removeprefix(index_prefix)
    return path
