"""The fast way to accept a stored audit entry: one typed decode, one sorted re-encode, one compare.

:func:`parse_canonical` followed by :func:`validate_entry` (``canonical.py``) is the reference: it
names every problem exactly and stays the only judge of a bad entry. Verifying a large log calls
the pair once per entry, and most of its cost is Python walking the value twice. Here msgspec
decodes the bytes straight into the entry's shape (its field types and constraints are the shape
check), writes the value back with sorted keys, and compares the bytes: equal bytes prove the
input was canonical, so parse, shape check and canonical-form proof happen in one pass in C.

The fast path only ever *accepts*. Whatever it is not sure of (a decode error, a field of the
wrong type, bytes that differ after re-encoding, text where its sorting or number rules could
differ from RFC 8785) makes :func:`fast_entry` return None, and the caller takes the reference
path, which refuses with today's message or accepts. So a verdict and every refusal message are
the reference's; tests/audit/test_fast_entry.py checks on random and adversarial entries that
whenever this accepts, the reference accepts the same value.

Why acceptance here implies the reference accepts (each point is one of its rules):

- valid UTF-8, no lone surrogates: msgspec refuses both while decoding;
- no floats, NaN or infinities: a float literal reaches ``_refuse_float`` and fails the decode;
  ``NaN`` and ``Infinity`` are not JSON to msgspec either;
- integers within ±(2**53 - 1): the typed fields carry the bound; inside ``data`` (untyped) any
  number of 16 digits or more makes :func:`fast_entry` give up before decoding (in canonical
  bytes every number starts right after ``:``, ``,`` or ``[``), and 15 digits are below 2**53;
- no duplicate keys, canonical key order, no whitespace, minimal escapes: the re-encoded bytes
  would differ (msgspec keeps one value per key and writes keys sorted; its escaping is checked
  against the reference encoder once, at import, and the fast path is off if they ever differ);
- key order by UTF-16 code units: msgspec sorts by code point, which is the same order unless a
  key holds a character beyond U+FFFF, so text with any such character goes to the reference;
- the entry's shape: the structs below spell out :func:`validate_entry`'s rules, and the
  timestamp's calendar check is the same ``datetime.fromisoformat`` call as ``parse_timestamp``'s.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Literal, NoReturn

import msgspec

from ledger.audit.canonical import MAX_SAFE_INTEGER, JsonValue

_NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]
_SafeSeq = Annotated[int, msgspec.Meta(ge=1, le=MAX_SAFE_INTEGER)]


class _Actor(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    id: _NonEmpty
    role: _NonEmpty


class _Subject(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    id: _NonEmpty
    type: _NonEmpty


class _Entry(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    # An actor or subject with more keys than these (allowed by the entry format) fails the
    # decode and takes the reference path: the service never writes one. ``gc=False``: the
    # collector need not track what holds no cycle (about a quarter of the decode's time).
    action: _NonEmpty
    actor: _Actor
    data: dict[str, Any]
    prev: str
    seq: _SafeSeq
    subject: _Subject
    ts: str
    v: Literal[1]


def _refuse_float(text: str) -> NoReturn:
    raise ValueError(f"number {text} is not an integer")


_DECODER = msgspec.json.Decoder(_Entry, float_hook=_refuse_float)
_ENCODER = msgspec.json.Encoder(order="sorted")
# What the guards look for, found with substring searches (memchr speed) in the line mapped through
# one table: every digit to "0" and each of ",[" to ":" (a number of 16 digits or more right where
# canonical bytes start a number, see above), and every UTF-8 lead byte of a character beyond
# U+FFFF (where code point and UTF-16 order can differ) to 0xF0. A regular expression opening with
# a character class would cost several times the whole decode.
_GUARD_SHAPES = bytes.maketrans(b"123456789,[\xf1\xf2\xf3\xf4", b"000000000::\xf0\xf0\xf0\xf0")
_LONG_NUMBER = b":" + b"0" * 16
_LONG_NEGATIVE_NUMBER = b":-" + b"0" * 16
_ASTRAL_LEAD = b"\xf0"
# The timestamp's and prev's shapes, checked with C string methods: msgspec's ``pattern``
# constraint calls Python's re module, which costs more than the whole decode.
_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_TIMESTAMP_SHAPE = b"0000-00-00T00:00:00.000000Z"
_HEX_DIGITS = b"0123456789abcdef"


def _escaping_agrees() -> bool:
    """msgspec writes strings exactly as the reference encoder does (checked once, at import)."""
    sample = "".join(chr(code) for code in (*range(0x800), 0x2028, 0x2029, 0xFEFF, 0xFFFD, 0xFFFF, 0x10000))
    reference = json.dumps(sample, ensure_ascii=False).encode("utf-8")
    return msgspec.json.encode(sample) == reference


ENABLED = _escaping_agrees()
"""False if this msgspec escapes any character unlike RFC 8785: then every entry takes the reference."""


def _may_read_unlike_the_reference(text: bytes) -> bool:
    """Whether ``text`` holds what msgspec might read unlike the reference: a number of 16 digits or
    more, or a character beyond U+FFFF (see the module's notes)."""
    shapes = text.translate(_GUARD_SHAPES)
    if _LONG_NUMBER in shapes or _LONG_NEGATIVE_NUMBER in shapes:
        return True
    return not text.isascii() and _ASTRAL_LEAD in shapes


def fast_entry(line: bytes) -> dict[str, JsonValue] | None:
    """The entry in ``line`` when it is surely canonical and well formed, else None.

    None says nothing about the entry: the caller must then ask the reference
    (``parse_canonical`` and ``validate_entry``), which accepts it or names the problem.
    """
    if not ENABLED:
        return None
    if _may_read_unlike_the_reference(line):
        return None
    try:
        entry = _DECODER.decode(line)
        if _ENCODER.encode(entry) != line:
            return None
        ts, prev = entry.ts, entry.prev
        if not (ts.isascii() and ts.encode().translate(_DIGITS) == _TIMESTAMP_SHAPE):
            return None
        if len(prev) != 64 or not prev.isascii() or prev.encode().translate(None, _HEX_DIGITS):
            return None
        # The calendar check of ``parse_timestamp`` (2026-02-30 has the right shape).
        datetime.fromisoformat(ts[:-1])
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return None
    return as_dict(entry)


def as_dict(entry: _Entry) -> dict[str, JsonValue]:
    """An accepted entry as the reference's parse returns it (keys in canonical order)."""
    actor, subject = entry.actor, entry.subject
    return {
        "action": entry.action,
        "actor": {"id": actor.id, "role": actor.role},
        "data": entry.data,
        "prev": entry.prev,
        "seq": entry.seq,
        "subject": {"id": subject.id, "type": subject.type},
        "ts": entry.ts,
        "v": entry.v,
    }


def fast_entries(block: bytes, count: int, first_seq: int) -> list[_Entry] | None:
    """The ``count`` entries of ``block`` (each line ending with a newline), numbered
    ``first_seq``, ``first_seq + 1``, ..., when every one of them is surely canonical and well
    formed, else None: :func:`fast_entry`'s checks, each done once over the whole block instead of
    once per line (how a range of a large log is verified).

    The guards search the block once, msgspec decodes it in one call and writes it back in one
    call, and equal blocks prove every line canonical (a line holding a newline of its own, or an
    empty one, changes the count or the bytes). The timestamps and ``prev`` hashes are checked
    joined, after each one's length. None, as for one entry, says nothing: the caller checks
    entry by entry.
    """
    if not ENABLED or count < 1:
        return None
    if _may_read_unlike_the_reference(block):
        return None
    try:
        entries = _DECODER.decode_lines(block)
        if len(entries) != count or _ENCODER.encode_lines(entries) != block:
            return None
        if [entry.seq for entry in entries] != list(range(first_seq, first_seq + count)):
            return None
        stamps = [entry.ts for entry in entries]
        if set(map(len, stamps)) != {len(_TIMESTAMP_SHAPE)}:
            return None
        joined = "".join(stamps)
        if not (joined.isascii() and joined.encode().translate(_DIGITS) == _TIMESTAMP_SHAPE * count):
            return None
        hashes = [entry.prev for entry in entries]
        joined = "".join(hashes)
        if (
            set(map(len, hashes)) != {64}
            or not joined.isascii()
            or joined.encode().translate(None, _HEX_DIGITS)
        ):
            return None
        for stamp in {stamp[:-1] for stamp in stamps}:  # the calendar check, once per distinct time
            datetime.fromisoformat(stamp)
    except (msgspec.MsgspecError, ValueError, RecursionError):
        return None
    return entries
