"""Which strings of a cheque are its courtesy amount and its date.

Cheques differ in layout, so nothing is fixed: every string read on the cheque is scored for
each role by where it is (amount: right half, middle band; date: right half, top band), whether
it sits in a printed box, and whether its text parses as that role (an amount with cents, a
possible date). The pair of distinct strings with the best total wins; a role whose best
string scores under MIN_SCORE stays empty (and is flagged).
"""
from __future__ import annotations

from pipeline.results import DigitString
from forms.rules import parse_amount, parse_date

BOX, SIDE, BAND, PARSES = 2.0, 1.0, 1.0, 1.5
MIN_SCORE = 3.0
AMOUNT_BAND = (0.35, 0.9)  # of the cheque's height: where the amount box's centre lies
DATE_BAND = (0.0, 0.4)


def _centre(string: DigitString, width: int, height: int) -> tuple[float, float]:
    b = string.box
    return (b.x + b.w / 2) / max(1, width), (b.y + b.h / 2) / max(1, height)


def amount_score(string: DigitString, width: int, height: int) -> float:
    x, y = _centre(string, width, height)
    score = BOX * (string.kind == "box") + SIDE * (x > 0.5) + BAND * (AMOUNT_BAND[0] <= y <= AMOUNT_BAND[1])
    return score + PARSES * (not parse_amount(string.text, None, 2).problems)


def date_score(string: DigitString, width: int, height: int) -> float:
    x, y = _centre(string, width, height)
    score = BOX * (string.kind == "box") + SIDE * (x > 0.5) + BAND * (DATE_BAND[0] <= y <= DATE_BAND[1])
    return score + PARSES * (not parse_date(string.text, "DMY", (1950, 2049)).problems)


def pick(strings: list[DigitString], width: int, height: int) -> dict[str, DigitString | None]:
    """{"amount": string or None, "date": string or None} for a cheque ``width`` x ``height``."""
    amounts = [amount_score(s, width, height) for s in strings]
    dates = [date_score(s, width, height) for s in strings]
    best, chosen = -1.0, (None, None)
    options = list(range(len(strings))) + [None]
    for a in options:
        for d in options:
            if a is not None and a == d:
                continue
            sa = amounts[a] if a is not None and amounts[a] >= MIN_SCORE else None
            sd = dates[d] if d is not None and dates[d] >= MIN_SCORE else None
            if (a is not None and sa is None) or (d is not None and sd is None):
                continue
            total = (sa or 0.0) + (sd or 0.0)
            if total > best:
                best, chosen = total, (a, d)
    a, d = chosen
    return {"amount": strings[a] if a is not None else None, "date": strings[d] if d is not None else None}
