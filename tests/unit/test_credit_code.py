"""The GB 32100-2015 Unified Social Credit Code check."""

from __future__ import annotations

import pytest

from ledger.credit_code import ALPHABET, check_character, credit_code_problem, is_valid_credit_code
from ledger.demo import ORGANISATIONS, demo_credit_code
from ledger.models.organisation import RegistrationType

# From reference/domain.md section 2.4; all pass the GB 32100 check.
VALID_CODES = [
    "51420000MJH200395N",
    "52420000MJH233402K",
    "53420000MJH2448303",
    "91110000600037341L",
    "91440101MA5CJQ4N59",
    "123502001549897397",
    "111101050000000191",
    # Overseas NGO representative offices (public-security registration) start with G1.
    "G1610000713522976L",
    "G1330000MCW06863XQ",
    "G11100007178352756",
]


@pytest.mark.parametrize("code", VALID_CODES)
def test_valid_codes_are_accepted(code: str) -> None:
    assert credit_code_problem(code) is None


def test_the_worked_example_check_character() -> None:
    assert check_character("51420000MJH200395") == "N"


def test_weights_are_powers_of_three_mod_31() -> None:
    from ledger.credit_code import WEIGHTS

    assert WEIGHTS == (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@pytest.mark.parametrize("code", VALID_CODES)
def test_every_single_character_change_is_rejected(code: str) -> None:
    replacements = set(ALPHABET) | set("IOSVZ") | {"a", "-", " ", "é", "٣"}
    for position in range(len(code)):
        for char in replacements - {code[position]}:
            changed = code[:position] + char + code[position + 1 :]
            assert not is_valid_credit_code(changed), (position, char, changed)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("51420000MJH200395", "must be 18 characters long, not 17"),
        ("51420000MJH200395NN", "must be 18 characters long, not 19"),
        ("51420000MJH2003I5N", "character 'I' at position 16 is not allowed"),
        ("514200A0MJH200395N", "character 'A' at position 7 must be a digit"),
        ("51420000MJH2003664", "check character is '4', expected"),
    ],
)
def test_problems_say_what_is_wrong(code: str, message: str) -> None:
    problem = credit_code_problem(code)
    assert problem is not None
    assert message in problem.message


def test_pilot_era_codes_that_fail_the_check_are_rejected() -> None:
    for code in ("91350203M0001QAY9B", "91350100M0001TGQXM", "91350211M0000XUF46"):
        assert not is_valid_credit_code(code)


def test_demo_codes_are_valid_and_distinct() -> None:
    codes = {
        demo_credit_code("420102", registration_type, serial)
        for serial, (_c, _n, registration_type) in enumerate(ORGANISATIONS, start=1)
    }
    assert len(codes) == len(ORGANISATIONS)
    assert all(is_valid_credit_code(code) for code in codes)
    assert demo_credit_code("420102", RegistrationType.FOUNDATION, 1)[:2] == "53"
