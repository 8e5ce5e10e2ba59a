"""The digit strings people write on forms and cheques: numbers, dates, amounts, phone numbers."""
from __future__ import annotations

import numpy as np


def number(rng: np.random.Generator, low: int = 4, high: int = 10) -> str:
    """A run of ``low``..``high`` digits (account numbers, references)."""
    return "".join(str(d) for d in rng.integers(0, 10, int(rng.integers(low, high + 1))))


def date(rng: np.random.Generator, separators: str = "/-.") -> str:
    """A day/month/year date such as ``21/11/2026``; sometimes a two-digit year."""
    sep = separators[int(rng.integers(len(separators)))]
    day, month = int(rng.integers(1, 29)), int(rng.integers(1, 13))
    year = int(rng.integers(1950, 2031))
    year_text = f"{year % 100:02d}" if rng.random() < 0.2 else str(year)
    return f"{day:02d}{sep}{month:02d}{sep}{year_text}"


def amount(rng: np.random.Generator, max_digits: int = 6) -> str:
    """A money amount with two decimals, e.g. ``1,234.56``; thousands comma when >= 1000."""
    whole = int(10 ** rng.uniform(1, max_digits - 0.01))
    cents = 0 if rng.random() < 0.3 else int(rng.integers(0, 100))
    comma = rng.random() < 0.75
    whole_text = f"{whole:,}" if comma else str(whole)
    return f"{whole_text}.{cents:02d}"


def phone(rng: np.random.Generator) -> str:
    """A phone number in dash-separated groups, e.g. ``0161-496-0732``."""
    groups = [int(rng.integers(3, 5)), 3, 4]
    return "-".join(number(rng, g, g) for g in groups)


def sort_code(rng: np.random.Generator) -> str:
    """A bank sort code, e.g. ``20-45-77``."""
    return "-".join(number(rng, 2, 2) for _ in range(3))


def pick(rng: np.random.Generator, kinds: tuple[str, ...] = ("number", "date", "amount", "phone"),
         max_len: int = 12) -> str:
    """A string of one of ``kinds`` no longer than ``max_len`` characters."""
    makers = {"number": lambda: number(rng, 4, max(4, min(10, max_len))), "date": lambda: date(rng),
              "amount": lambda: amount(rng), "phone": lambda: phone(rng),
              "sortcode": lambda: sort_code(rng)}
    for _ in range(20):
        text = makers[kinds[int(rng.integers(len(kinds)))]]()
        if len(text) <= max_len:
            return text
    return number(rng, min(4, max_len), max(1, min(8, max_len)))
