"""Texts written in form fields, each with the value a reader should report for it: account
numbers with a Luhn check digit, dates (ISO value), amounts in both separator conventions
(plain decimal value). Kept apart from the reader's rules (forms.rules) so the truth does not
share its code with what it checks."""
from __future__ import annotations

import numpy as np

from synth import texts


def luhn_number(rng: np.random.Generator, length: int) -> tuple[str, str]:
    """A ``length``-digit number whose last digit is its Luhn check digit."""
    payload = [int(d) for d in rng.integers(0, 10, length - 1)]
    total = 0
    for i, d in enumerate(reversed(payload)):  # the check digit will sit at position 0
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    text = "".join(map(str, payload)) + str((10 - total % 10) % 10)
    return text, text


def number(rng: np.random.Generator, low: int, high: int) -> tuple[str, str]:
    text = texts.number(rng, low, high)
    return text, text


def sort_code(rng: np.random.Generator) -> tuple[str, str]:
    text = texts.sort_code(rng)
    return text, text


def phone(rng: np.random.Generator) -> tuple[str, str]:
    text = texts.phone(rng)
    return text, text


def date(rng: np.random.Generator, separators: str = "/-.", years: tuple[int, int] = (1950, 2030),
         short_year: float = 0.2) -> tuple[str, str]:
    """A day/month/year date (``07.03.2024``, ``07/03/24``; empty ``separators``: ``07032024``
    for a comb) and its ISO value. Two-digit years stand for 1950-2049."""
    day, month = int(rng.integers(1, 29)), int(rng.integers(1, 13))
    if rng.random() < 0.15:  # month ends too: 29, 30, 31 where the month has them
        day = {2: 28, 4: 30, 6: 30, 9: 30, 11: 30}.get(month, 31)
    year = int(rng.integers(years[0], years[1] + 1))
    short = rng.random() < short_year and 1950 <= year <= 2049
    year_text = f"{year % 100:02d}" if short else str(year)
    sep = separators[int(rng.integers(len(separators)))] if separators else ""
    return f"{day:02d}{sep}{month:02d}{sep}{year_text}", f"{year:04d}-{month:02d}-{day:02d}"


def amount(rng: np.random.Generator, decimal: str = ".", max_digits: int = 6,
           grouping: float = 0.75) -> tuple[str, str]:
    """A money amount with two decimals in the ``decimal`` convention (``1,234.56`` for ".",
    ``1.234,56`` for ","), thousands grouped with chance ``grouping``; value ``1234.56``."""
    whole = int(10 ** rng.uniform(1, max_digits - 0.01))
    cents = 0 if rng.random() < 0.3 else int(rng.integers(0, 100))
    group = "," if decimal == "." else "."
    whole_text = f"{whole:,}".replace(",", group) if rng.random() < grouping else str(whole)
    return f"{whole_text}{decimal}{cents:02d}", f"{whole}.{cents:02d}"


def any_amount(rng: np.random.Generator) -> tuple[str, str]:
    """An amount in either convention, half and half (cheques from several countries)."""
    return amount(rng, "." if rng.random() < 0.5 else ",")


def date_value(text: str) -> str:
    """ISO value of a date written ``dd<sep>mm<sep>yyyy`` or ``dd<sep>mm<sep>yy`` (1950-2049),
    as :func:`synth.texts.date` writes them on cheques."""
    day, month, year = text.replace("-", "/").replace(".", "/").split("/")
    y = int(year) if len(year) == 4 else (2000 + int(year) if int(year) < 50 else 1900 + int(year))
    return f"{y:04d}-{int(month):02d}-{int(day):02d}"


def amount_value(text: str) -> str:
    """Plain decimal value of an amount written with two decimals in either convention."""
    if len(text) < 4 or text[-3] not in ".,":
        raise ValueError(f"not an amount with two decimals: {text!r}")
    whole = "".join(ch for ch in text[:-3] if ch.isdigit())
    return f"{whole}.{text[-2:]}"
