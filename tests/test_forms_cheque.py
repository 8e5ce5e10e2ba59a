"""Cheques: which strings are the amount and the date, and how they come out in fields.csv."""
from __future__ import annotations

from forms.cheque import pick
from forms.reader import Plan, assemble
from forms.template import CHEQUE
from pipeline.results import Box, DigitString, Glyph

W, H = 1400, 640


def string(text: str, x: int, y: int, kind: str = "line", confidence: float = 0.99, sid: int = 0) -> DigitString:
    glyphs = [Glyph(Box(x + 30 * i, y, 25, 40), ch, confidence if ch.isdigit() else 1.0,
                    is_separator=not ch.isdigit(), flagged=ch.isdigit() and confidence < 0.9)
              for i, ch in enumerate(text)]
    return DigitString(glyphs, string_id=sid, kind=kind)


def test_boxes_in_place_win():
    date = string("12.03.2024", 1000, 60, "box")
    amount = string("1.234,56", 950, 340, "box")
    noise = string("1?7?2", 80, 80)           # bank name read as junk
    words = string("12.50", 100, 380)         # a number in the payee line
    picked = pick([noise, date, words, amount], W, H)
    assert picked["amount"] is amount and picked["date"] is date


def test_dates_on_a_line_and_missing_roles():
    date = string("01/02/24", 1000, 70)  # no date box: written on a line, top right
    amount = string("250.00", 950, 340, "box")
    assert pick([amount, date], W, H) == {"amount": amount, "date": date}
    assert pick([string("7??1", 100, 500)], W, H) == {"amount": None, "date": None}


def test_fields_normalised_and_flagged():
    strings = [string("12.03.2024", 1000, 60, "box", sid=1), string("1,234.5", 950, 340, "box", sid=2)]
    fields = {f.name: f for f in assemble(Plan(template=CHEQUE), [], strings, W, H)}
    assert fields["date"].value == "2024-03-12" and not fields["date"].flagged
    # One decimal: a cheque amount needs its cents, so the reader's "1,234.5" is flagged.
    assert fields["amount"].flagged and fields["amount"].string_id == 2
    strings = [string("31.04.2024", 1000, 60, "box"), string("1.234,56", 950, 340, "box", 0.5)]
    fields = {f.name: f for f in assemble(Plan(template=CHEQUE), [], strings, W, H)}
    assert fields["date"].problems == ("impossible date",)
    assert fields["amount"].value == "1234.56" and fields["amount"].problems == ("doubtful digit",)
    empty = {f.name: f for f in assemble(Plan(template=CHEQUE), [], [], W, H)}
    assert empty["amount"].flagged and empty["amount"].problems == ("empty",)
