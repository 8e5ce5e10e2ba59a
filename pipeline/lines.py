"""Removal of printed ruling lines and box frames from an ink mask, keeping the digit strokes that
cross them.

Lines are long, thin, straight runs of ink: a morphological opening with a long kernel keeps them
and drops handwriting. Horizontal lines and vertical lines at least as long as ``min_length`` go;
shorter vertical runs go only when both their ends sit on horizontal lines (the sides of boxes and
comb fields), so that a straight handwritten "1" survives. Removing a line would cut every digit
that crosses it, so line pixels with stroke ink continuing on both sides (above and below a
horizontal line, left and right of a vertical one) are put back.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from pipeline.scale import grow, shrink

LENGTH_STROKES = 20  # a line is at least this many stroke widths long ...
LENGTH_FRACTION = 25  # ... and at least 1/25 of the page's short side (99 px for A4 at 300 dpi)
MIN_LENGTH = 20  # px, for tiny crops
PEN_MARGIN = 50  # grey levels darker than the lines' median that mark pen ink on a line
WORK_MIN_SIDE = 1600  # px; pages at least this big (A4 from ~200 dpi) are analysed at half size


def stroke_width(ink: np.ndarray) -> float:
    """Typical stroke width in px (>= 1) of an ink mask (bool or 0/255 uint8): 2 x area /
    boundary pixels, which is exact for long strokes of constant width."""
    ink = np.ascontiguousarray(ink)
    if ink.dtype == bool:
        ink = ink.view(np.uint8)
    area = cv2.countNonZero(ink)
    if area == 0:
        return 1.0
    inner = cv2.countNonZero(cv2.erode(ink, cv2.getStructuringElement(cv2.MORPH_CROSS, (3, 3))))
    return max(1.0, 2.0 * area / max(1, area - inner))


def min_line_length(shape: tuple[int, int], stroke: float) -> int:
    """Shortest run in px treated as a printed line on a page of ``shape`` with strokes of
    ``stroke`` px: long compared with both the handwriting and the page."""
    return int(max(MIN_LENGTH, LENGTH_STROKES * stroke, min(shape[:2]) / LENGTH_FRACTION))


def find_lines(mask: np.ndarray, gray: np.ndarray | None = None, stroke: float | None = None,
               min_length: int | None = None) -> np.ndarray:
    """Printed line pixels of an ink mask (bool, or uint8 with 0 = paper), as bool, less the
    pixels where a stroke crosses.

    ``gray`` (uint8, same shape), when given, also spares line pixels clearly darker than the
    lines' median grey level: pen ink over a light printed line or pattern. ``stroke`` (px) is
    the handwriting's stroke width, measured on ``mask`` when None; ``min_length`` (px)
    overrides :func:`min_line_length`. Large pages (short side >= WORK_MIN_SIDE) are analysed
    on a copy halved by 2x2 max pooling, which keeps one-pixel lines and strokes connected, and
    the result is applied to the full-resolution mask.
    """
    mask = np.ascontiguousarray(mask)
    full = cv2.compare(mask.view(np.uint8) if mask.dtype == bool else mask, 0, cv2.CMP_GT)
    shape = full.shape
    factor = 2 if min(shape) >= WORK_MIN_SIDE else 1
    small = cv2.compare(shrink(full, factor), 0, cv2.CMP_GT)  # 0/255, as cv2 morphology wants
    if not cv2.countNonZero(small):
        return np.zeros(shape, bool)
    stroke = stroke_width(small) * factor if stroke is None else stroke
    length = (min_length or min_line_length(shape, stroke)) // factor
    found = _find_lines(small, length, max(1.0, stroke / factor))
    lines = cv2.bitwise_and(full, grow(found, factor, shape, nearest=True))
    if gray is not None and cv2.countNonZero(lines):
        step = max(1, shape[0] // 512)  # a sample of rows is plenty for the median
        hist = cv2.calcHist([gray[::step]], [0], lines[::step], [256], [0, 256]).ravel()
        median = int(np.searchsorted(np.cumsum(hist), hist.sum() / 2))
        if median > PEN_MARGIN:
            pen = cv2.compare(gray, median - PEN_MARGIN, cv2.CMP_LT)
            lines = cv2.bitwise_and(lines, cv2.bitwise_not(pen))
    return as_bool(lines)


def as_bool(mask: np.ndarray) -> np.ndarray:
    """A 0/255 uint8 mask as bool without a comparison pass (0/1 bytes viewed as bool)."""
    return cv2.bitwise_and(mask, 1).view(bool)


def remove_lines(ink: np.ndarray, min_length: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Split a bool ink mask into (ink without lines, removed line pixels), both bool.

    Digit strokes crossing a line keep the crossing pixels, so they stay connected; where a
    digit merely touches a line, the pixels it shares with the line go with the line.
    """
    lines = find_lines(ink, min_length=min_length)
    return np.asarray(ink, dtype=bool) & ~lines, lines


