"""Removal of printed ruling lines and box frames from an ink mask, keeping the digit strokes that
cross them.

Lines are long, thin, straight runs of ink: a morphological opening with a long kernel keeps them
and drops handwriting. Horizontal runs at least ``min_line_length`` long go. Vertical runs go when
they are twice that long (table and margin rules), or when they stand like the sides of boxes and
comb fields (from a quarter of that length): both ends on horizontal lines and not beyond them,
upright, straight and no thicker than those lines. A handwritten "1" touching or crossing a box's
top and bottom is thicker, leans or overshoots, and survives.

Removing a line would cut every digit that crosses it, so line pixels with stroke ink continuing on
both sides (above and below a horizontal line, left and right of a vertical one) are put back, and
so are pixels much darker than the printed line (pen on a pale rule or pattern), and the line's
near half beside what it left of a full stop written on it (a speck-sized sliver) and between the
sides of a '0' whose bottom it took (a 'U' touching it twice). Lines are found on a half-size copy
with a fringe; of a horizontal line only its own rows go, not the bottom of a stroke lying on it.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from pipeline.morphology import row_counts
from pipeline.scale import grow, pow2_factor, shrink
from segmentation.components import SPECK_AREA, label_components

LENGTH_STROKES = 16  # a line is at least this many stroke widths long ...
LENGTH_FRACTION = 25  # ... and at least 1/25 of the page's short side (99 px for A4 at 300 dpi)
MIN_LENGTH = 20  # px, for tiny crops
FREE_VERTICAL = 2  # a vertical run touching no horizontal line must be this many lengths long
LINE_LEVEL = 0.2  # quantile of the line pixels' grey levels taken as the lines' printed level
PEN_MARGIN = 50  # grey levels darker than that level that mark pen ink on a line
OVERSHOOT = 2  # px of a vertical run beyond the horizontal line it meets: it crosses the line
CORNER_SLACK = 2  # px thicker than the horizontal lines a box's outer side may be
SLANT = 0.02  # px per px of height a box side may lean (deskew leaves well under 1 degree)
GAP = 3  # px of a break in a printed line bridged (more would merge printed letters into bars)
DOT_FLAT = 0.6  # stroke widths: a mark on a line this flat or flatter may be what it left of a full stop
DOT_WIDE = 3.0  # stroke widths: ... when it is no wider, a speck by area (SPECK_AREA) ...
DOT_CLEAR = 0.5  # stroke widths: ... and this far clear of other ink (a digit's stroke cut by the line is not)
BOWL_WIDE = 6.0  # stroke widths: a mark touching a line twice and no wider may be a bowl the line cut open
CORE_SLACK = 1  # px a column of a line may be thicker than the lines' mean thickness and still be line alone
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


def handwriting_stroke(ink: np.ndarray) -> float:
    """Stroke width in px of the handwriting in an ink mask (bool or 0/255 uint8), not counting
    long straight runs (printed lines are often thinner than pen strokes and would otherwise
    pull the estimate, and with it the line length threshold, down)."""
    small, factor = _pooled(ink)
    if not cv2.countNonZero(small):
        return 1.0
    # Printed rules span a good part of the page: a quarter of its width, half its height. Long
    # kernels cost time in proportion to their length, so the rules are found on a copy pooled
    # 4x further (only to leave them out of the measurement; precision does not matter).
    pool = min(4, pow2_factor(min(small.shape), 64))
    coarse = cv2.compare(shrink(small, pool), 0, cv2.CMP_GT)
    height, width = coarse.shape
    long_runs = cv2.bitwise_or(
        cv2.morphologyEx(coarse, cv2.MORPH_OPEN, _rect(max(MIN_LENGTH // pool, width // 4), 1)),
        cv2.morphologyEx(coarse, cv2.MORPH_OPEN, _rect(1, max(MIN_LENGTH // pool, height // 2))))
    long_runs = grow(long_runs, pool, small.shape, nearest=True)
    rest = cv2.bitwise_and(small, cv2.bitwise_not(long_runs))
    return stroke_width(rest if cv2.countNonZero(rest) else small) * factor


def _pooled(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """A 0/255 copy of a mask, 2x2 max-pooled when the page is large; and the factor."""
    mask = np.ascontiguousarray(mask)
    full = cv2.compare(mask.view(np.uint8) if mask.dtype == bool else mask, 0, cv2.CMP_GT)
    factor = 2 if min(full.shape) >= WORK_MIN_SIDE else 1
    return (cv2.compare(shrink(full, factor), 0, cv2.CMP_GT) if factor > 1 else full), factor


def min_line_length(shape: tuple[int, int], stroke: float) -> int:
    """Shortest run in px treated as a printed line on a page of ``shape`` with strokes of
    ``stroke`` px: long compared with both the handwriting and the page."""
    return int(max(MIN_LENGTH, LENGTH_STROKES * stroke, min(shape[:2]) / LENGTH_FRACTION))


def find_lines(mask: np.ndarray, gray: np.ndarray | None = None, stroke: float | None = None,
               min_length: int | None = None) -> np.ndarray:
    """Printed line pixels of an ink mask (bool, or uint8 with 0 = paper), as bool, less the
    pixels where a stroke crosses.

    ``gray`` (uint8, same shape), when given, also spares line pixels clearly darker than the
    lines' printed level (their 20% grey quantile, the line cores: anti-aliased edges are
    lighter): pen ink over a light printed line or pattern. ``stroke`` (px) is the
    handwriting's stroke width (:func:`handwriting_stroke` of ``mask`` when None);
    ``min_length`` (px) overrides :func:`min_line_length`. Large pages (short side >=
    WORK_MIN_SIDE) are analysed on a copy halved by 2x2 max pooling, which keeps one-pixel
    lines and strokes connected, and the result is applied to the full-resolution mask.
    """
    mask = np.ascontiguousarray(mask)
    full = cv2.compare(mask.view(np.uint8) if mask.dtype == bool else mask, 0, cv2.CMP_GT)
    shape = full.shape
    small, factor = _pooled(full)
    if not cv2.countNonZero(small):
        return np.zeros(shape, bool)
    stroke = handwriting_stroke(small) * factor if stroke is None else stroke
    length = (min_length or min_line_length(shape, stroke)) // factor
    horizontal, vertical = _find_lines(small, length, max(1.0, stroke / factor))
    lines = cv2.bitwise_or(
        _without_stroke_fringe(cv2.bitwise_and(full, grow(horizontal, factor, shape, nearest=True)), full,
                               length * factor),
        cv2.bitwise_and(full, grow(vertical, factor, shape, nearest=True)))
    if gray is not None and cv2.countNonZero(lines):
        step = max(1, shape[0] // 512)  # a sample of rows is plenty for a quantile
        hist = cv2.calcHist([gray[::step]], [0], lines[::step], [256], [0, 256]).ravel()
        level = int(np.searchsorted(np.cumsum(hist), hist.sum() * LINE_LEVEL))
        if level > PEN_MARGIN:
            pen = cv2.compare(gray, level - PEN_MARGIN, cv2.CMP_LT)
            lines = cv2.bitwise_and(lines, cv2.bitwise_not(pen))
    return as_bool(lines)


def as_bool(mask: np.ndarray) -> np.ndarray:
    """A 0/255 uint8 mask as bool without a comparison pass (0/1 bytes viewed as bool)."""
    return cv2.bitwise_and(mask, 1).view(bool)


def _find_lines(mask: np.ndarray, length: int, stroke: float) -> tuple[np.ndarray, np.ndarray]:
    """Line pixels of a 0/255 mask, less those where a stroke crosses (0/255 uint8): the
    horizontal lines, then the vertical ones."""
    gap = GAP
    horizontal = _runs(mask, length, gap, stroke, vertical=False)
    vertical = _runs(mask, max(MIN_LENGTH // 2, length // 4), gap, stroke, vertical=True)
    thickness = _thickness(horizontal, vertical=False)  # px, of the horizontal lines: used thrice
    vertical = _frame_sides(vertical, horizontal, length, gap, thickness)
    found = cv2.bitwise_or(horizontal, vertical)
    strokes = cv2.bitwise_and(mask, cv2.bitwise_not(found))
    keep = cv2.bitwise_or(_crossing(horizontal, strokes, vertical=False, thickness=thickness),
                          _crossing(vertical, strokes, vertical=True, thickness=_thickness(vertical, vertical=True)))
    keep = cv2.bitwise_not(cv2.bitwise_or(keep, _under_resting_marks(horizontal, strokes, stroke, thickness)))
    return cv2.bitwise_and(horizontal, keep), cv2.bitwise_and(vertical, keep)


def _without_stroke_fringe(lines: np.ndarray, strokes: np.ndarray, length: int) -> np.ndarray:
    """Horizontal ``lines`` (0/255 uint8, found with a fringe a pixel or two wide) less the
    fringe's pixels that belong to ``strokes`` (the 0/255 mask the lines were found in) resting
    on them: taking a stroke's bottom with the line leaves its lowest piece (a '2''s loop, a
    '1''s foot) apart, read as a full stop. ``length`` (px): the shortest line.

    A column of a line no thicker than the lines' mean thickness plus CORE_SLACK px is line
    alone; the rows it takes (the core) are carried sideways over the columns where strokes
    thicken it. Fringe pixels are given back only straight below or above a stroke, never
    sideways along the line: two marks that both rest on it must not be joined through it.
    Only the bands of rows holding line pixels are worked on (a tenth of a ruled page).
    (:func:`forms.frame_lines.line_core` does the like for one frame line of known geometry.)"""
    if lines.shape[0] < 2:
        return lines
    on = row_counts(lines) > 0
    if not on.any():
        return lines
    rows = math.ceil(_thickness(lines, vertical=False)) + CORE_SLACK
    bands = _bands(on, margin=rows + 1)
    out = lines.copy()
    column = _rect(1, rows + 1)
    for a, b in bands:
        band = lines[a:b]
        # Opened by hand: OpenCV's opening with an even kernel comes back shifted by a pixel.
        thick = cv2.dilate(cv2.erode(band, column, anchor=(0, 0)), column, anchor=(0, rows))
        alone = cv2.morphologyEx(cv2.subtract(band, thick), cv2.MORPH_OPEN, _rect(max(3, length // 4) | 1, 1))
        core = cv2.bitwise_and(band, cv2.dilate(alone, _rect(length | 1, 1)))
        # Only beside a core: where a line is thick all along (blurred, printed bold) it all goes.
        fringe = cv2.bitwise_and(cv2.dilate(core, _rect(1, 2 * rows + 1)), cv2.subtract(band, core))
        spared = cv2.subtract(strokes[a:b], band)
        for _ in range(rows + 1):
            spared = cv2.bitwise_and(cv2.dilate(spared, _rect(1, 3)), cv2.bitwise_or(fringe, spared))
        out[a:b] = cv2.subtract(band, spared)
    return out


def _bands(on: np.ndarray, margin: int) -> list[tuple[int, int]]:
    """Row ranges [a, b) covering the True entries of ``on`` grown by ``margin`` rows each way."""
    grown = np.convolve(on, np.ones(2 * margin + 1, bool), mode="same") > 0
    edges = np.flatnonzero(np.diff(np.r_[0, grown.view(np.int8), 0]))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _rect(width: int, height: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_RECT, (int(width), int(height)))


def _runs(mask: np.ndarray, length: int, gap: int, stroke: float,
          vertical: bool) -> np.ndarray:
    """Ink on thin straight runs of at least ``length`` px (0/255 uint8)."""
    # Kernels are capped at twice the mask's extent plus one: an opening with any longer kernel
    # gives the same result (only runs spanning the whole mask survive), and a mask that is all
    # ink (a black page: no boundary, so an enormous stroke estimate) would otherwise get kernels
    # of millions of pixels, which OpenCV takes minutes over.
    along, across_extent = mask.shape if vertical else mask.shape[::-1]
    length = min(int(length), 2 * along + 1)
    # Widening across the run by 1 px each way absorbs the one-pixel steps of a line that is not
    # perfectly level; lengthening by ``gap`` bridges breaks in a faint printed line.
    bridge = _rect(3, gap) if vertical else _rect(gap, 3)
    kernel = _rect(1, length) if vertical else _rect(length, 1)
    runs = cv2.morphologyEx(cv2.dilate(mask, bridge), cv2.MORPH_OPEN, kernel)
    # A line is thin. Where runs pile up thicker than two strokes (ink merged with a dense
    # background pattern, a filled area) it is not a line, and removing it would erase digits.
    thick = min(max(5, round(2 * stroke) + 3), 2 * across_extent + 1)
    across = _rect(thick, 1) if vertical else _rect(1, thick)
    runs = cv2.subtract(runs, cv2.morphologyEx(runs, cv2.MORPH_OPEN, across))
    return cv2.bitwise_and(runs, mask)


def _frame_sides(vertical: np.ndarray, horizontal: np.ndarray, length: int,
                 gap: int, thickness: float) -> np.ndarray:
    """Keep the vertical runs that are rules on their own (FREE_VERTICAL x ``length`` tall:
    taller than any handwritten '1') or box sides: both ends on a horizontal line, no further
    out than its outer edge, upright and straight, and no thicker than that printed line. A pen
    stroke touching or crossing a box's top and bottom fails one of these (it overshoots the
    line, slants, or is thicker) but for a ruler-straight '1' as thin as the print, which the
    forms stage tells from a divider by the frame's geometry. ``thickness``: the horizontal
    lines' (px, :func:`_thickness`)."""
    contours, _ = cv2.findContours(vertical, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    keep = np.zeros_like(vertical)
    if not contours:
        return keep
    reach = gap + 2  # px between a run's end and the horizontal line it stands on
    # The ends are checked for every run at once, from an integral image of the horizontal
    # lines: a noisy page has tens of thousands of short runs, too many for a Python loop.
    x, y, w, h = np.array([cv2.boundingRect(c) for c in contours], np.int64).reshape(-1, 4).T
    free = h >= FREE_VERTICAL * length
    total = _integral(horizontal)
    x0, x1 = x - 1, x + w + 1
    top = _any_in(total, y - 1, y + reach, x0, x1)
    bottom = _any_in(total, y + h - reach, y + h + 1, x0, x1)
    # A printed side ends in its line (a corner or a T): a run whose last OVERSHOOT rows hold no
    # line crosses it, as pen strokes do.
    within = (_any_in(total, y, y + OVERSHOOT, x0, x1) | ~_any_in(total, y, y + reach, x0, x1)) & (
        _any_in(total, y + h - OVERSHOOT, y + h, x0, x1) | ~_any_in(total, y + h - reach, y + h, x0, x1))
    widest = thickness + 1  # px (``thickness``: the horizontal lines'); a printed side is as thin
    kept = free.copy()
    sides = np.flatnonzero(~free & top & bottom & within)
    if sides.size:
        # Median width over the rows, so a digit touching the side here and there does not
        # make it look thick; a side leans no more than what deskew leaves (SLANT).
        xs, ys, ws, hs = x[sides], y[sides], w[sides], h[sides]
        widths = _median_row_widths(vertical, xs, ys, ws, hs)
        # A box's outer side, where its top and bottom lines end (corners, not the T of a comb
        # divider), may print or scan a little thicker than those lines: no digit stands there.
        beyond = reach + 2

        def continues(y0: np.ndarray, y1: np.ndarray) -> np.ndarray:
            return (_any_in(total, y0, y1, xs - beyond, xs - 1)
                    & _any_in(total, y0, y1, xs + ws + 1, xs + ws + beyond))

        corner = ~continues(ys - 1, ys + reach) & ~continues(ys + hs - reach, ys + hs + 1)
        kept[sides] = ((widths <= widest + CORNER_SLACK * corner)
                       & (ws <= widths + 2 + hs * SLANT))
    if kept.any():
        cv2.drawContours(keep, [contours[k] for k in np.flatnonzero(kept)], -1, 255,
                         thickness=cv2.FILLED)
    return cv2.bitwise_and(keep, vertical)


def _median_row_widths(mask: np.ndarray, x: np.ndarray, y: np.ndarray, w: np.ndarray,
                       h: np.ndarray) -> np.ndarray:
    """For each box (arrays x, y, w, h; h >= 1), the median over its rows of the nonzero pixels
    of ``mask`` in that row of the box (as ``np.median`` gives it), all boxes at once."""
    total = _integral(mask)
    box = np.repeat(np.arange(len(h)), h)  # box of every (box, row) pair
    starts = np.cumsum(h) - h
    rows = y[box] + np.arange(int(h.sum())) - starts[box]
    right, left = (x + w)[box], x[box]
    widths = (total[rows + 1, right] - total[rows, right]) - (total[rows + 1, left] - total[rows, left])
    widths = widths[np.lexsort((widths, box))]  # sorted within each box
    return (widths[starts + (h - 1) // 2] + widths[starts + h // 2]) / 2


def _integral(mask: np.ndarray) -> np.ndarray:
    """Integral image (int32, one row and column larger) of the nonzero pixels of ``mask`` (sums
    above-left), for :func:`_any_in`. OpenCV's is several times faster than two numpy cumsums."""
    return cv2.integral((np.asarray(mask) > 0).view(np.uint8), sdepth=cv2.CV_32S)


def _count_in(total: np.ndarray, y0: np.ndarray, y1: np.ndarray, x0: np.ndarray,
              x1: np.ndarray) -> np.ndarray:
    """Nonzero pixels in each rectangle [y0, y1) x [x0, x1) (clipped to the mask), for arrays
    of rectangles, from the mask's :func:`_integral`."""
    height, width = total.shape[0] - 1, total.shape[1] - 1
    y0, y1 = np.clip(y0, 0, height), np.clip(y1, 0, height)
    x0, x1 = np.clip(x0, 0, width), np.clip(x1, 0, width)
    return total[y1, x1] - total[y0, x1] - total[y1, x0] + total[y0, x0]


def _any_in(total: np.ndarray, y0: np.ndarray, y1: np.ndarray, x0: np.ndarray,
            x1: np.ndarray) -> np.ndarray:
    """Whether each rectangle (as for :func:`_count_in`) holds a nonzero pixel."""
    return _count_in(total, y0, y1, x0, x1) > 0


def _thickness(lines: np.ndarray, vertical: bool) -> float:
    """Mean thickness in px of the lines in a 0/255 uint8 mask (pixels per run across the lines)."""
    area = cv2.countNonZero(lines)
    if area == 0:
        return 0.0
    # A run starts where a line pixel follows paper (saturating subtraction: 255 - 0 only).
    if vertical:  # runs across a vertical line go left to right
        starts = cv2.countNonZero(lines[:, 0]) + cv2.countNonZero(cv2.subtract(lines[:, 1:], lines[:, :-1]))
    else:
        starts = cv2.countNonZero(lines[0]) + cv2.countNonZero(cv2.subtract(lines[1:], lines[:-1]))
    return area / max(1, starts)


def _under_resting_marks(lines: np.ndarray, strokes: np.ndarray, stroke: float,
                         thickness: float) -> np.ndarray:
    """Horizontal line pixels (0/255 uint8) to give back, the line's near half, where one of two
    kinds of mark touches a line:

    - what a ruled line left of a full stop written on it: a sliver (above or below the line) no
      taller than DOT_FLAT and no wider than DOT_WIDE strokes, of a speck's area (SPECK_AREA),
      DOT_CLEAR clear of other ink; without the line's pixels it would be dropped as a speck.
      Its columns are given back.
    - a bowl ('0', '6', '8') whose bottom went with the line, leaving a 'U': a mark no wider than
      BOWL_WIDE strokes touching the line in exactly two places. The line between them is given
      back. One place is a stroke merely resting on the line; three or more, touching digits.

    Only the near half (``thickness``: the lines' in px): all of it would draw a stop down below
    the baseline, like a comma."""
    out = np.zeros_like(lines)
    if not cv2.countNonZero(lines):
        return out
    ys, xs = np.nonzero(cv2.bitwise_and(strokes, cv2.dilate(lines, _rect(3, 3))))  # ink touching a line
    if not len(ys):
        return out
    lab = label_components(as_bool(strokes))
    marks = lab.labels[ys, xs] - 1
    order = np.lexsort((xs, marks))
    ys, xs, marks = ys[order], xs[order], marks[order]
    starts = np.flatnonzero(np.r_[True, marks[1:] != marks[:-1]])
    x, y, w, h = lab.boxes[marks[starts]].T
    area = lab.areas[marks[starts]]
    dots = (h <= max(2, math.ceil(DOT_FLAT * stroke))) & (w <= DOT_WIDE * stroke) & (area < SPECK_AREA * stroke ** 2)
    gap = max(1, math.ceil(DOT_CLEAR * stroke))  # ink around the box grown by it, less its own: a neighbour
    dots &= _count_in(_integral(strokes), y - gap, y + h + gap, x - gap, x + w + gap) == area
    breaks = np.r_[False, (np.diff(xs) > 1) & (np.diff(marks) == 0)]  # a gap within one mark's contact
    runs = np.add.reduceat(breaks.astype(int), starts) + 1
    bowls = (w <= BOWL_WIDE * stroke) & (runs == 2)
    depth = math.ceil(thickness / 2) + 1
    ends = np.r_[starts[1:], len(marks)]
    for k in np.flatnonzero(dots | bowls):  # the contact span, then the line next to it
        a, b = starts[k], ends[k]
        out[int(np.median(ys[a:b])), xs[a]: xs[b - 1] + 1] = 255
    return cv2.bitwise_and(lines, cv2.dilate(out, _rect(1, 2 * depth + 1)))


def _crossing(lines: np.ndarray, strokes: np.ndarray, vertical: bool, thickness: float) -> np.ndarray:
    """Line pixels with stroke ink within reach on both sides (0/255 uint8); ``thickness`` is the
    lines' (px, :func:`_thickness`)."""
    if not lines.any():
        return lines
    # Just across the line (its mask includes a 1 px fringe), so a counter of a digit that the
    # line cuts through is not mistaken for a crossing stroke.
    reach = math.ceil(thickness) + 2
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
