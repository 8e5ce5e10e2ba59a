"""Full stops touching a digit are cut off and read as '.', never a digit's own stroke end."""
from __future__ import annotations

import cv2
import numpy as np

from tests.test_segment_helpers import SCRIPT, SIMPLEX, blank, glyph, paste

from pipeline.results import Box
from segmentation.dots import detach_dots
from segmentation.marks import Component
from segmentation.segment import segment_page

TOP, BASE = 60, 91  # the line's top and baseline in the masks below (px)


def stem(height: int = 29, pen: int = 4) -> np.ndarray:
    """A '1' written as one slightly leaning stroke, without the fonts' flag and foot."""
    canvas = np.zeros((height, height // 3), np.uint8)
    cv2.line(canvas, (canvas.shape[1] - 3, 1), (2, height - 2), 1, pen)
    ys, xs = np.nonzero(canvas)
    return canvas[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(bool)


def dotted(chars: str, dots: set[tuple[int, str]] = frozenset(), font: int = SCRIPT, r: int = 4,
           touch: int = 1) -> np.ndarray:
    """``chars`` written 12 px apart on the baseline; for each (index, side) in ``dots`` a dot of
    radius ``r`` px set against that character's lowest rows on its left or right, overlapping
    it by ``touch`` px (negative: a gap), or ("after") standing alone after it."""
    ink = blank(200, 700)
    canvas = ink.view(np.uint8)
    x = 30
    for i, ch in enumerate(chars):
        g = stem() if ch == "1" else glyph(ch, font)
        if (i, "left") in dots:
            x += 2 * r + 2
        paste(ink, g, x, BASE - g.shape[0])
        foot = np.flatnonzero(g[-2:].any(axis=0))
        if (i, "left") in dots:
            cv2.circle(canvas, (x + int(foot[0]) - r + touch, BASE - r), r, 1, -1)
        if (i, "right") in dots:
            cv2.circle(canvas, (x + int(foot[-1]) + r - touch, BASE - r), r, 1, -1)
            x += 2 * r
        if (i, "after") in dots:
            cv2.circle(canvas, (x + g.shape[1] + 8 + r, BASE - r), r, 1, -1)
            x += 2 * r + 8
        x += g.shape[1] + 12
    return ink


def shapes(ink: np.ndarray) -> list[str]:
    return ["".join(c.separator or "0" for c in s) for s in segment_page(ink, None)]


def test_dot_touching_the_foot_of_a_one_is_cut_off():
    ink = dotted("1814", {(2, "left")})
    strings = segment_page(ink, None)
    assert [len(s) for s in strings] == [5]
    one, dot = strings[0][3], strings[0][2]
    assert dot.separator == "." and dot.box.right <= one.box.x + 1
    assert one.box.w <= stem().shape[1] + 1  # the '1' no longer holds the dot
    # '1814' had a shape of its own without the dot: the '1' goes to review.
    assert one.doubtful and not any(c.doubtful for c in strings[0] if c is not one)
    # Written apart, the same dot is the same separator.
    assert shapes(dotted("1814", {(2, "left")}, touch=-2)) == ["00.00"]


def test_dot_that_gives_the_string_its_shape_needs_no_review():
    strings = segment_page(dotted("18112001", {(2, "left"), (3, "after")}), None)
    assert ["".join(c.separator or "0" for c in s) for s in strings] == ["00.00.0000"]
    assert not any(c.doubtful for c in strings[0])  # '1811.2001' is no date, '18.11.2001' is


def test_curled_tails_and_feet_are_not_dots():
    for font in (SCRIPT, SIMPLEX):
        assert shapes(dotted("1234567890", font=font)) == ["0" * 10], font
        assert shapes(dotted("2351", font=font)) == ["0000"], font


def test_dot_is_kept_where_it_would_make_no_shape_people_write():
    # '18.1234' is no date, amount or number: the dot stays part of the mark (a misread is
    # better flagged on the digit than turned into a separator nobody wrote).
    assert shapes(dotted("181234", {(2, "left")})) == ["000000"]


def test_dot_on_the_right_of_a_stem_is_cut_off():
    """A '1'-like stem with a dot touching its lower right between two digit-sized marks."""
    height = BASE - TOP
    stem = np.zeros((height + 2, 18), bool)
    stem[:height, 4:9] = True
    cv2.circle(stem.view(np.uint8), (13, height - 3), 4, 1, -1)  # touches the stem's edge
    digit = np.ones((height, 14), bool)
    string = [Component(Box(10, TOP, 14, height), digit), Component(Box(40, TOP, 18, height + 2), stem),
              Component(Box(70, TOP, 14, height), digit.copy()), Component(Box(90, TOP, 14, height), digit.copy())]
    out = detach_dots(string, float(height), TOP, BASE, stroke=5.0)
    assert [c.separator for c in out] == [None, None, ".", None, None]
    assert [c.doubtful for c in out] == [False, True, False, False, False]  # '0000' had a shape too
    assert out[1].box.x == 44 and out[1].box.w <= 6 and out[2].box.x >= out[1].box.right
    # Not when the stem is the last mark: a dot ends no string.
    assert len(detach_dots(string[:2], float(height), TOP, BASE, stroke=5.0)) == 2


def test_dot_touching_the_end_of_a_stroke_at_a_point_is_cut_off():
    """A dot just touching where a digit's bottom stroke ends ('6398.59': the '5's tail): no stem
    beside it, but a contact under half a pen's width between the stroke and a blob wider than
    the pen, which no stroke's own end has."""
    height = BASE - TOP
    mark = np.zeros((height, 34), np.uint8)
    mark[0:27, 28:33] = 1   # a stroke coming down on the right
    mark[22:27, 10:33] = 1  # and running left along the baseline, ending at x=10
    cv2.circle(mark, (5, 26), 4, 1, -1)  # a dot touching that end
    digit = np.ones((height, 14), bool)
    string = [Component(Box(0, TOP, 14, height), digit), Component(Box(20, BASE - 27, 34, height), mark.astype(bool)),
              Component(Box(70, TOP, 14, height), digit.copy()), Component(Box(90, TOP, 14, height), digit.copy())]
    out = detach_dots(string, float(height), TOP, BASE, stroke=5.0)
    assert [c.separator for c in out] == [None, ".", None, None, None]
    assert out[1].box.right <= 30 <= out[2].box.x + 1 and out[2].doubtful  # "0000" had a shape too
    # Without the dot, the stroke's end stays the digit's.
    mark[:, :10] = 0
    string[1] = Component(Box(20, BASE - 27, 34, height), mark.astype(bool))
    assert len(detach_dots(string, float(height), TOP, BASE, stroke=5.0)) == 4
