"""The fast path for audit entries gives the reference's verdict, on random and adversarial bytes.

The reference is ``parse_canonical`` then ``validate_entry`` (the exact parser, which names every
problem); the fast path is msgspec's typed decode with a sorted re-encode and byte compare
(:mod:`ledger.audit.fast_entry`), falling back to the reference for anything it is not sure of.
As transparency-dev/merkle keeps its naive tree as the oracle of the fast one, the reference is
the oracle here: for every input, ``parse_entry`` (fast, then reference) must give the same
verdict, reason and message as the reference alone, and whenever the fast path accepts by itself
the reference must accept the very same value (same types: ``True`` is not ``1``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.audit import fast_entry as fast_module
from ledger.audit.canonical import (
    MalformedEntry,
    NotCanonical,
    canonical_bytes,
    parse_canonical,
    validate_entry,
)
from ledger.audit.fast_entry import as_dict, fast_entries, fast_entry
from ledger.audit.log_verifier import _Failure, parse_entry

SAFE = 2**53 - 1


def reference(line: bytes) -> tuple[Any, ...]:
    """The exact parser's verdict: ("ok", value) or ("fail", reason, message)."""
    try:
        value = parse_canonical(line)
    except NotCanonical as error:
        return ("fail", "not_canonical", f"stored bytes {error}")
    try:
        validate_entry(value)
    except MalformedEntry as error:
        return ("fail", "malformed_entry", str(error))
    return ("ok", tagged(value))


def combined(line: bytes) -> tuple[Any, ...]:
    """The verifier's verdict: the fast path, and the reference for whatever it leaves."""
    try:
        value = parse_entry(line, 7)
    except _Failure as failure:
        return ("fail", failure.reason.value, failure.message)
    return ("ok", tagged(value))


