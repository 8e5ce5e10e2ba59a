"""String-level flags set while a page is assembled (pipeline.page)."""
from __future__ import annotations

from pipeline.page import _flag_shapeless
from pipeline.results import Box, DigitString, Glyph


def _string(text: str) -> DigitString:
    return DigitString(glyphs=[Glyph(box=Box(20 * i, 0, 15, 30), label=ch, confidence=0.99 if ch.isdigit() else 1.0,
                                     is_separator=not ch.isdigit()) for i, ch in enumerate(text)])


def test_separators_of_no_known_shape_flag_their_neighbours():
    string = _string("1811.2001")  # '18.11.2001' with a dot lost: no date, no amount
    _flag_shapeless(string)
    assert string.flagged
    assert [g.label for g in string.glyphs if g.flagged] == ["1", "2"]  # beside the '.'


def test_known_shapes_stay_unflagged():
    for text in ("18.11.2001", "1,234.56", "12,50", "353-014-7169", "19/08/65", "0042"):
        string = _string(text)
        _flag_shapeless(string)
        assert not string.flagged, text
