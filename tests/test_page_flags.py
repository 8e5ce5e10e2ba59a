"""String-level flags set while a page is assembled (pipeline.page)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.page import _flag_shapeless, _glyph, _looks_like_digits
from pipeline.results import FLAG_REASONS, SEPARATOR_LAYOUT, Box, DigitString, Glyph
from segmentation.marks import Component


def _string(text: str) -> DigitString:
    return DigitString(glyphs=[Glyph(box=Box(20 * i, 0, 15, 30), label=ch, confidence=0.99 if ch.isdigit() else 1.0,
                                     is_separator=not ch.isdigit()) for i, ch in enumerate(text)])


def test_separators_of_no_known_shape_flag_their_neighbours():
    string = _string("1811.2001")  # '18.11.2001' with a dot lost: no date, no amount
    _flag_shapeless(string)
    assert string.flagged
    assert [g.label for g in string.glyphs if g.flagged] == ["1", "2"]  # beside the '.'
    assert [g.reason for g in string.glyphs if g.flagged] == [SEPARATOR_LAYOUT] * 2


def test_known_shapes_stay_unflagged():
    for text in ("18.11.2001", "1,234.56", "12,50", "353-014-7169", "19/08/65", "0042"):
        string = _string(text)
        _flag_shapeless(string)
        assert not string.flagged, text


LABELS = tuple("0123456789?")


@pytest.mark.parametrize("top, confidence, doubtful, reason", [
    (3, 0.99, False, ""),
    (10, 0.99, False, "not a digit"),
    (3, 0.60, False, "low confidence"),
    (3, 0.99, True, "segmentation"),
    (10, 0.60, True, "not a digit"),   # the first reason that holds
])
def test_every_flagged_digit_says_why(top, confidence, doubtful, reason):
    probs = np.full(11, (1 - confidence) / 10, np.float32)
    probs[top] = confidence
    mark = Component(Box(0, 0, 10, 20), np.ones((20, 10), bool), doubtful=doubtful)
    glyph = _glyph(mark, probs, LABELS, 0.88, np.eye(2, 3), 100, 100)
    assert glyph.reason == reason and glyph.flagged == bool(reason)
    assert reason == "" or reason in FLAG_REASONS
    assert glyph.export()["flag_reason"] == reason


def test_a_mark_more_likely_no_digit_is_read_as_its_best_digit():
    # In a digit string the mark is most likely the digit it resembles best: that is its reading,
    # flagged "not a digit", with the '?' probability kept as the first alternative.
    probs = np.zeros(11, np.float32)
    probs[[10, 4, 9]] = 0.6, 0.3, 0.1
    mark = Component(Box(0, 0, 10, 20), np.ones((20, 10), bool))
    glyph = _glyph(mark, probs, LABELS, 0.88, np.eye(2, 3), 100, 100)
    assert (glyph.label, glyph.reason, glyph.flagged) == ("4", "not a digit", True)
    assert glyph.confidence == pytest.approx(0.3)
    row = glyph.export()
    assert (row["digit"], row["alt1"], row["alt2"]) == ("4", "?", "9")
    assert row["alt1_conf"] == pytest.approx(0.6)


def test_a_run_of_marks_mostly_no_digit_is_no_string():
    def marks(*reasons: str, confidence: float = 0.5) -> DigitString:
        return DigitString(glyphs=[Glyph(box=Box(20 * i, 0, 15, 30), label="1", confidence=confidence,
                                         flagged=bool(r), reason=r) for i, r in enumerate(reasons)])
    assert not _looks_like_digits(marks("not a digit", "not a digit", ""))  # a printed word, say
    assert _looks_like_digits(marks("not a digit", "", "low confidence"))
    # Printed letters read as digits at worse than even odds ('a' as '0' at 0.2) are no string either;
    # half the marks at even odds is enough (a two-digit string with one ugly digit stays).
    assert not _looks_like_digits(marks("low confidence", "low confidence", "", confidence=0.2))
    two = marks("", "low confidence", confidence=0.3)
    two.glyphs[0].confidence = 0.99
    assert _looks_like_digits(two)
