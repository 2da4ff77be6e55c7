"""Canonical form of an audit entry: the exact bytes that get hashed.

An audit entry is a JSON object (DESIGN.md section 5)::

    {"v":1, "seq":42, "ts":"2026-11-27T10:00:00.000000Z",
     "actor":{"id":"...","role":"finance_officer"}, "action":"expense_report.approved",
     "subject":{"type":"expense_report","id":"..."}, "data":{...}, "prev":"<64 hex>"}

Its canonical bytes are the RFC 8785 JSON Canonicalization Scheme (JCS)
serialisation: keys sorted by UTF-16 code units, no insignificant whitespace,
minimal string escaping, UTF-8. Anyone can re-serialise a stored entry and get
the same bytes, so anyone can recompute its hash without our code or ORM.

To keep that promise the value tree is restricted to what every JSON parser
reads back identically: strings, integers of magnitude below 2**53, booleans,
null, arrays and objects with string keys. Floats are refused outright (money
is a decimal string, DESIGN.md section 4), as are Decimal, bytes and datetime:
the caller must choose their textual form explicitly.

The leaf hash of an entry is the RFC 6962 leaf hash of its canonical bytes,
and each entry's ``prev`` is the previous entry's leaf hash, which chains the
whole history into every new entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, NoReturn

try:  # optional: the offline verifier needs only cryptography
    import orjson
except ImportError:  # pragma: no cover - the service always has it
    orjson = None  # type: ignore[assignment]

from ledger.audit.merkle import hash_leaf

ENTRY_VERSION = 1
ENTRY_KEYS = frozenset({"v", "seq", "ts", "actor", "action", "subject", "data", "prev"})
ZERO_HASH = bytes(32)
"""The ``prev`` of the first entry (seq 1): 32 zero bytes."""

MAX_SAFE_INTEGER = 2**53 - 1
"""Largest integer every JSON parser reads back exactly (IEEE 754 double)."""

_TIMESTAMP_PATTERN = re.compile(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")
_HASH_HEX_PATTERN = re.compile(r"\A[0-9a-f]{64}\Z")
_IDENTIFIER_PATTERN = re.compile(r"\A[A-Za-z_][A-Za-z0-9_]*\Z")

JsonValue = str | int | bool | None | list["JsonValue"] | dict[str, "JsonValue"]
"""The value tree a canonical entry may contain."""


class NonCanonicalValue(ValueError):
    """A value that has no stable canonical JSON form (float, Decimal, bytes, ...)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class NotCanonical(ValueError):
    """Bytes that are not the canonical JCS serialisation of a JSON value."""


class MalformedEntry(ValueError):
    """A JSON value that is not a well-formed audit entry object."""


# --- canonical serialisation -------------------------------------------------


class _InvalidValue(Exception):
    """Internal: a bad value, with its path collected while the walk unwinds.

    Paths are only built on failure, so validating a valid entry costs no
    string formatting (this runs on every audit append).
    """

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem
        self.segments: list[str] = []


def _path_segment(key: str | int) -> str:
    if isinstance(key, int):
        return f"[{key}]"
    if _IDENTIFIER_PATTERN.match(key):
        return f".{key}"
    return f"[{json.dumps(key, ensure_ascii=False)}]"


def _check_string(value: str) -> None:
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates have no UTF-8 form, hence no canonical bytes.
            raise _InvalidValue("string contains a lone surrogate") from None


def _utf16_key(item: tuple[object, object]) -> bytes:
    return str(item[0]).encode("utf-16-be", "surrogatepass")


def _in_utf16_order(value: Mapping[Any, object]) -> list[tuple[Any, object]]:
    """The mapping's items in RFC 8785 key order: by UTF-16 code units.

    For keys without characters beyond U+FFFF that is code point order, which plain sorting
    gives; keys that are not strings are left for ``_plain_tree`` to refuse.
    """
    items = list(value.items())
    if not all(isinstance(k, str) for k, _ in items):
        return items
    keys = "".join(k for k, _ in items)
    if keys.isascii() or max(keys) < "\ud800":
        return sorted(items, key=lambda item: item[0])
    return sorted(items, key=_utf16_key)


