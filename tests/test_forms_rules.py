"""Field rules: check digits, amounts in both conventions, dates, lengths and patterns."""
from __future__ import annotations

import pytest

from forms.rules import check_field, luhn_digit, luhn_ok, parse_amount, parse_date
from forms.template import FieldSpec

BOX = (0.1, 0.1, 0.2, 0.05)


def spec(**kw) -> FieldSpec:
    return FieldSpec(name="f", type=kw.pop("type", "digits"), box=BOX, **kw)


def test_luhn():
    assert luhn_ok("79927398713")  # the textbook example
    assert not luhn_ok("79927398710")
    assert luhn_digit("7992739871") == "3"
    assert not luhn_ok("") and not luhn_ok("12a4")
    # A single wrong digit or a swap of neighbours (not 0/9) always fails.
    assert not luhn_ok("79927398813") and not luhn_ok("97927398713")


@pytest.mark.parametrize("text, value", [
    ("1,234.56", "1234.56"), ("1.234,56", "1234.56"), ("1234.56", "1234.56"), ("1234,56", "1234.56"),
    ("12,345,678.90", "12345678.90"), ("0.50", "0.50"), ("1,234", "1234"), ("1.234", "1234"), ("75", "75"),
])
def test_amount_layouts(text, value):
    checked = parse_amount(text)
    assert checked.problems == [] and checked.value == value


@pytest.mark.parametrize("text, problem", [
    ("12,34.56", "thousands groups"),        # a group of two between separators
    ("1,2345.67", "thousands groups"),
    ("1,234,56", "decimal separator also used"),  # one comma for both jobs
    ("1.234.56", "decimal separator also used"),
    ("1,234.5", None),                       # one decimal: fine without a decimals rule
    ("0123.45", "leading zero"),
    (".45", "no digits before"),
    ("12.", "nothing after"),
    ("12-50", "unexpected separator"),
])
def test_amount_layout_problems(text, problem):
    problems = parse_amount(text).problems
    if problem is None:
        assert problems == []
    else:
        assert any(problem in p for p in problems), problems


def test_amount_with_fixed_convention_and_cents():
    assert parse_amount("1.234,56", decimal=",", decimals=2).value == "1234.56"
    # With "," the decimal separator, "1,234.56" is read as 1,234 grouped by "." - and fails.
    assert parse_amount("1,234.56", decimal=",", decimals=2).problems
    assert parse_amount("123456", decimals=2).problems == ["no decimal separator"]  # a lost point
    assert parse_amount("1234.5", decimals=2).problems


@pytest.mark.parametrize("text, iso", [
    ("21/11/2026", "2026-11-21"), ("21.11.26", "2026-11-21"), ("1-2-1999", "1999-02-01"),
    ("29/02/2024", "2024-02-29"), ("21112026", "2026-11-21"), ("211126", "2026-11-21"),
])
def test_dates(text, iso):
    checked = parse_date(text)
    assert checked.problems == [] and checked.value == iso


@pytest.mark.parametrize("text, problem", [
    ("30/02/2024", "impossible"), ("29/02/2023", "impossible"), ("31/04/2020", "impossible"),
    ("12/13/2020", "impossible"), ("00/10/2020", "impossible"), ("12/10/2020/1", "three parts"),
    ("12/10-2020", "mixed"), ("1210202", "digits"), ("12/10/1850", "outside"), ("123/1/2020", "wrong length"),
])
def test_date_problems(text, problem):
    problems = parse_date(text).problems
    assert any(problem in p for p in problems), problems


def test_date_orders_and_two_digit_years():
    assert parse_date("2026-11-21", "YMD").value == "2026-11-21"
    assert parse_date("11/21/2026", "MDY").value == "2026-11-21"
    assert parse_date("01/02/55", years=(1950, 2049)).value == "1955-02-01"
    assert parse_date("01/02/30", years=(1950, 2049)).value == "2030-02-01"


def test_check_field_digits():
    account = spec(length=(10, 10), check="luhn")
    assert check_field("7992739871", account).problems == ["check digit (luhn) fails"]
    assert check_field("79927398713", account).problems == ["11 digits, expected 10"]  # Luhn passes
    valid = "799273987" + luhn_digit("799273987")
    assert check_field(valid, account).problems == []
    assert check_field("12.34", spec()).problems == ["unexpected separator"]
    sort_code = spec(pattern=r"\d{2}-\d{2}-\d{2}")
    assert check_field("20-45-77", sort_code).problems == []
    assert check_field("20-4577", sort_code).problems == ["does not match the pattern"]
    assert check_field("12?4", spec()).problems == ["unreadable mark"]


def test_check_field_empty_and_types():
    assert check_field("", spec()).problems == ["empty"]
    assert check_field("", spec(required=False)).problems == []
    assert check_field("1.234,56", spec(type="amount", decimal=",", decimals=2)).value == "1234.56"
    assert check_field("31/04/2020", spec(type="date")).problems == ["impossible date"]
    assert check_field("12345", spec(type="amount", length=(1, 4))).problems == ["5 digits, expected 1-4"]