def _find_lines(mask: np.ndarray, length: int, stroke: float) -> np.ndarray:
    """Line pixels of a 0/255 mask, less those where a stroke crosses (0/255 uint8)."""
    gap = max(3, round(stroke))  # breaks in a printed line bridged before measuring runs
    horizontal = _runs(mask, length, gap, stroke, vertical=False)
    vertical = _runs(mask, max(MIN_LENGTH // 2, length // 2), gap, stroke, vertical=True)
    vertical = _frame_sides(vertical, horizontal, length, gap)
    found = cv2.bitwise_or(horizontal, vertical)
    strokes = cv2.bitwise_and(mask, cv2.bitwise_not(found))
    keep = cv2.bitwise_or(_crossing(horizontal, strokes, vertical=False),
                          _crossing(vertical, strokes, vertical=True))
    return cv2.bitwise_and(found, cv2.bitwise_not(keep))


def _rect(width: int, height: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (int(width), int(height)))


def _runs(mask: np.ndarray, length: int, gap: int, stroke: float,
          vertical: bool) -> np.ndarray:
    """Ink on thin straight runs of at least ``length`` px (0/255 uint8)."""
    # Widening across the run by 1 px each way absorbs the one-pixel steps of a line that is not
    # perfectly level; lengthening by ``gap`` bridges breaks in a faint printed line.
    bridge = _rect(3, gap) if vertical else _rect(gap, 3)
    kernel = _rect(1, length) if vertical else _rect(length, 1)
    runs = cv2.morphologyEx(cv2.dilate(mask, bridge), cv2.MORPH_OPEN, kernel)
    # A line is thin. Where runs pile up thicker than two strokes (ink merged with a dense
    # background pattern, a filled area) it is not a line, and removing it would erase digits.
    thick = max(5, round(2 * stroke) + 3)
    across = _rect(thick, 1) if vertical else _rect(1, thick)
    runs = cv2.subtract(runs, cv2.morphologyEx(runs, cv2.MORPH_OPEN, across))
    return cv2.bitwise_and(runs, mask)


def _frame_sides(vertical: np.ndarray, horizontal: np.ndarray, length: int,
                 gap: int) -> np.ndarray:
    """Keep vertical runs that are long lines or box sides (both ends on a horizontal line)."""
    contours, _ = cv2.findContours(vertical, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    keep = np.zeros_like(vertical)
    reach = gap + 2  # px between a run's end and the horizontal line it stands on
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if h < length:
            top = horizontal[max(0, y - 1): y + reach, max(0, x - 1): x + w + 1]
            bottom = horizontal[max(0, y + h - reach): y + h + 1, max(0, x - 1): x + w + 1]
            if not (top.any() and bottom.any()):
                continue
        cv2.drawContours(keep, [contour], -1, 255, thickness=cv2.FILLED)
    return cv2.bitwise_and(keep, vertical)


def _thickness(lines: np.ndarray, vertical: bool) -> float:
    """Mean thickness in px of the lines in a 0/255 mask (pixels per run across the lines)."""
    mask = lines > 0
    area = int(np.count_nonzero(mask))
    if area == 0:
        return 0.0
    if vertical:  # runs across a vertical line go left to right
        starts = np.count_nonzero(mask[:, 0]) + np.count_nonzero(mask[:, 1:] & ~mask[:, :-1])
    else:
        starts = np.count_nonzero(mask[0]) + np.count_nonzero(mask[1:] & ~mask[:-1])
    return area / max(1, int(starts))


def _crossing(lines: np.ndarray, strokes: np.ndarray, vertical: bool) -> np.ndarray:
    """Line pixels with stroke ink within reach on both sides (0/255 uint8)."""
    if not lines.any():
        return lines
    # Just across the line (its mask includes a 1 px fringe), so a counter of a digit that the
    # line cuts through is not mistaken for a crossing stroke.
    reach = math.ceil(_thickness(lines, vertical)) + 2
    side = 3  # +-1 px along the line: tolerance for slanted strokes
    if vertical:  # from the left / from the right
        size, first, last = (reach, side), (0, side // 2), (reach - 1, side // 2)
    else:  # from above / from below
        size, first, last = (side, reach), (side // 2, 0), (side // 2, reach - 1)
    kernel = _rect(*size)
    # cv2 anchor convention: an anchor at the kernel's far end spreads ink forward, at its near
    # end backward; the two cones meet only inside a line that a stroke crosses.
    before = cv2.dilate(strokes, kernel, anchor=last)
    after = cv2.dilate(strokes, kernel, anchor=first)
    return cv2.bitwise_and(lines, cv2.bitwise_and(before, after))