def tagged(value: object) -> object:
    """The value with every leaf's type spelled out, so that True and 1 never compare equal."""
    if isinstance(value, dict):
        return ("object", [(key, tagged(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("array", [tagged(item) for item in value])
    return (type(value).__name__, value)


def outcome(verdict: Callable[[bytes], tuple[Any, ...]], line: bytes) -> tuple[Any, ...]:
    # Nesting thousands deep makes the reference parser raise RecursionError (as it did before the
    # fast path existed); the fast path must then raise the same, not give a verdict of its own.
    try:
        return verdict(line)
    except RecursionError:
        return ("raised", "RecursionError")


def assert_agree(line: bytes) -> None:
    expected = outcome(reference, line)
    assert outcome(combined, line) == expected, line[:200]
    accepted = fast_entry(line)
    if accepted is not None:
        assert expected == ("ok", tagged(accepted)), line[:200]
    # The same line as a block of one, as a range is verified: accepted only with the reference.
    seq = accepted["seq"] if accepted is not None else 1
    assert isinstance(seq, int)
    block = outcome(lambda text: (fast_entries(text + b"\n", 1, seq),), line)[0]
    if isinstance(block, list):
        assert expected == ("ok", tagged(as_dict(block[0]))), line[:200]


# --- what gets generated -------------------------------------------------------------------------

json_leaves = (
    st.none()
    | st.booleans()
    | st.integers(-SAFE, SAFE)
    | st.integers(-(2**70), 2**70)
    | st.text(max_size=12)
    | st.sampled_from(["", "é", "\u2028", "\u007f", "\x00", "\ue000", "\U0001f600", '"', "\\", "/"])
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def entry_objects() -> st.SearchStrategy[dict[str, Any]]:
    hexes = st.text("0123456789abcdef", min_size=64, max_size=64)
    return st.fixed_dictionaries(
        {
            "v": st.just(1),
            "seq": st.integers(1, SAFE),
            "ts": st.sampled_from(
                ["2026-11-27T10:00:00.000000Z", "0999-01-01T00:00:00.999999Z", "2024-02-29T23:59:59.000001Z"]
            ),
            "actor": st.fixed_dictionaries(
                {"id": st.text(min_size=1, max_size=8), "role": st.text(min_size=1)}
            ),
            "action": st.text(min_size=1, max_size=20),
            "subject": st.fixed_dictionaries({"type": st.text(min_size=1), "id": st.text(min_size=1)}),
            "data": st.dictionaries(st.text(max_size=8), json_values, max_size=5),
            "prev": hexes,
        }
    )


# Adversarial values for ``data``, as JSON text (spliced in as they are).
DATA_TEXTS = [
    b'{"a":1.0}',
    b'{"a":1e3}',
    b'{"a":-0}',
    b'{"a":01}',
    b'{"a":NaN}',
    b'{"a":Infinity}',
    b'{"a":-Infinity}',
    b'{"a":9007199254740991}',
    b'{"a":900719925474099}',
    b'{"a":[-123456789012345,{"b":-1}]}',
    b'{"a":9007199254740992}',
    b'{"a":-9007199254740992}',
    b'{"a":[9007199254740993]}',
    b'{"a":{"b":12345678901234567890}}',
    b'{"a":1,"a":1}',
    b'{"a":1,"a":2}',
    b'{"b":1,"a":2}',
    b'{"a":"\\ud800"}',
    b'{"a":"\\udc00"}',
    b'{"a":"\\ud83d\\ude00"}',
    b'{"a":"\xf0\x9f\x98\x80"}',
    b'{"\xee\x80\x80":1,"\xf0\x9f\x98\x80":2}',
    b'{"\xf0\x9f\x98\x80":1,"\xee\x80\x80":2}',
    b'{"a":"\\u00e9"}',
    b'{"a":"\\/"}',
    b'{"a":"\\u001F"}',
    b'{"a":"\\u001f"}',
    b'{"a":"\x1f"}',
    b'{"a":"\\u007f"}',
    b'{"a":"\x7f"}',
    b'{"a":"\\u2028"}',
    b'{"a":"\xe2\x80\xa8"}',
    b'{"a":"\\b\\f\\n\\r\\t"}',
    b'{"a":"\\u0008"}',
    b'{"a":"\xed\xa0\x80"}',
    b'{"a":"\xc0\xaf"}',
    b'{"a":"\xff"}',
    b'{"a":true}',
    b'{"a":null}',
    b'{"a":[]}',
    b"[]",
    b'"data"',
    b"1",
    b'{"a":' + b"[" * 5000 + b"]" * 5000 + b"}",
    b'{"a":"' + b"7" * 20 + b'"}',
    b'{"a":"x:12345678901234567"}',
    b'{"":0}',
    b'{"a":[1,2,]}',
    b"{}",
]

# Adversarial values for one top-level field (written canonically around them).
FIELD_VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    1,
    2,
    -1,
    1.0,
    0.5,
    SAFE,
    SAFE + 1,
    -SAFE - 1,
    2**64,
    "",
    "1",
    [],
    {},
    "2026-02-30T10:00:00.000000Z",
    "2026-11-27T10:00:00.000000Z\n",
    "2026-11-27T10:00:00Z",
    "2026-11-27 10:00:00.000000Z",
    "A" * 64,
    "a" * 63,
    "a" * 64 + "\n",
    "０" * 64,
    {"id": "x"},
    {"id": "x", "role": ""},
    {"id": "x", "role": "r", "more": 1},
    {"type": "t", "id": "i", "more": "m"},
    {"id": 1, "role": "r"},
    {"type": "t"},
]

# Bytes before and after a whole entry.
FRAMES = [
    (b"\xef\xbb\xbf", b""),
    (b"", b"\n"),
    (b" ", b""),
    (b"", b" "),
    (b"", b"x"),
    (b"", b"\x00"),
    (b"", b"{}"),
    (b"[", b"]"),
    (b"", b"\r\n"),
]


def canonical(entry: dict[str, Any]) -> bytes | None:
    try:
        return canonical_bytes(entry)
    except ValueError:
        return None  # an integer beyond 2**53: no canonical form to start from


# Byte-level and JSON-level changes an attacker or a broken exporter could make.
Mutation = Callable[[bytes, st.DataObject], bytes]


def _insert(line: bytes, data: st.DataObject) -> bytes:
    at = data.draw(st.integers(0, len(line)))
    piece = data.draw(
        st.sampled_from(
            [b" ", b"\n", b"\t", b",", b"\\", b'"', b"0", b"-", b"\xff", b"\xc3", b"\xef\xbb\xbf"]
        )
        | st.binary(min_size=1, max_size=3)
    )
    return line[:at] + piece + line[at:]


def _delete(line: bytes, data: st.DataObject) -> bytes:
    at = data.draw(st.integers(0, max(len(line) - 1, 0)))
    return line[:at] + line[at + 1 :]


def _replace(line: bytes, data: st.DataObject) -> bytes:
    at = data.draw(st.integers(0, max(len(line) - 1, 0)))
    return line[:at] + bytes([data.draw(st.integers(0, 255))]) + line[at + 1 :]


def _object(line: bytes) -> dict[str, Any]:
    value = json.loads(line)
    if not isinstance(value, dict):
        raise ValueError("not an object any more")
    return value


def _reencoded(line: bytes, data: st.DataObject) -> bytes:
    value = _object(line)
    style = data.draw(st.sampled_from(["unsorted", "spaces", "ascii", "indent", "reversed"]))
    if style == "unsorted":
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False).encode()
    if style == "spaces":
        return json.dumps(value, ensure_ascii=False, sort_keys=True).encode()
    if style == "ascii":
        return json.dumps(value, ensure_ascii=True, separators=(",", ":"), sort_keys=True).encode()
    if style == "indent":
        return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True).encode()
    reordered = dict(reversed(list(value.items())))
    return json.dumps(reordered, ensure_ascii=False, separators=(",", ":")).encode()


def _field_changed(line: bytes, data: st.DataObject) -> bytes:
    value = _object(line)
    field = data.draw(st.sampled_from([*sorted(value), "extra"]))
    replacement = data.draw(st.sampled_from(FIELD_VALUES) | json_values)
    if data.draw(st.booleans()) and field != "extra":
        del value[field]
    else:
        value[field] = replacement
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _text_spliced(line: bytes, data: st.DataObject) -> bytes:
    """Swap the value of ``data`` (always the third key) for adversarial JSON text."""
    head, _, tail = line.partition(b'"data":')
    depth, end = 0, 0
    for position, byte in enumerate(tail):
        if byte in b"{[":
            depth += 1
        elif byte in b"}]":
            depth -= 1
            if depth == 0:
                end = position + 1
                break
    snippet = data.draw(st.sampled_from(DATA_TEXTS))
    return head + b'"data":' + snippet + tail[end:]


def _framed(line: bytes, data: st.DataObject) -> bytes:
    before, after = data.draw(st.sampled_from(FRAMES))
    return before + line + after


MUTATIONS: list[Mutation] = [_insert, _delete, _replace, _reencoded, _field_changed, _text_spliced, _framed]


# --- the properties ------------------------------------------------------------------------------


def test_the_fast_path_is_on_with_the_installed_msgspec() -> None:
    # Off, every entry would take the reference and the properties below would prove nothing.
    assert fast_module.ENABLED


def test_a_service_entry_is_accepted_by_the_fast_path_itself() -> None:
    entry = {
        "action": "receipt.uploaded",
        "actor": {"id": "u1", "role": "org_member"},
        "data": {"rows": [{"table": "receipt", "key": ["r1"], "row": {"amount": "12.50", "n": 3}}]},
        "prev": "0" * 64,
        "seq": 1,
        "subject": {"id": "r1", "type": "receipt"},
        "ts": "2026-11-27T10:00:00.000000Z",
        "v": 1,
    }
    line = canonical_bytes(entry)
    assert fast_entry(line) == entry
    assert_agree(line)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=entry_objects())
def test_random_entries_get_the_same_verdict_and_value(entry: dict[str, Any]) -> None:
    line = canonical(entry)
    if line is not None:
        assert_agree(line)
    # The same object written in other ways (keys unsorted, spaced, escaped) is never canonical.
    assert_agree(json.dumps(entry, ensure_ascii=True, separators=(",", ":")).encode())


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entry=entry_objects(), data=st.data(), rounds=st.integers(1, 3))
def test_adversarial_entries_get_the_same_verdict_and_value(
    entry: dict[str, Any], data: st.DataObject, rounds: int
) -> None:
    line = canonical(entry) or canonical_bytes({**entry, "data": {}})
    for _ in range(rounds):
        mutation = data.draw(st.sampled_from(MUTATIONS))
        try:
            line = mutation(line, data)
        except (ValueError, RecursionError):
            break  # the last change left text json.loads cannot read: that text is the case
        assert_agree(line)


