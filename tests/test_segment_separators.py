"""Separator marks inside digit strings: '.', ',', '-', '/'; noise at the ends of strings."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.test_segment_helpers import SCRIPT, SIMPLEX, blank, glyph, paste, write

from pipeline.results import Box
from segmentation.marks import Component
from segmentation.segment import segment_page
from segmentation.patterns import plausible, possible_date, written_date
from segmentation.separators import classify, lean


def separators(strings) -> list[list[str | None]]:
    return [[c.separator for c in s] for s in strings]


@pytest.mark.parametrize("font", [SCRIPT, SIMPLEX])
def test_date_with_slashes(font):
    ink = write(blank(200, 700), "12/03/24", 30, 120, font, 2.0, 3)
    assert separators(segment_page(ink, None)) == [[None, None, "/", None, None, "/", None, None]]


def test_amount_with_comma_and_point():
    ink = write(blank(200, 700), "1,234.56", 30, 120, SCRIPT, 2.0, 3)
    assert separators(segment_page(ink, None)) == [[None, ",", None, None, None, ".", None, None]]


def test_dash_between_digit_groups():
    ink = write(blank(200, 700), "12-34", 30, 120, SIMPLEX, 2.0, 3)
    assert separators(segment_page(ink, None)) == [[None, None, "-", None, None]]


def test_spaced_dash_keeps_one_string():
    ink = blank(200, 900)
    x = 30
    for ch in "12-34":  # generous spacing around the dash, as people write account numbers
        g = glyph(ch)
        y = 60 + (glyph("1").shape[0] - g.shape[0]) // 2 if ch == "-" else 60
        paste(ink, g, x, y)
        x += g.shape[1] + 30
    assert separators(segment_page(ink, None)) == [[None, None, "-", None, None]]


def test_hand_drawn_comma_and_point():
    ink = blank(200, 600)
    seven = glyph("7")  # 31 px tall
    base = 60 + seven.shape[0]
    for x in (30, 80, 130):
        paste(ink, seven, x, 60)
    canvas = ink.view(np.uint8)
    cv2.circle(canvas, (65, base - 4), 3, 1, -1)           # full stop on the baseline
    cv2.line(canvas, (116, base - 5), (113, base + 6), 1, 3)  # comma with a tail below it
    assert separators(segment_page(ink, None)) == [[None, ".", None, ",", None]]


def test_separators_at_the_ends_are_dropped():
    ink = write(blank(200, 900), ".123.", 30, 120, SIMPLEX, 2.0, 3)
    write(ink, "-45-", 450, 120, SIMPLEX, 2.0, 3)
    strings = segment_page(ink, None)
    assert separators(strings) == [[None, None, None], [None, None]]


def test_leaning_stroke_at_the_end_stays_a_digit():
    ink = write(blank(200, 600), "12/", 30, 120, SCRIPT, 2.0, 3)
    assert separators(segment_page(ink, None)) == [[None, None, None]]


def test_upright_one_is_not_a_slash():
    ink = write(blank(200, 600), "1111", 30, 120, SCRIPT, 2.0, 3)
    assert separators(segment_page(ink, None)) == [[None] * 4]


def mark(x: int, y: int, w: int, h: int, mask: np.ndarray | None = None) -> Component:
    return Component(Box(x, y, w, h), np.ones((h, w), bool) if mask is None else mask)


# A line with digits 50 px tall: top edge at y=100, baseline at y=150.
@pytest.mark.parametrize("comp, expected", [
    (mark(0, 142, 8, 8), "."),     # round dot on the baseline
    (mark(0, 120, 8, 8), None),    # the same dot at mid-height is no full stop
    (mark(0, 138, 6, 20), ","),    # taller than wide, reaching below the baseline
    (mark(0, 122, 20, 5), "-"),    # short bar at mid-height
    (mark(0, 100, 20, 5), None),   # the same bar at the top of the line
    (mark(0, 125, 80, 5), None),   # a bar longer than a digit is wide is no dash
    (mark(0, 147, 9, 3), "."),     # the cap of a dot whose lower part went with the ruled line
    (mark(0, 141, 9, 3), None),    # the same flat mark 6 px above the baseline is no full stop
])
def test_classify_small_marks(comp, expected):
    assert classify(comp, 50.0, 100.0, 150.0) == expected


def test_squat_mark_below_the_baseline_is_a_comma_only_with_a_tail_down_left():
    # 9x9 px marks hanging a third below the baseline (y=150), each drawn as an elongated blob:
    # a tail running down to the left (like the foot of a '/') is a comma; one running down to
    # the right (a dot dragged, or a speck of the ruled line under it) leaves a full stop.
    def blob(end: tuple[int, int]) -> Component:
        m = np.zeros((9, 9), np.uint8)
        cv2.circle(m, (4, 3), 3, 1, -1)
        cv2.line(m, (4, 4), end, 1, 2)
        return mark(0, 144, 9, 9, m.astype(bool))

    assert classify(blob((1, 8)), 50.0, 100.0, 150.0) == ","
    assert classify(blob((7, 8)), 50.0, 100.0, 150.0) == "."


def test_lean_of_lines():
    m = np.zeros((60, 60), np.uint8)
    cv2.line(m, (10, 55), (40, 5), 1, 3)  # '/' 31 degrees from vertical
    angle, elongation = lean(m.astype(bool))
    assert 25 < angle < 37 and elongation > 5
    m[:] = 0
    cv2.line(m, (30, 55), (30, 5), 1, 3)
    assert abs(lean(m.astype(bool))[0]) < 2


def _mark(x: int, w: int, h: int, separator: str | None) -> Component:
    return Component(Box(x, 0, w, h), np.ones((h, w), bool), separator)


def test_adjacent_separators_collapse_to_the_larger_and_flag_neighbours():
    from segmentation.separators import collapse_runs
    # "7 . . 5": a full stop and a speck-sized second '.' (a broken dot) between two digits.
    seven, dot, speck, five = (_mark(0, 20, 30, None), _mark(25, 6, 6, "."),
                               _mark(33, 3, 3, "."), _mark(40, 20, 30, None))
    out = collapse_runs([seven, dot, speck, five])
    assert out == [seven, dot, five]
    assert seven.doubtful and five.doubtful


def test_single_separators_are_left_alone():
    from segmentation.separators import collapse_runs
    marks = [_mark(0, 20, 30, None), _mark(25, 6, 6, "."), _mark(35, 20, 30, None),
             _mark(60, 6, 6, ","), _mark(70, 20, 30, None)]
    assert collapse_runs(marks) == marks
    assert not any(m.doubtful for m in marks)


def test_separator_run_at_an_end_is_not_flagged():
    from segmentation.separators import collapse_runs
    digit = _mark(0, 20, 30, None)
    out = collapse_runs([digit, _mark(25, 6, 6, "."), _mark(33, 4, 4, ".")])
    assert len(out) == 2 and not digit.doubtful


def spaced(text: str, font: int, gap: int = 12) -> tuple[np.ndarray, dict[int, int]]:
    """``text`` written one character at a time ``gap`` px apart (baseline y = 120); returns
    the mask and the x where each gap starts, by the index of the character before it."""
    ink, x, gaps = blank(200, 900), 30, {}
    for k, ch in enumerate(text):
        write(ink, ch, x, 120, font, 2.0, 3)
        x += cv2.getTextSize(ch, font, 2.0, 3)[0][0] + gap
        gaps[k] = x - gap
    return ink, gaps


def test_speck_does_not_block_a_date():
    """A speck low between two digits reads as '.', which no date or amount explains
    ('1203.24'): it is dropped and the leaning strokes are read as '/'."""
    ink, gaps = spaced("12/03/24", SCRIPT)
    expected = [[None, None, "/", None, None, "/", None, None]]
    assert separators(segment_page(ink, None)) == expected
    cv2.circle(ink.view(np.uint8), (gaps[3] + 6, 117), 3, 1, -1)  # between '0' and '3'
    assert separators(segment_page(ink, None)) == expected


def test_point_among_dashes_is_a_speck():
    ink, gaps = spaced("12-34-5678", SIMPLEX)
    cv2.circle(ink.view(np.uint8), (gaps[7] + 6, 117), 3, 1, -1)  # between '5' and '6'
    assert separators(segment_page(ink, None)) == [[None, None, "-", None, None, "-"] + [None] * 4]


def test_point_in_an_amount_stays():
    ink, gaps = spaced("1234", SCRIPT)
    cv2.circle(ink.view(np.uint8), (gaps[1] + 6, 117), 3, 1, -1)
    assert separators(segment_page(ink, None)) == [[None, None, ".", None, None]]


@pytest.mark.parametrize("text, expected", [
    ("12", True), ("12.01.2022", True), ("1,234.56", True), ("12,50", True), ("353-014-7169", True),
    ("12/03/24", True), ("1910.8165", False), ("111061199.5", False), ("353-014-71.69", False),
    ("2,55.00", False), ("17-12-88", True), ("1-800-555-0199", True),
    ("17-12-088", False),  # a dashed date with a year digit lost is no account number
    ("0212.68", False), ("0?12.68", False),  # nor is an amount led by a zero: '02.12.68' lost a dot
    ("0.50", True), ("01.05", True), ("0042", True), ("02.12.68", True)])
def test_plausible_shapes(text, expected):
    assert plausible(text) is expected


@pytest.mark.parametrize("text, expected", [
    ("19/08/65", True), ("12/31/1999", True), ("3/2024", True), ("2024/1/31", True),
    ("1?/05/81", True), ("54/69", False), ("13/13/20", False), ("00/05/81", False),
    ("06/3908", False), ("3908/1/2", False), ("1/2/3908", False), ("06/20?8", True),
    ("01/01/1800", True), ("31/12/2099", True), ("01/01/2100", False),
    ("5/24", True), ("24/5", True), ("05/32", True), ("12/00", True),  # m/d, d/m, mm/yy
    ("5/32", False), ("3/95", False), ("5/00", False)])  # no 'm/yy': a leaning '1' in '5132'
def test_possible_dates(text, expected):
    assert possible_date(text) is expected


def test_shape_of_an_amount_is_plausible_before_its_digits_are_read():
    # The digits are unread when separators are judged: a placeholder '0' made every amount of
    # three or more whole digits look zero-led ('000.00'), i.e. of no shape.
    from segmentation.separators import shape
    marks = [mark(10 * k, 0, 8, 20) for k in range(6)]
    marks[3].separator = "."
    assert shape(marks) == "???.??" and plausible(shape(marks))


def test_commas_and_dots_of_every_size_at_the_baseline():
    # Digits 30 px tall: top y=100, baseline y=130.
    def inked(draw, h: int, w: int, y: int) -> Component:
        m = np.zeros((h, w), np.uint8)
        draw(m)
        return mark(0, y, w, h, m.astype(bool))

    # A squat comma wider than any full stop (12 px, DOT_SIZE x 30 = 10.5): blob and tail down-left.
    comma = inked(lambda m: (cv2.circle(m, (7, 4), 4, 1, -1), cv2.line(m, (7, 6), (1, 11), 1, 3)), 12, 12, 124)
    assert classify(comma, 30.0, 100.0, 130.0) == ","
    # A 6 px dot whose pixels happen to lean (elongation ~1.4) is still a full stop.
    dot = inked(lambda m: cv2.ellipse(m, (3, 3), (3, 2), 60, 0, 360, 1, -1), 6, 6, 127)
    assert classify(dot, 30.0, 100.0, 130.0) == "."
    # A sliver of a dot (3 x 6 px, the rest cut away with the ruled line) is no comma.
    assert classify(mark(0, 124, 3, 6), 30.0, 100.0, 130.0) == "."


def test_written_date_needs_a_whole_possible_date_with_one_separator():
    for text in ("19.08.1965", "19-08-65", "2024/1/31", "05/11/53"):
        assert written_date(text), text
    for text in ("19.08-1965", "19.13.1965", "32.01.20", "7022", "12.01.7022", "1,234.56", "12/05"):
        assert not written_date(text), text


def test_strokes_leaning_nearly_enough_for_a_date_are_doubtful_digits():
    # '09/10/91' whose '0's and '9's lean so far that the writer's slant needs the slashes to lean
    # past 40 degrees: they lean 33, stay digits ('09110191') but are flagged as doubtful.
    from segmentation.separators import read_slashes, slant, slash_margin

    def stroke(angle: float) -> Component:
        mask = np.zeros((40, 30), np.uint8)
        dx = int(round(38 * np.tan(np.radians(angle)) / 2))
        cv2.line(mask, (15 - dx, 39), (15 + dx, 1), 1, 3)
        return Component(Box(0, 0, 30, 40), mask.astype(bool))

    def oval(angle: float) -> Component:  # wider than tall: no '/' candidate, it sets the slant
        mask = np.zeros((40, 44), np.uint8)
        cv2.ellipse(mask, (22, 20), (9, 18), angle, 0, 360, 1, 3)
        return Component(Box(0, 0, 44, 40), mask.astype(bool))

    def string(angle: float) -> list[Component]:
        marks = [oval(angle), oval(angle), stroke(33), oval(angle), oval(angle), stroke(33), oval(angle), oval(angle)]
        for k, c in enumerate(marks):
            c.box = Box(50 * k, 0, c.box.w, c.box.h)
        return marks

    marks = string(40)
    writer = float(np.median([slant(c.mask) for c in marks if c.box.w == 44]))
    assert 20 < writer < 30 and slash_margin(marks[2], 40.0, writer) <= 0  # no '/' at this slant
    out = read_slashes(marks, 40.0)
    assert [c.separator for c in out] == [None] * 8
    assert [k for k, c in enumerate(out) if c.doubtful] == [2, 5]
    out = read_slashes(string(0), 40.0)  # upright writing: the same strokes are slashes
    assert [c.separator for c in out] == [None, None, "/", None, None, "/", None, None]
    assert not any(c.doubtful for c in out)


def test_slashes_are_chosen_where_they_make_a_date():
    from segmentation.separators import choose_slashes, date_like

    assert date_like([2, 2, 4]) and date_like([2, 2, 2]) and date_like([4, 2, 2]) and date_like([2, 4])
    # A year one digit short (two of its digits run together, read as one) is still a date's year:
    # reading its slashes lets the layout repair restore the digit ('17/01/023' -> '17/01/2023').
    assert date_like([2, 2, 3], short_year=True) and not date_like([2, 2, 3])
    assert not date_like([3, 2, 2], True) and not date_like([2, 2, 5], True) and not date_like([2, 2, 2, 2], True)
    leaning = [0.0, 0.0, 5.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0]  # '17/01/023' with its two slashes
    assert choose_slashes(leaning) == {2, 5}
    # ... but only when no whole date fits: '13/11/98' whose second '1' leans more than its
    # second slash stays '13/11/98', not '13/1/198'.
    assert choose_slashes([0.0, 0.0, 5.0, 0.0, 6.0, 3.0, 0.0, 0.0]) == {2, 5}
    assert choose_slashes([0.0, 0.0, 0.0, 5.0, 0.0, 0.0, 0.0]) == set()  # '170/102': no date