def _plain_tree(value: object) -> JsonValue:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise _InvalidValue(f"integer {value} is outside ±(2**53 - 1); use a decimal string")
        # int subclasses (IntEnum, ...) are normalised so JCS sees a plain int.
        return int(value)
    if isinstance(value, str):
        _check_string(value)
        return str(value)
    if isinstance(value, Mapping):
        tree: dict[str, JsonValue] = {}
        for key, item in _in_utf16_order(value):
            if not isinstance(key, str):
                raise _InvalidValue(f"object key {key!r} is not a string")
            _check_string(key)
            try:
                tree[str(key)] = _plain_tree(item)
            except _InvalidValue as invalid:
                invalid.segments.append(_path_segment(key))
                raise
        return tree
    if isinstance(value, list | tuple):
        array: list[JsonValue] = []
        for position, item in enumerate(value):
            try:
                array.append(_plain_tree(item))
            except _InvalidValue as invalid:
                invalid.segments.append(_path_segment(position))
                raise
        return array
    if isinstance(value, float):
        raise _InvalidValue(f"float {value!r} is not allowed; use a decimal string")
    raise _InvalidValue(f"{type(value).__name__} is not a JSON value; convert it to a string explicitly")


def to_json_tree(value: object, path: str = "$") -> JsonValue:
    """Validate ``value`` for canonical JSON and return it as plain dicts and lists.

    Raises :class:`NonCanonicalValue` naming the JSON path (``$.data.lines[2]``)
    of the first offending value; ``path`` is the name of ``value`` itself.
    """
    try:
        return _plain_tree(value)
    except _InvalidValue as invalid:
        raise NonCanonicalValue(path + "".join(reversed(invalid.segments)), invalid.problem) from None


def canonical_bytes(entry: Mapping[str, object]) -> bytes:
    """RFC 8785 (JCS) bytes of ``entry`` after checking every value is canonical-safe.

    ``to_json_tree`` leaves only strings, safe integers, booleans, null, lists and objects with
    keys in UTF-16 order; for those, the C-accelerated json encoder with compact separators
    writes exactly RFC 8785 (see the note on the strict parsing path below), several times
    faster than the pure-Python ``rfc8785`` package, which the tests keep as the oracle.
    """
    return encode_tree(to_json_tree(entry))


def encode_tree(tree: JsonValue) -> bytes:
    """RFC 8785 bytes of a tree ``to_json_tree`` (or ``build_entry``) already checked and ordered."""
    return json.dumps(tree, ensure_ascii=False, separators=(",", ":"), check_circular=False).encode("utf-8")


def leaf_hash(canonical: bytes) -> bytes:
    """The entry's Merkle leaf hash: SHA-256(0x00 || canonical bytes)."""
    return hash_leaf(canonical)


# --- strict parsing ----------------------------------------------------------
#
# Verifying a million-line log calls parse_canonical a million times, and the
# pure-Python rfc8785 serialiser would dominate. The common case goes through
# orjson: for text without floats, long integers or characters beyond U+FFFF,
# its sorted-key output is exactly RFC 8785, so a value it reads and writes
# back byte for byte is canonical. Anything else, including every line that
# fails, takes the strict path below, which names the problem.
#
# On the strict path, within the value domain above (no floats), RFC 8785 output is exactly what the C-accelerated json encoder
# writes with ensure_ascii=False and compact separators: the same short
# escapes for " \ \b \f \n \r \t, lowercase \u00xx for other controls, every
# other character raw, integers in plain decimal. The one difference is key
# order (UTF-16 code units, not code points), and the parse hook below checks
# that order on the way in, so re-encoding in input order reproduces canonical
# bytes. tests/audit/test_canonical.py checks this equivalence against rfc8785
# on randomised values.


def _refuse_float(text: str) -> NoReturn:
    raise NotCanonical(f"number {text} is not an integer")


def _refuse_constant(text: str) -> NoReturn:
    raise NotCanonical(f"{text} is not JSON")


def _safe_integer(text: str) -> int:
    number = int(text)
    if not -MAX_SAFE_INTEGER <= number <= MAX_SAFE_INTEGER:
        raise NotCanonical(f"integer {text} is outside ±(2**53 - 1)")
    return number


def _utf16_order(key: str) -> bytes:
    try:
        # UTF-16BE bytes compare exactly as JCS orders keys: by UTF-16 code units.
        return key.encode("utf-16-be")
    except UnicodeEncodeError:
        raise NotCanonical("object key contains a lone surrogate") from None