@pytest.mark.parametrize(
    "line",
    [
        b"",
        b"{}",
        b"null",
        b"\xef\xbb\xbf{}",
        b'{"action":"a","actor":{"id":"i","role":"r"},"data":{},"prev":"'
        + b"0" * 64
        + b'","seq":1,"subject":{"id":"i","type":"t"},"ts":"2026-11-27T10:00:00.000000Z","v":true}',
        b'{"action":"a","actor":{"id":"i","role":"r"},"data":{},"prev":"'
        + b"0" * 64
        + b'","seq":1.0,"subject":{"id":"i","type":"t"},"ts":"2026-11-27T10:00:00.000000Z","v":1}',
        b'{"action":"a","actor":{"id":"i","role":"r"},"data":{},"prev":"'
        + b"0" * 64
        + b'","seq":1,"seq":1,"subject":{"id":"i","type":"t"},"ts":"2026-11-27T10:00:00.000000Z","v":1}',
        b'{"action":"a","actor":{"id":"i","role":"r"},"data":{},"prev":"'
        + b"0" * 64
        + b'\\n","seq":1,"subject":{"id":"i","type":"t"},"ts":"2026-11-27T10:00:00.000000Z","v":1}',
        b'{"action":"a","actor":{"id":"i","role":"r"},"data":{},"prev":"'
        + b"0" * 64
        + b'","seq":1,"subject":{"id":"i","type":"t"},"ts":"2026-11-27T10:00:00.000000Z\\n","v":1}',
        b'{"action":"a","actor":{"id":"i","role":"r"},"data":{},"prev":"'
        + b"0" * 64
        + b'","seq":9007199254740992,"subject":{"id":"i","type":"t"},"ts":"2026-11-27T10:00:00.000000Z","v":1}',
        b'{"action":"a","actor":{"id":"i","role":"r"},"data":{"x":9007199254740991},"prev":"'
        + b"0" * 64
        + b'","seq":1,"subject":{"id":"i","type":"t"},"ts":"2026-11-27T10:00:00.000000Z","v":1}',
        b'{"action":"a","actor":{"id":"i","role":"r"},"data":{"x":[-9007199254740992]},"prev":"'
        + b"0" * 64
        + b'","seq":1,"subject":{"id":"i","type":"t"},"ts":"2026-11-27T10:00:00.000000Z","v":1}',
    ],
)
def test_chosen_edge_cases_get_the_same_verdict(line: bytes) -> None:
    assert_agree(line)


