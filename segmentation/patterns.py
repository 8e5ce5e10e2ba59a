"""Whether a reading of a string (digits and separators) has the shape of something people
write in a field: a plain number, a date, an amount, a phone or account number.

Used to arbitrate between readings of ambiguous marks (a speck read as '.', a leaning '1' or a
'/'): a reading of no known shape has a mark misread somewhere.
"""
from __future__ import annotations

import re

# A whole date with one kind of separator: d.m.yy, d/m/yyyy, d-m-yyyy; yyyy-m-d. Its back-references
# count its own groups, so in _SHAPES it follows only alternatives without groups.
_DATES = r"\d{1,2}([./-])\d{1,2}\1(\d{2}|\d{4})|\d{4}([./-])\d{1,2}\3\d{1,2}"
_SHAPES = re.compile("|".join((
    r"\d+",                                           # plain number, reference
    _DATES,
    r"\d{1,2}/(\d{1,2}|\d{4})",                       # d/m, m/yyyy
    r"\d{1,3}(,\d{3})+(\.\d{2})?",                    # 1,234,567.89
    r"\d{1,3}(\.\d{3})+(,\d{2})?",                    # 1.234.567,89
    r"\d+[.,]\d{2}",                                  # 12.50, 12,50
    r"\d+(-\d+)+",                                    # 353-014-7169, account numbers
)))


# Two short groups then a year of no possible length: a date with a digit lost or gained
# ('17-12-1988' read '17-12-088'), not an account number.
_BROKEN_DATE = re.compile(r"\d{1,2}-\d{1,2}-(\d|\d{3}|\d{5,})")


# An amount whose whole part starts with a zero and goes on for two digits or more: nobody
# writes '0212.68'; it is a date that lost a separator ('02.12.68').
_ZERO_LED_AMOUNT = re.compile(r"0[^./,-]{2,}[.,][^./,-]{2}")


# One separator with three digits after it and one to three before ('71.575', '1,234'): thousands
# in one convention, three decimals in the other ('1,234,567' can only be thousands). Either the
# value is ambiguous or the separator is a speck (a stop at a '1' foot in '71575'): a person decides.
_AMBIGUOUS_GROUPS = re.compile(r"\d{1,3}[.,]\d{3}")


def ambiguous_grouping(text: str) -> bool:
    """Whether ``text`` is a number with one separator and three digits after it, which reads as
    two different values by convention ('71.575': 71575 or 71.575; '1,234': 1234 or 1.234)."""
    return _AMBIGUOUS_GROUPS.fullmatch(text) is not None


def plausible(text: str) -> bool:
    """Whether ``text`` (digits and the separators ``. , / -``; any other character counts as
    a digit, e.g. '?' for an unread one) has one of the shapes above."""
    skeleton = "".join(ch if ch in "./,-" else "0" for ch in text)
    return (_SHAPES.fullmatch(skeleton) is not None and _BROKEN_DATE.fullmatch(skeleton) is None
            and _ZERO_LED_AMOUNT.fullmatch(text) is None)


YEARS = (1800, 2099)  # a four-digit group outside these is no year ('06/3908' is a misread '1', '2128' a misread '0')


def possible_date(text: str) -> bool:
    """Whether a '/'-separated reading ('19/08/65', '3/2024', '2024/1/31', '05/32') names a
    possible day and month (either order; '?' fits anything) and, where it has four digits, year.
    A leaning '1' read as '/' between other digits gives impossible ones ('54/69', '06/3908',
    '5/32')."""
    groups = text.split("/")
    if len(groups) not in (2, 3) or not all(groups):
        return False

    def fits(group: str, most: int) -> bool:
        return "?" in group or (group.isdigit() and 1 <= int(group) <= most)

    def year(group: str) -> bool:
        return len(group) != 4 or "?" in group or (group.isdigit() and YEARS[0] <= int(group) <= YEARS[1])

    if len(groups) == 2:
        first, second = groups
        if len(second) == 4:
            return year(second) and fits(first, 12)
        # d/m or m/d; a month and a two-digit year only as 'mm/yy' (a card's expiry): '5/32' and
        # '3/95' are '5132' and '3195' with a leaning '1'.
        return (fits(first, 31) and fits(second, 12)) or \
            (fits(first, 12) and (fits(second, 31) or (len(first) == 2 and len(second) == 2)))
    first, second, third = groups
    if len(first) == 4:
        return year(first) and fits(second, 12) and fits(third, 31)
    return year(third) and ((fits(first, 31) and fits(second, 12)) or (fits(first, 12) and fits(second, 31)))


_WRITTEN_DATE = re.compile(_DATES)


def written_date(text: str) -> bool:
    """Whether ``text`` is a whole date written with one kind of separator ('19.08.1965',
    '19-08-65', '2024/1/31') that names a possible day, month and year (:func:`possible_date`)."""
    return _WRITTEN_DATE.fullmatch(text) is not None and possible_date(re.sub(r"[.-]", "/", text))


def impossible_date_groups(text: str) -> list[slice]:
    """Where a reading with the shape of a whole date written with '.' or '/' ('09.40.2018')
    names no possible one: the character spans of the groups at fault (the day and month when
    neither order fits, the year when it is out of range); empty for any other text. Dates with
    '-' are left out: sort codes ('40-12-99') have their shape."""
    if "-" in text or _WRITTEN_DATE.fullmatch(text) is None:
        return []
    groups = text.replace(".", "/").split("/")
    year = 0 if len(groups[0]) == 4 else 2

    def with_unknown(keep: set[int]) -> str:
        return "/".join(g if i in keep else "?" * len(g) for i, g in enumerate(groups))

    day_month = {0, 1, 2} - {year}
    faulty = (sorted(day_month) if not possible_date(with_unknown(day_month)) else []) + \
        ([year] if not possible_date(with_unknown({year})) else [])
    starts = [sum(len(g) + 1 for g in groups[:i]) for i in range(3)]
    return [slice(starts[i], starts[i] + len(groups[i])) for i in sorted(faulty)]