def _object_in_canonical_order(pairs: list[tuple[str, JsonValue]]) -> dict[str, JsonValue]:
    result: dict[str, JsonValue] = {}
    previous: str | None = None
    for key, value in pairs:
        if previous is not None:
            if key.isascii() and previous.isascii():
                # Code point order is UTF-16 order for ASCII: skip the encoding.
                in_order = previous < key
            else:
                in_order = _utf16_order(previous) < _utf16_order(key)
            if not in_order:
                if key == previous:
                    raise NotCanonical(f"duplicate object key {key!r}")
                raise NotCanonical(f"object key {key!r} is out of canonical order")
        previous = key
        result[key] = value
    return result


def parse_canonical(line: bytes) -> JsonValue:
    """Parse ``line`` strictly and return its value if it is exactly canonical.

    Strict means: valid UTF-8, no duplicate keys, no floats or non-finite
    numbers, integers within ±(2**53 - 1); canonical means re-serialising the
    value gives back exactly ``line``. Raises :class:`NotCanonical` otherwise.
    """
    if orjson is not None and (line.isascii() or _ASTRAL_UTF8.search(line) is None):
        try:
            value: JsonValue = orjson.loads(line)
            if orjson.dumps(value, option=_ORJSON_CANONICAL) == line and not _holds_float(value):
                return value
        except (orjson.JSONDecodeError, orjson.JSONEncodeError):
            pass  # the strict parser below names what is wrong
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as error:
        raise NotCanonical(f"not valid UTF-8 ({error.reason} at byte {error.start})") from None
    if _ASTRAL_UTF8.search(line) is None:
        return _parse_canonical_bmp(line, text)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object_in_canonical_order,
            parse_float=_refuse_float,
            parse_int=_safe_integer,
            parse_constant=_refuse_constant,
        )
    except NotCanonical:
        raise
    except ValueError as error:
        # JSONDecodeError, or int() refusing an absurdly long digit string.
        raise NotCanonical(f"not JSON: {error}") from None
    try:
        expected = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        raise NotCanonical("a string contains a lone surrogate") from None
    if expected != line:
        raise NotCanonical(_first_difference(line, expected))
    return value


# A UTF-8 lead byte of a character beyond the Basic Multilingual Plane.
_ASTRAL_UTF8 = re.compile(rb"[\xf0-\xf4]")

# orjson orders keys by code point, JCS by UTF-16 unit, so the fast path takes only text without
# characters beyond U+FFFF. It refuses integers beyond 2**53 when writing (STRICT_INTEGER); floats
# it would read and write back unchanged, so a walk looks for them.
_ORJSON_CANONICAL = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER if orjson is not None else 0


def _holds_float(value: object) -> bool:
    # A loop, not recursion: entries carry table rows, so this walks hundreds of values each.
    pending: list[Any] = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is float:
            return True
    return False


def _parse_canonical_bmp(line: bytes, text: str) -> JsonValue:
    """The same check, faster, for text without characters beyond U+FFFF.

    For such text code-point order is UTF-16 order, so Python's own key sorting gives the RFC 8785
    order, and parsing needs no Python-level hook per object. Duplicate or misordered keys make
    the re-serialisation differ from ``line``, so they are still refused (with a less specific
    message); this path runs about three times faster on typical entries.
    """
    try:
        value: JsonValue = _STRICT_DECODER.decode(text)
    except NotCanonical:
        raise
    except ValueError as error:
        raise NotCanonical(f"not JSON: {error}") from None
    try:
        expected = _SORTED_ENCODER.encode(value).encode("utf-8")
    except UnicodeEncodeError:
        raise NotCanonical("a string contains a lone surrogate") from None
    if expected != line:
        raise NotCanonical(_first_difference(line, expected))
    return value


_STRICT_DECODER = json.JSONDecoder(
    parse_float=_refuse_float, parse_int=_safe_integer, parse_constant=_refuse_constant
)
_SORTED_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _first_difference(actual: bytes, expected: bytes) -> str:
    for offset, (got, want) in enumerate(zip(actual, expected, strict=False)):
        if got != want:
            return f"differs from its canonical form at byte {offset}"
    return f"is {len(actual)} bytes, its canonical form is {len(expected)} bytes"


def is_canonical(line: bytes) -> bool:
    """True when ``line`` is exactly the JCS serialisation of a strict JSON value."""
    try:
        parse_canonical(line)
    except NotCanonical:
        return False
    return True


# --- timestamps --------------------------------------------------------------