SAMPLE_ENTRY: dict[str, Any] = {
    "action": "expense_report.approved",
    "actor": {"id": "u1", "role": "finance_officer"},
    "data": {"amount": "12.50", "lines": [1, 2, {"k": None, "ok": True}]},
    "prev": "ab" * 32,
    "seq": 42,
    "subject": {"id": "e1", "type": "expense_report"},
    "ts": "2026-11-27T10:00:00.000000Z",
    "v": 1,
}


@pytest.mark.parametrize("text", DATA_TEXTS)
def test_each_adversarial_data_value_gets_the_same_verdict(text: bytes) -> None:
    head, _, tail = canonical_bytes(SAMPLE_ENTRY).partition(b'"data":')
    assert_agree(head + b'"data":' + text + tail[tail.index(b',"prev"') :])


@pytest.mark.parametrize("field", [*sorted(SAMPLE_ENTRY), "extra"])
def test_each_adversarial_field_value_gets_the_same_verdict(field: str) -> None:
    for value in FIELD_VALUES:
        changed = {**SAMPLE_ENTRY, field: value}
        assert_agree(json.dumps(changed, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())
        if field != "extra":
            missing = {key: item for key, item in SAMPLE_ENTRY.items() if key != field}
            assert_agree(json.dumps(missing, separators=(",", ":"), sort_keys=True).encode())


@pytest.mark.parametrize(("before", "after"), FRAMES)
def test_each_framing_gets_the_same_verdict(before: bytes, after: bytes) -> None:
    assert_agree(before + canonical_bytes(SAMPLE_ENTRY) + after)


def _numbered(entries: list[dict[str, Any]], first: int) -> list[bytes]:
    """The entries as canonical lines, numbered from ``first`` (entries without one are left out)."""
    lines = [canonical({**entry, "seq": first + n}) for n, entry in enumerate(entries)]
    return [line for line in lines if line is not None]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    entries=st.lists(entry_objects(), min_size=1, max_size=5),
    first=st.integers(1, 1000),
    data=st.data(),
)
def test_a_block_is_accepted_only_when_every_line_is(
    entries: list[dict[str, Any]], first: int, data: st.DataObject
) -> None:
    lines = _numbered(entries, first)
    if not lines:
        return
    if data.draw(st.booleans()):  # one line changed, anywhere in the block
        at = data.draw(st.integers(0, len(lines) - 1))
        try:
            lines[at] = data.draw(st.sampled_from(MUTATIONS))(lines[at], data)
        except (ValueError, RecursionError):
            return
    block = outcome(lambda text: (fast_entries(text, len(lines), first),), b"\n".join(lines) + b"\n")[0]
    one_by_one = [fast_entry(line) for line in lines]
    if isinstance(block, list):
        for n, (line, accepted) in enumerate(zip(lines, block, strict=True)):
            assert reference(line) == ("ok", tagged(as_dict(accepted))), line[:200]
            assert accepted.seq == first + n
    elif all(accepted is not None for accepted in one_by_one):
        # Every line taken one by one and numbered in order: the block takes them too, unless a
        # line holds what only the block's framing sees (a newline inside the text).
        assert [accepted["seq"] for accepted in one_by_one if accepted] != list(
            range(first, first + len(lines))
        )


def test_a_block_numbered_out_of_order_or_miscounted_is_not_taken() -> None:
    lines = _numbered([SAMPLE_ENTRY] * 3, 5)
    block = b"\n".join(lines) + b"\n"
    assert fast_entries(block, 3, 5) is not None
    assert fast_entries(block, 3, 6) is None  # the first line is seq 5
    assert fast_entries(block, 2, 5) is None  # three lines, not two
    swapped = b"\n".join([lines[1], lines[0], lines[2]]) + b"\n"
    assert fast_entries(swapped, 3, 5) is None
    assert fast_entries(block.replace(b"\n", b"\n\n", 1), 3, 5) is None  # an empty line
    assert fast_entries(block[:-1], 3, 5) is None  # the last line without its newline
