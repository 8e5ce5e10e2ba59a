"""String-level flags set while a page is assembled (pipeline.page)."""
from __future__ import annotations

import numpy as np
import pytest

from pipeline.page import (_check_slashes, _flag_impossible_date, _flag_shapeless, _flag_short_zeros, _glyph,
                           _looks_like_digits, _weigh_by_calendar)
from pipeline.results import AMBIGUOUS_GROUPING, FLAG_REASONS, IMPOSSIBLE_DATE, SEPARATOR_LAYOUT, SHORT_ZERO, Box, DigitString, Glyph
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


@pytest.mark.parametrize("text, flagged", [("71.575", "15"), ("1,234", "12")])
def test_one_group_of_three_after_a_separator_is_ambiguous(text, flagged):
    # Thousands or three decimals, by convention; on a page, often a speck at a '1' foot read '.'.
    string = _string(text)
    _flag_shapeless(string)
    assert "".join(g.label for g in string.glyphs if g.flagged) == flagged  # beside the separator
    assert {g.reason for g in string.glyphs if g.flagged} == {AMBIGUOUS_GROUPING}


def test_known_shapes_stay_unflagged():
    for text in ("18.11.2001", "1,234.56", "12,50", "353-014-7169", "19/08/65", "0042", "1,234,567"):
        string = _string(text)
        _flag_shapeless(string)
        assert not string.flagged, text


@pytest.mark.parametrize("text, flagged", [
    ("09.40.2018", "0940"),      # a '1' read '4': no month 40 (nor day, as m.d)
    ("20.07.3963", "3963"),      # only the year is out of range
    ("24.05.2128", "2128"),      # no form is dated after 2099: a '0' read '1'
    ("2024/13/40", "1340"),      # year first: month and day at fault
])
def test_an_impossible_date_flags_the_groups_at_fault(text, flagged):
    string = _string(text)
    _flag_impossible_date(string)
    assert "".join(g.label for g in string.glyphs if g.flagged) == flagged
    assert {g.reason for g in string.glyphs if g.flagged} == {IMPOSSIBLE_DATE}


def test_possible_dates_and_other_shapes_are_not_weighed_as_dates():
    # '12-40-99' has a date's shape but is a sort code; '12.50' an amount; '07/13/98' is m/d/y.
    for text in ("09.10.2018", "07/13/98", "2024/1/31", "12-40-99", "12.50", "1.234.567"):
        string = _string(text)
        _flag_impossible_date(string)
        assert not string.flagged, text


@pytest.mark.parametrize("text, short, top, width, flagged", [
    ("03301", 3, 14, 15, "0"),   # '03361': the bowl of a '6' on the baseline, its faint stem lost, read '0'
    ("03301", 3, 0, 15, ""),     # a small zero raised to the top of the line (cents written high)
    ("03301", 3, 3, 15, ""),     # ... or hardly lower than its neighbours
    ("03301", 3, 14, 26, ""),    # a wide, flat '0' is short because it is wide
    ("03311", 3, 14, 15, ""),    # a short '1' is a '1' written short
    ("01", 0, 14, 15, ""),       # a two-digit string has no median height to judge by
    ("0301", 2, 14, 15, "0"),
])
def test_a_short_zero_low_on_the_line_is_flagged(text, short, top, width, flagged):
    # Digits 30 px tall; the one at ``short`` is 16 px tall with its top ``top`` px below the others'.
    string = _string(text)
    string.glyphs[short].box = Box(20 * short, top, width, 16)
    _flag_short_zeros(string)
    assert "".join(g.label for g in string.glyphs if g.flagged) == flagged
    assert {g.reason for g in string.glyphs if g.flagged} <= {SHORT_ZERO}


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
    # A printed heading: many marks at even odds, few at the threshold ('l' read '1' at 0.97).
    heading = marks("", "low confidence", "low confidence", "", "low confidence", "low confidence", confidence=0.6)
    assert not _looks_like_digits(heading)
    assert _looks_like_digits(heading, framed=True)  # in a found box: a badly written field, flagged
    assert _looks_like_digits(marks("", "low confidence", "low confidence", "", "", "low confidence", confidence=0.6))


