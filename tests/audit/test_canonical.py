"""Canonical bytes, strict canonical parsing, timestamps and entry objects."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from types import MappingProxyType

import pytest
import rfc8785

from ledger.audit.canonical import (
    ZERO_HASH,
    MalformedEntry,
    NonCanonicalValue,
    NotCanonical,
    build_entry,
    canonical_bytes,
    encode_tree,
    format_timestamp,
    is_canonical,
    leaf_hash,
    parse_canonical,
    parse_timestamp,
    validate_entry,
)

ACTOR = {"id": "u-1", "role": "finance_officer"}
SUBJECT = {"type": "expense_report", "id": "er-9"}
WHEN = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)


def make_entry(**overrides: object) -> dict[str, object]:
    entry: dict[str, object] = dict(
        build_entry(1, WHEN, ACTOR, "expense_report.approved", SUBJECT, {"amount": "1.00"}, ZERO_HASH)
    )
    entry.update(overrides)
    return entry


class TestCanonicalBytes:
    def test_keys_are_sorted_and_whitespace_removed(self) -> None:
        assert canonical_bytes({"b": 1, "a": {"d": [1, 2], "c": None}}) == (
            b'{"a":{"c":null,"d":[1,2]},"b":1}'
        )

    def test_keys_sort_by_utf16_code_units(self) -> None:
        # U+1F600 is the surrogate pair D83D DE00, which sorts before U+FB33 in
        # UTF-16 although its code point is larger (RFC 8785 section 3.2.3).
        assert canonical_bytes({"\ufb33": 1, "\U0001f600": 2}) == ('{"\U0001f600":2,"\ufb33":1}'.encode())

    def test_unicode_is_raw_utf8_and_controls_are_escaped(self) -> None:
        value = {"text": '社区 é \u2028 \x01\n"\\'}
        assert canonical_bytes(value) == ('{"text":"社区 é \u2028 \\u0001\\n\\"\\\\"}').encode()

    def test_literals_and_safe_integer_bounds(self) -> None:
        value = {"t": True, "f": False, "n": None, "max": 2**53 - 1, "min": -(2**53 - 1)}
        assert canonical_bytes(value) == (
            b'{"f":false,"max":9007199254740991,"min":-9007199254740991,"n":null,"t":true}'
        )

    def test_tuples_and_read_only_mappings_are_json(self) -> None:
        assert canonical_bytes(MappingProxyType({"a": (1, "x")})) == b'{"a":[1,"x"]}'

    @pytest.mark.parametrize(
        ("value", "path"),
        [
            ({"data": {"amount": 1.5}}, "$.data.amount"),
            ({"data": {"amount": 1.0}}, "$.data.amount"),
            ({"amount": float("nan")}, "$.amount"),
            ({"amount": Decimal("1.50")}, "$.amount"),
            ({"big": 2**53}, "$.big"),
            ({"small": -(2**53)}, "$.small"),
            ({"raw": b"bytes"}, "$.raw"),
            ({"when": WHEN}, "$.when"),
            ({"tags": {"a", "b"}}, "$.tags"),
            ({"data": {"lines": [{"ok": 1}, {"amount": 2.5}]}}, "$.data.lines[1].amount"),
            ({"data": {"odd key": 0.1}}, '$.data["odd key"]'),
            ({"data": {1: "x"}}, "$.data"),
            ({"text": "\ud800"}, "$.text"),
        ],
    )
    def test_values_without_a_stable_form_are_refused_with_their_path(
        self, value: dict[str, object], path: str
    ) -> None:
        with pytest.raises(NonCanonicalValue) as caught:
            canonical_bytes(value)
        assert caught.value.path == path
        assert str(caught.value).startswith(path)

    def test_leaf_hash_is_rfc6962_leaf(self) -> None:
        canonical = b'{"a":1}'
        assert leaf_hash(canonical) == hashlib.sha256(b"\x00" + canonical).digest()
        assert bytes(32) == ZERO_HASH


class TestIsCanonical:
    def test_canonical_bytes_are_canonical(self) -> None:
        line = canonical_bytes(make_entry())
        assert is_canonical(line)
        assert parse_canonical(line) == make_entry()

    @pytest.mark.parametrize(
        "line",
        [
            pytest.param(b'{"a": 1}', id="whitespace"),
            pytest.param(b' {"a":1}', id="leading-space"),
            pytest.param(b'{"a":1}\n', id="trailing-newline"),
            pytest.param(b'{"b":1,"a":2}', id="reordered-keys"),
            pytest.param(b'{"a":1,"a":1}', id="duplicate-keys"),
            pytest.param(b'{"a":{"x":1,"x":2}}', id="nested-duplicate-keys"),
            pytest.param(b'{"a":1.0}', id="float"),
            pytest.param(b'{"a":1e2}', id="exponent"),
            pytest.param(b'{"a":NaN}', id="nan"),
            pytest.param(b'{"a":9007199254740992}', id="unsafe-integer"),
            pytest.param(b'{"a":"\\u00e9"}', id="needless-escape"),
            pytest.param(b'{"a":"\\ud800"}', id="lone-surrogate"),
            pytest.param(b'{"a":"\xff"}', id="invalid-utf8"),
            pytest.param(b'{"a":"\xed\xa0\x80"}', id="encoded-surrogate"),
            pytest.param(b"\xef\xbb\xbf{}", id="bom"),
            pytest.param(b"", id="empty"),
            pytest.param(b'{"a":01}', id="leading-zero"),
            pytest.param(b'{"a":-0}', id="negative-zero"),
            # The orjson fast path would read these back byte for byte; they must not pass it.
            pytest.param(b"1.5", id="top-level-float"),
            pytest.param(b"[1,2.5]", id="float-in-array"),
            pytest.param(b'{"a":-1.25e+30}', id="negative-exponent-float"),
            pytest.param(b"9007199254740993", id="top-level-unsafe-integer"),
            pytest.param(b'{"a":[-18446744073709551615]}', id="u64-magnitude-integer"),
            pytest.param(b'{"\xef\xbc\xa1":1,"\xf0\x9f\x98\x80":2}', id="astral-key-code-point-order"),
        ],
    )
    def test_non_canonical_lines_are_rejected(self, line: bytes) -> None:
        assert not is_canonical(line)
        with pytest.raises(NotCanonical):
            parse_canonical(line)

    @pytest.mark.parametrize(
        "line",
        [
            pytest.param(b'{"note":"at 10:1.5, [3.0 and ,7e2"}', id="float-like-text-in-string"),
            pytest.param(b'{"id":"1234567890123456789"}', id="long-digits-in-string"),
            pytest.param(b'{"a":9007199254740991,"b":[-9007199254740991]}', id="largest-safe-integers"),
            pytest.param('{"\U0001f600":2,"\uff21":1}'.encode(), id="astral-key-utf16-order"),
        ],
    )
    def test_canonical_lines_that_look_unusual_are_accepted(self, line: bytes) -> None:
        assert is_canonical(line)


class TestTimestamps:
    def test_utc_with_six_fraction_digits(self) -> None:
        assert format_timestamp(datetime(2026, 11, 27, 10, 0, tzinfo=UTC)) == "2026-11-27T10:00:00.000000Z"
        assert format_timestamp(datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=UTC)) == "2026-01-02T03:04:05.000006Z"

    def test_aware_datetimes_are_converted_to_utc(self) -> None:
        beijing = timezone(timedelta(hours=8))
        assert format_timestamp(datetime(2026, 11, 27, 8, 30, tzinfo=beijing)) == (
            "2026-11-27T00:30:00.000000Z"
        )

    def test_small_years_are_zero_padded(self) -> None:
        assert format_timestamp(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00.000000Z"

    def test_naive_datetimes_are_refused(self) -> None:
        with pytest.raises(ValueError, match="naive"):
            format_timestamp(datetime(2026, 11, 27, 10, 0))

    def test_parse_round_trip_and_strictness(self) -> None:
        moment = datetime(2026, 11, 27, 10, 0, 0, 42, tzinfo=UTC)
        assert parse_timestamp(format_timestamp(moment)) == moment
        for text in (
            "2026-11-27T10:00:00Z",
            "2026-11-27T10:00:00.000000+00:00",
            "2026-13-01T00:00:00.000000Z",
            "\u0662\u0660\u0662\u0666-11-27T10:00:00.000000Z",  # Arabic-Indic digits
        ):
            with pytest.raises(ValueError, match="timestamp"):
                parse_timestamp(text)


class TestEntries:
    def test_build_entry_has_exactly_the_design_keys(self) -> None:
        entry = build_entry(
            42,
            WHEN,
            ACTOR,
            "expense_report.approved",
            SUBJECT,
            {"amount": "1250.00", "lines": [1, 2]},
            bytes(range(32)),
        )
        assert entry == {
            "v": 1,
            "seq": 42,
            "ts": "2026-11-27T10:00:00.000000Z",
            "actor": ACTOR,
            "action": "expense_report.approved",
            "subject": SUBJECT,
            "data": {"amount": "1250.00", "lines": [1, 2]},
            "prev": bytes(range(32)).hex(),
        }
        assert is_canonical(canonical_bytes(entry))

    def test_first_entry_links_to_64_zeros(self) -> None:
        assert make_entry()["prev"] == "0" * 64

    def test_prev_may_be_given_as_hex(self) -> None:
        assert make_entry(prev="ab" * 32)["prev"] == "ab" * 32

    @pytest.mark.parametrize(
        ("arguments", "error"),
        [
            ({"data": {"amount": 1.5}}, NonCanonicalValue),
            ({"prev": bytes(31)}, ValueError),
            ({"prev": "AB" * 32}, ValueError),
            ({"seq": 0}, MalformedEntry),
            ({"seq": True}, MalformedEntry),
            ({"actor": {"id": "u-1"}}, MalformedEntry),
            ({"subject": {"type": "fund", "id": 7}}, MalformedEntry),
            ({"action": ""}, MalformedEntry),
            ({"ts": datetime(2026, 1, 1)}, ValueError),
        ],
    )
    def test_build_entry_refuses_what_would_not_verify(
        self, arguments: dict[str, object], error: type[Exception]
    ) -> None:
        values: dict[str, object] = {
            "seq": 1,
            "ts": WHEN,
            "actor": ACTOR,
            "action": "fund.activated",
            "subject": SUBJECT,
            "data": {},
            "prev": ZERO_HASH,
        }
        values.update(arguments)
        with pytest.raises(error):
            build_entry(**values)  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        "entry",
        [
            pytest.param([], id="not-an-object"),
            pytest.param(make_entry(extra=1), id="extra-key"),
            pytest.param({k: v for k, v in make_entry().items() if k != "data"}, id="missing-key"),
            pytest.param(make_entry(v=2), id="version-2"),
            pytest.param(make_entry(v=True), id="version-true"),
            pytest.param(make_entry(ts="2026-11-27T10:00:00Z"), id="short-timestamp"),
            pytest.param(make_entry(prev="0" * 63), id="short-prev"),
            pytest.param(make_entry(data=[]), id="data-not-object"),
            pytest.param(make_entry(actor=None), id="actor-null"),
        ],
    )
    def test_validate_entry_rejects_malformed_entries(self, entry: object) -> None:
        with pytest.raises(MalformedEntry):
            validate_entry(entry)


class TestEquivalenceWithRfc8785:
    """parse_canonical re-encodes with the json module; it must agree with rfc8785 byte for byte."""

    ALPHABET = (
        'aZ09 _-/\x00\x01\x08\t\n\x0b\x0c\r\x1f"\\\x7f\x80é社\u2028\u2029\ud7ff\ue000\ufb33\ufeff\uffff'
        "\U00010000\U0001f600\U0010ffff"
    )

    def random_string(self, rng: random.Random) -> str:
        return "".join(rng.choice(self.ALPHABET) for _ in range(rng.randint(0, 6)))

    def random_value(self, rng: random.Random, depth: int = 0) -> object:
        kind = rng.randint(0, 6 if depth < 3 else 4)
        if kind == 0:
            return rng.choice([None, True, False])
        if kind == 1:
            return rng.choice([0, 1, -1, 2**53 - 1, -(2**53 - 1), rng.randint(-(10**12), 10**12)])
        if kind in (2, 3, 4):
            return self.random_string(rng)
        if kind == 5:
            return [self.random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return {self.random_string(rng): self.random_value(rng, depth + 1) for _ in range(rng.randint(0, 5))}

    def test_randomised_values(self) -> None:
        rng = random.Random(8785)
        for _ in range(2000):
            value = self.random_value(rng)
            canonical = rfc8785.dumps(value)  # type: ignore[arg-type]
            assert parse_canonical(canonical) == value
            # The same value in code point key order (json's sort_keys) is canonical
            # exactly when that order coincides with UTF-16 order.
            code_point_order = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
            candidate = code_point_order.encode("utf-8")
            assert is_canonical(candidate) == (candidate == canonical)

    def test_canonical_bytes_agree_with_the_rfc8785_package(self) -> None:
        """The fast serialiser against the reference implementation, as the oracle."""
        rng = random.Random(6962)
        for _ in range(3000):
            value = {"data": self.random_value(rng)}
            assert canonical_bytes(value) == rfc8785.dumps(value)  # type: ignore[arg-type]

    def test_built_entries_are_written_canonically(self) -> None:
        rng = random.Random(9162)
        for seq in range(1, 500):
            entry = build_entry(
                seq=seq,
                ts=datetime(2026, 11, 28, 10, 0, tzinfo=UTC),
                actor={"id": self.random_string(rng) or "a", "role": "admin"},
                action="test.random",
                subject={"type": "thing", "id": str(seq)},
                data={"value": self.random_value(rng)},
                prev=ZERO_HASH,
            )
            assert encode_tree(entry) == rfc8785.dumps(entry)  # type: ignore[arg-type]