def format_timestamp(moment: datetime) -> str:
    """UTC timestamp as hashed: ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` (always 6 digits).

    Naive datetimes are refused: their instant is unknowable, and guessing a
    zone would silently put a wrong time under a signature.
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: give an aware datetime (e.g. datetime.now(UTC))")
    utc = moment.astimezone(UTC)
    # Formatted by hand because strftime("%Y") does not zero-pad years < 1000 everywhere.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T"
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def parse_timestamp(text: str) -> datetime:
    """Inverse of :func:`format_timestamp`; raises ValueError for any other form."""
    if not _TIMESTAMP_PATTERN.match(text):
        raise ValueError(f"timestamp {text!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    try:
        # fromisoformat is C code and the pattern has fixed the shape; it checks the calendar.
        return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise ValueError(f"timestamp {text!r} is not a real date and time") from None


# --- entry objects -----------------------------------------------------------


def _prev_hex(prev: bytes | str) -> str:
    if isinstance(prev, bytes):
        if len(prev) != len(ZERO_HASH):
            raise ValueError(f"prev must be a 32-byte leaf hash, got {len(prev)} bytes")
        return prev.hex()
    if not _HASH_HEX_PATTERN.match(prev):
        raise ValueError("prev must be 64 lowercase hex digits")
    return prev


def build_entry(
    seq: int,
    ts: datetime,
    actor: Mapping[str, object],
    action: str,
    subject: Mapping[str, object],
    data: Mapping[str, object],
    prev: bytes | str,
) -> dict[str, JsonValue]:
    """The audit entry object for DESIGN.md section 5, validated and canonical-safe.

    ``actor`` needs string ``id`` and ``role``; ``subject`` needs string ``type``
    and ``id``; ``prev`` is the previous entry's leaf hash (bytes or 64 hex
    digits; :data:`ZERO_HASH` for seq 1). Raises :class:`MalformedEntry` or
    :class:`NonCanonicalValue` for anything that would not verify later.
    """
    # Keys in canonical (sorted) order, so that ``encode_tree`` can write the entry as it is.
    entry: dict[str, JsonValue] = {
        "action": action,
        "actor": to_json_tree(actor, "$.actor"),
        "data": to_json_tree(data, "$.data"),
        "prev": _prev_hex(prev),
        "seq": seq,
        "subject": to_json_tree(subject, "$.subject"),
        "ts": format_timestamp(ts),
        "v": ENTRY_VERSION,
    }
    validate_entry(entry)
    return entry


def _require_string_fields(entry: Mapping[str, object], name: str, fields: tuple[str, ...]) -> None:
    value = entry[name]
    if not isinstance(value, dict):
        raise MalformedEntry(f"{name} must be an object")
    for field in fields:
        if not isinstance(value.get(field), str) or not value[field]:
            raise MalformedEntry(f"{name}.{field} must be a non-empty string")


def validate_entry(value: object) -> None:
    """Check that a parsed JSON value is a well-formed audit entry object.

    The top-level keys must be exactly those of DESIGN.md section 5; ``actor``
    and ``subject`` need their identifying strings but may carry more keys.
    Raises :class:`MalformedEntry` naming the first problem.
    """
    if not isinstance(value, dict):
        raise MalformedEntry("entry is not a JSON object")
    keys = set(value)
    if keys != ENTRY_KEYS:
        missing = ", ".join(sorted(ENTRY_KEYS - keys))
        extra = ", ".join(sorted(keys - ENTRY_KEYS))
        problems = [f"missing {missing}" if missing else "", f"unexpected {extra}" if extra else ""]
        raise MalformedEntry("entry keys are wrong: " + "; ".join(p for p in problems if p))
    version = value["v"]
    if isinstance(version, bool) or version != ENTRY_VERSION:
        raise MalformedEntry(f"v must be {ENTRY_VERSION}, got {version!r}")
    seq = value["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SAFE_INTEGER:
        raise MalformedEntry(f"seq must be an integer in 1..2**53-1, got {seq!r}")
    timestamp = value["ts"]
    if not isinstance(timestamp, str):
        raise MalformedEntry("ts must be a string")
    try:
        parse_timestamp(timestamp)
    except ValueError as error:
        raise MalformedEntry(f"ts: {error}") from None
    _require_string_fields(value, "actor", ("id", "role"))
    action = value["action"]
    if not isinstance(action, str) or not action:
        raise MalformedEntry("action must be a non-empty string")
    _require_string_fields(value, "subject", ("type", "id"))
    if not isinstance(value["data"], dict):
        raise MalformedEntry("data must be an object")
    prev = value["prev"]
    if not isinstance(prev, str) or not _HASH_HEX_PATTERN.match(prev):
        raise MalformedEntry("prev must be 64 lowercase hex digits")