def _date(text: str, doubts: dict[int, tuple[tuple[str, float], ...]]) -> DigitString:
    glyphs = []
    for i, ch in enumerate(text):
        alternatives = doubts.get(i, ((ch, 0.999),))
        glyphs.append(Glyph(box=Box(20 * i, 0, 15, 30), label=alternatives[0][0], confidence=alternatives[0][1],
                            alternatives=alternatives, flagged=i in doubts, reason="low confidence" if i in doubts else "",
                            is_separator=not ch.isdigit()))
    return DigitString(glyphs=glyphs)


def test_a_digit_the_calendar_leaves_alone_is_no_longer_doubtful():
    # '12.01.2022': the year's first '2' at 0.8, its rival '7' (7022 is no year): sure of the '2'.
    string = _date("12.01.2022", {6: (("2", 0.8), ("7", 0.19), ("1", 0.005))})
    _weigh_by_calendar(string, [False] * 10, 0.92)
    glyph = string.glyphs[6]
    assert not glyph.flagged and glyph.reason == "" and glyph.confidence == pytest.approx(0.8 / 0.805)
    # The same with a segmentation close call on that mark: still flagged, for that.
    string = _date("12.01.2022", {6: (("2", 0.8), ("7", 0.19), ("1", 0.005))})
    _weigh_by_calendar(string, [False] * 6 + [True] + [False] * 3, 0.92)
    assert string.glyphs[6].reason == "segmentation"


@pytest.mark.parametrize("text, i, doubt", [
    ("12.01.2022", 6, (("2", 0.8), ("?", 0.19), ("7", 0.005))),   # '?' may be a bad cut: allowed
    ("12.01.2022", 8, (("2", 0.8), ("0", 0.19), ("7", 0.005))),   # 12.01.2002 is a date too
    ("1201.2022", 5, (("2", 0.8), ("7", 0.19), ("1", 0.005))),    # no date at all
])
def test_the_calendar_does_not_lift_what_it_cannot_rule_out(text, i, doubt):
    string = _date(text, {i: doubt})
    _weigh_by_calendar(string, [False] * len(text), 0.92)
    assert string.glyphs[i].flagged and string.glyphs[i].confidence == 0.8


def _marks(text: str) -> tuple[list[Component], list[Component], np.ndarray]:
    """Marks of ``text`` ('/' a separator mark; digits read as themselves), the marks the
    classifier read ('/' included, as the pipeline does) and their probabilities."""
    marks = [Component(Box(20 * i, 0, 15, 30), np.ones((30, 15), bool), separator="/" if ch == "/" else None)
             for i, ch in enumerate(text)]
    probs = np.zeros((len(text), 11), np.float32)
    for i, ch in enumerate(text):
        probs[i, 1 if ch == "/" else int(ch)] = 1.0  # a '/' is read as the '1' it may be
    return marks, marks, probs


def test_slashes_of_no_possible_date_are_digits_again():
    marks, read, probs = _marks("54/69")
    _check_slashes([marks], read, probs, LABELS)
    assert marks[2].separator is None and not any(c.doubtful for c in marks)


def test_a_lone_slash_between_three_digits_is_a_doubtful_one():
    # '2/02' is a possible day and month, but such short dates are rarer than '2102' written
    # with a leaning '1': read the digit, for review.
    for text in ("2/02", "06/4", "10/1"):
        marks, read, probs = _marks(text)
        _check_slashes([marks], read, probs, LABELS)
        assert [c.separator for c in marks] == [None] * 4
        assert [c.doubtful for c in marks] == [ch == "/" for ch in text]


def test_a_lone_slash_is_kept_but_its_neighbours_are_doubtful():
    # '12/05' (a day and month, or a card's expiry) and '3/2024' are written in full: keep the
    # '/', but '12105' with a leaning '1' reads the same: review it.
    marks, read, probs = _marks("12/05")
    _check_slashes([marks], read, probs, LABELS)
    assert marks[2].separator == "/"
    assert [c.doubtful for c in marks] == [False, True, False, True, False]
    marks, read, probs = _marks("19/08/1965")  # a whole date: nothing doubtful
    _check_slashes([marks], read, probs, LABELS)
    assert [c.separator for c in marks].count("/") == 2 and not any(c.doubtful for c in marks)
