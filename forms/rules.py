"""What a field's text cannot be, and its normalised value.

Each check returns the problems it finds as short phrases (they end up in fields.csv's
``problems`` column); a field with any problem is flagged for a person, however sure the
classifier was of its digits. Values are normalised: dates to ISO ``YYYY-MM-DD``, amounts to a
plain decimal (``1234.56``: no grouping, a point before the cents), digits as written.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from forms.template import FieldSpec

UNREADABLE = "?"
DATE_SEPARATORS = "/-."
AMOUNT_SEPARATORS = ".,"


@dataclass
class Checked:
    """A field's normalised ``value`` (the text as read when it cannot be normalised) and the
    ``problems`` that make it wrong or doubtful."""

    value: str
    problems: list[str] = field(default_factory=list)


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check digit test, on a string of digits."""
    if not digits or not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def luhn_digit(payload: str) -> str:
    """The digit that makes ``payload`` + digit pass :func:`luhn_ok`."""
    return next(str(d) for d in range(10) if luhn_ok(payload + str(d)))


def _length_problem(n: int, length: tuple[int, int] | None) -> list[str]:
    if length is None or length[0] <= n <= length[1]:
        return []
    want = str(length[0]) if length[0] == length[1] else f"{length[0]}-{length[1]}"
    return [f"{n} digits, expected {want}"]


def check_digits(text: str, spec: FieldSpec) -> Checked:
    """A run of digits (account numbers, references): length, pattern, check digit. Without a
    pattern, separators are not expected (a stray dot is more likely a speck than intended)."""
    digits = "".join(ch for ch in text if ch.isdigit())
    problems = _length_problem(len(digits), spec.length)
    if spec.pattern is not None:
        if not re.fullmatch(spec.pattern, text):
            problems.append("does not match the pattern")
    elif len(digits) != len(text):
        problems.append("unexpected separator")
    if spec.check == "luhn" and not luhn_ok(digits):
        problems.append("check digit (luhn) fails")
    return Checked(text, problems)


def parse_amount(text: str, decimal: str | None = None, decimals: int | None = None) -> Checked:
    """An amount such as ``1,234.56`` or ``1.234,56`` as ``1234.56``; problems when its digits
    disagree with its separator layout (groups of three between thousands separators, one kind
    of grouping separator, the decimal separator last), or when a required decimal part is
    missing. ``decimal`` fixes the decimal separator ("." or ","); None accepts either, taking
    the last separator as decimal when two digits follow it and as grouping when three do."""
    problems: list[str] = []
    if any(ch not in "0123456789" + AMOUNT_SEPARATORS for ch in text):
        return Checked(text, ["unexpected separator"])
    seps = [i for i, ch in enumerate(text) if ch in AMOUNT_SEPARATORS]
    whole, frac = text, None
    if seps:
        last = seps[-1]
        tail = text[last + 1:]
        if decimal is not None:
            is_decimal = text[last] == decimal
        else:
            is_decimal = len(tail) != 3 or (len(seps) > 1 and text[seps[0]] != text[last])
        if is_decimal:
            whole, frac = text[:last], tail
    groups_sep = {text[i] for i in seps if frac is None or i != seps[-1]}
    if len(groups_sep) > 1:
        problems.append("mixed thousands separators")
    if frac is not None and text[seps[-1]] in groups_sep:
        problems.append("decimal separator also used for thousands")
    if groups_sep:
        groups = re.split(r"[.,]", whole)
        if not (1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])):
            problems.append("thousands groups are not three digits")
    digits_whole = re.sub(r"[.,]", "", whole)
    if not digits_whole:
        problems.append("no digits before the decimal separator")
    elif len(digits_whole) > 1 and digits_whole[0] == "0":
        problems.append("leading zero")
    if frac is not None:
        if frac == "":
            problems.append("nothing after the decimal separator")
        elif decimals is not None and len(frac) != decimals:
            problems.append(f"{len(frac)} digits after the decimal separator, expected {decimals}")
    elif decimals:
        problems.append("no decimal separator")
    if problems:
        return Checked(text, problems)
    value = digits_whole + (f".{frac}" if frac else "")
    return Checked(value, [])


def check_amount(text: str, spec: FieldSpec) -> Checked:
    checked = parse_amount(text, spec.decimal, spec.decimals)
    digits = "".join(ch for ch in text if ch.isdigit())
    checked.problems += _length_problem(len(digits), spec.length)
    if spec.pattern is not None and not re.fullmatch(spec.pattern, text):
        checked.problems.append("does not match the pattern")
    return checked


def _year(text: str, years: tuple[int, int]) -> int:
    """A written year; two digits take the century that puts it within ``years`` (the later
    one when both do: 19xx and 20xx both plausible is rare with sensible ranges)."""
    value = int(text)
    if len(text) != 2:
        return value
    fits = [c + value for c in (1900, 2000) if years[0] <= c + value <= years[1]]
    return fits[-1] if fits else (2000 + value if value < 50 else 1900 + value)


def parse_date(text: str, order: str = "DMY", years: tuple[int, int] = (1900, 2099)) -> Checked:
    """A written date (``21/11/2026``, ``21.11.26``, or ``21112026`` in a comb) as ISO
    ``2026-11-21``; problems for impossible dates (31 April, 29 February of 2027, month 13),
    unplausible years and layouts that are not a date."""
    seps = {ch for ch in text if ch in DATE_SEPARATORS}
    if any(not ch.isdigit() and ch not in DATE_SEPARATORS for ch in text):
        return Checked(text, ["not a date"])
    if seps:
        parts = re.split(r"[/\-.]", text)
        if len(parts) != 3 or not all(parts):
            return Checked(text, ["not a date (expected three parts)"])
        if len(seps) > 1:
            return Checked(text, ["mixed date separators"])
    else:  # a comb or a date written without separators: DDMMYYYY or DDMMYY in ``order``
        if len(text) not in (6, 8):
            return Checked(text, [f"not a date ({len(text)} digits, expected 6 or 8)"])
        year_len = len(text) - 4
        sizes = {"D": 2, "M": 2, "Y": year_len}
        parts, at = [], 0
        for key in order:
            parts.append(text[at: at + sizes[key]])
            at += sizes[key]
    named = dict(zip(order, parts))
    day, month, year = named["D"], named["M"], named["Y"]
    if not (1 <= len(day) <= 2 and 1 <= len(month) <= 2 and len(year) in (2, 4)):
        return Checked(text, ["not a date (day, month or year has the wrong length)"])
    y = _year(year, years)
    try:
        date = dt.date(y, int(month), int(day))
    except ValueError:
        return Checked(text, ["impossible date"])
    problems = [] if years[0] <= y <= years[1] else [f"year {y} outside {years[0]}-{years[1]}"]
    return Checked(date.isoformat(), problems)


def check_date(text: str, spec: FieldSpec) -> Checked:
    checked = parse_date(text, spec.order, spec.years)
    if spec.pattern is not None and not re.fullmatch(spec.pattern, text):
        checked.problems.append("does not match the pattern")
    return checked


CHECKERS = {"digits": check_digits, "amount": check_amount, "date": check_date}


def check_field(text: str, spec: FieldSpec) -> Checked:
    """The normalised value and problems of ``text`` read for the field ``spec``."""
    if not text:
        return Checked("", ["empty"] if spec.required else [])
    if UNREADABLE in text:
        return Checked(text, ["unreadable mark"])
    return CHECKERS[spec.type](text, spec)
