"""Boxed fields found in the mask of removed lines: single frames and combs (a row of cells).

A printed frame encloses paper: in the line mask it is a closed loop with a rectangular hole. A
comb is one loop with a row of equal holes (its cells). Holes are found as the inner contours of
the line mask after closing the small gaps that crossing pen strokes leave (line removal hands
the crossing pixels back to the ink). What is not a field:

- a loop whose holes lie in more than one row: a table or a ruled grid (ledgers), whose
  handwriting sits on the rules rather than inside cells;
- a frame holding another frame (a cheque's border), or taller than MAX_HEIGHT;
- holes too small to hold a digit, or far from rectangular (printed letters, curves);
- a loop whose only hole is one cell at its end: digits crossing a comb's lines opened the
  others to the outside, and taking that cell for the box would take them for its sides.

A comb's cells come from an equal grid over the whole frame that agrees with the holes' sides:
a digit crossing a divider takes it out of the line mask and merges two holes, so the divider
the grid puts there must show as print on the page instead. A row of unequal holes (``DD | MM |
YYYY`` boxes) is one box whose content reads across the dividers.

Forms printed in a pale "dropout" colour for machine reading have no lines in the ink at all:
their frames are looked for on the grey page instead (``pale``; their content is read as it
stands, since no line crosses a stroke in the ink).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline.lines import find_lines
from pipeline.morphology import on_columns, on_rows, row_kernel
from pipeline.results import Box
from pipeline.scale import pow2_factor

MIN_SIDE = 12  # px: a hole smaller than this holds no digit
MAX_HEIGHT = 400  # px: taller frames are page borders or panels (a field is < 1.3 in at 300 dpi)
RECTANGULAR = 0.85  # hole area / its bounding box area, at least
ROW_TOLERANCE = 0.25  # x cell height: cells of one comb share top and bottom within this
CELL_ASPECT = (0.4, 1.4)  # width / height of a comb cell
GRID_SLACK = 0.15  # x pitch: how far a hole's side may lie from the comb's grid
ON_GRID = 0.75  # share of the holes' sides that must lie on the grid
PRINTED = 0.8  # share of a lost divider's rows that must be darker than paper on the page
PAPER = 225  # grey level (pages are illumination-normalised: paper ~255) darker than paper
SOLID = 0.9  # share of a cell's rows darker than paper in a column of a printed divider
COVERED = 0.6  # share of each side of a hole that printed line pixels must line (before closing)
BAND = 4  # px beside a hole searched for its frame line
FILLED = 0.8  # share of its loop's width a single frame's hole spans, at least
BRIDGE = 5  # x the gap closed anyway: breaks in a line this long are closed where the page is dark
PALE_SIDE = 600  # px: frames printed lighter than ink are looked for on a page reduced to about this short side
PALE_EDGE = 0.3  # share of a pale frame's top edge that the ink may cover (strokes crossing it), at most


@dataclass
class Frame:
    """A boxed field: ``box`` the frame's outer edge, ``inner`` the paper inside it, ``cells``
    the comb's cells (inner boxes, left to right; empty for a single frame)."""

    box: Box
    inner: Box
    cells: list[Box] = field(default_factory=list)
    holes: list[Box] = field(default_factory=list)  # the paper areas the printed lines enclose
    pale: bool = False  # printed too light to be ink ("dropout" colour): absent from the ink mask

    @property
    def kind(self) -> str:
        return "comb" if self.cells else "box"


def _gap(shape: tuple[int, int]) -> int:
    """px of a break in a frame line bridged: a pen stroke crossing it (a few px at 150 dpi,
    up to ~12 at 600 dpi)."""
    return int(np.clip(min(shape) / 120, 5, 15))


def _bridged(lines: np.ndarray, gray: np.ndarray | None) -> np.ndarray:
    """The line mask (0/255) with its breaks up to BRIDGE gaps long filled where the page is
    dark all along the break (with ``gray``): a pen stroke lying on a printed line (a '7' bar
    on a box's top), which line removal hands to the ink when the pen is darker than the print."""
    mask = np.ascontiguousarray(lines, dtype=bool).view(np.uint8) * np.uint8(255)
    if gray is None:
        return mask
    gap = _gap(mask.shape)
    dark = cv2.compare(gray, PAPER, cv2.CMP_LT)

    def bridge(rows: np.ndarray) -> np.ndarray:  # runs 2 gaps long, breaks up to BRIDGE gaps closed
        along = cv2.morphologyEx(rows, cv2.MORPH_OPEN, row_kernel(2 * gap))
        return cv2.morphologyEx(along, cv2.MORPH_CLOSE, row_kernel(BRIDGE * gap))

    # Between pieces of one horizontal (upright) line only, along its rows (columns).
    joined = cv2.bitwise_or(on_rows(mask, 2 * gap, bridge), on_columns(mask, 2 * gap, bridge))
    return cv2.bitwise_or(mask, cv2.bitwise_and(joined, dark))


def _closed(mask: np.ndarray) -> np.ndarray:
    """The line mask (0/255) with short breaks along horizontal and vertical lines closed."""
    gap = _gap(mask.shape)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (gap, 1)))
    return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, gap)))


def _lined(raw: np.ndarray, hole: Box) -> bool:
    """Whether printed lines run along all four sides of a hole (closing can also make loops
    of the bits of bold printed letters that line removal takes, but their sides are patchy)."""
    height, width = raw.shape
    x0, y0, x1, y1 = hole.x, hole.y, hole.right, hole.bottom
    sides = (raw[max(0, y0 - BAND): y0, x0:x1].any(axis=0), raw[y1: y1 + BAND, x0:x1].any(axis=0),
             raw[y0:y1, max(0, x0 - BAND): x0].any(axis=1), raw[y0:y1, x1: x1 + BAND].any(axis=1))
    top, bottom, left, right = (float(side.mean()) if side.size else 0.0 for side in sides)
    # A digit crossing a comb's divider can take most of that divider out of the mask.
    return min(top, bottom) >= COVERED and max(left, right) >= COVERED


def _holes(mask: np.ndarray, raw: np.ndarray) -> dict[int, list[Box]]:
    """Rectangular holes big enough for a digit and lined by printed lines, grouped by the loop
    (outer contour) around them."""
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    out: dict[int, list[Box]] = {}
    if hierarchy is None:
        return out
    for i, (_, _, _, parent) in enumerate(hierarchy[0]):
        if parent < 0:
            continue
        x, y, w, h = cv2.boundingRect(contours[i])
        if w < MIN_SIDE or h < MIN_SIDE or h > MAX_HEIGHT:
            continue
        # A hole's contour runs along the line pixels around it: the paper is 1 px inside.
        hole = Box(x + 1, y + 1, w - 2, h - 2)
        if cv2.contourArea(contours[i]) < RECTANGULAR * w * h or not _lined(raw, hole):
            continue
        out.setdefault(int(parent), []).append(hole)
    return out


def _one_row(holes: list[Box]) -> bool:
    """All holes in one row, of the same height: a frame or a comb, not a table."""
    h = float(np.median([b.h for b in holes]))
    tops = np.array([b.y for b in holes], float)
    bottoms = np.array([b.bottom for b in holes], float)
    return bool(np.ptp(tops) <= ROW_TOLERANCE * h and np.ptp(bottoms) <= ROW_TOLERANCE * h)


def _dividers_printed(cells: list[Box], holes: list[Box], gray: np.ndarray) -> bool:
    """Whether every divider the grid puts inside a hole (lost from the line mask, where a digit
    crossed it) is printed on the page: darker than paper down most of its length. Boxes of
    unequal widths that happen to fit a grid (``DD | MM | YYYY``) have no such divider."""
    for a, b in zip(cells[:-1], cells[1:]):
        x = round((a.right + b.x) / 2)
        hole = next((h for h in holes if h.x + 2 < x < h.right - 2), None)
        if hole is None:
            continue
        band = gray[hole.y + 2: hole.bottom - 2, max(0, x - 2): x + 3]
        if band.size == 0 or np.mean(band.min(axis=1) < PAPER) < PRINTED:
            return False
    return True


def _comb_cells(holes: list[Box], outer: Box, gray: np.ndarray | None = None) -> list[Box] | None:
    """The cells of a comb: the frame's width cut into ``n`` equal, roughly square cells, the
    ``n`` whose cell edges agree with the most holes' sides (fewest cells among equals; at least
    ON_GRID of them, since an upright digit stroke that line removal took for a divider makes a
    side off the grid) and whose dividers lost from the mask are printed on ``gray`` (when
    given). Holes may span several cells (a digit crossing a divider takes it out of the line
    mask), so the grid comes from the frame, then refitted to the holes' sides
    (:func:`_fitted_grid`). None: no grid fits."""
    start, span, thick = _grid_span(holes, outer)
    height = float(np.median([h.h for h in holes]))
    # Cell boundaries (the dividers' centre lines) seen at the holes' sides.
    seen = np.array([h.x - thick / 2 for h in holes] + [h.right + thick / 2 for h in holes])
    fits = []
    for n in range(2, int(span / (CELL_ASPECT[0] * height)) + 1):
        pitch = span / n
        if pitch > CELL_ASPECT[1] * height:
            continue
        k = (seen - start) / pitch
        score = float(np.mean(np.abs(k - np.round(k)) * pitch <= GRID_SLACK * pitch + 1.5))
        if score >= ON_GRID:
            fits.append((-score, n))
    for _, n in sorted(fits):  # best agreement first, then the fewest cells
        first, pitch, _ = _fitted_grid(holes, outer, n)
        cells = _grid_cells(holes, first, pitch, n, thick, gray)
        if gray is None or _dividers_printed(cells, holes, gray):
            return cells
    return None


def _grid_span(holes: list[Box], outer: Box) -> tuple[float, float, float]:
    """(x of the first line's centre, span to the last line's centre, the lines' width) px of
    a comb whose frame's outer edge is ``outer``: the line width is how far below the top edge
    the holes start."""
    top = float(np.median([h.y for h in holes])) - outer.y
    thick = float(np.clip(top, 1, 0.2 * outer.h))
    return outer.x + thick / 2, outer.w - thick, thick


def _fitted_grid(holes: list[Box], outer: Box, n: int) -> tuple[float, float, float]:
    """(first line's centre, pitch, line width) px of an ``n``-cell comb: the grid over the
    frame's outer edge, refitted (least squares) to the holes' sides, which lie on its lines. A
    digit spilling over the frame's end widens the outer edge, not the holes: without the refit
    every divider towards that end would be placed off its printed line."""
    start, span, thick = _grid_span(holes, outer)
    pitch = span / n
    sides = np.array([h.x - thick / 2 for h in holes] + [h.right + thick / 2 for h in holes])
    k = np.round((sides - start) / pitch)
    near = (k >= 0) & (k <= n) & (np.abs(sides - start - k * pitch) <= 0.35 * pitch)
    if len(np.unique(k[near])) >= 2:
        pitch, start = (float(v) for v in np.polyfit(k[near], sides[near], 1))
    return start, pitch, thick


def comb_grid(frame: Frame, n: int, gray: np.ndarray | None = None) -> list[Box]:
    """``n`` equal cells over the whole of ``frame`` (a template's comb, whose cell count is
    known but which detection cut otherwise), fitted to its holes' sides (:func:`_fitted_grid`)
    and each snapped to its printed lines where they show (:func:`_grid_cells`). Taken over the
    frame rather than between its holes: a digit crossing the frame opens its cell's hole, which
    would then be left out."""
    start, pitch, thick = _fitted_grid(frame.holes, frame.box, n)
    return _grid_cells(frame.holes, start, pitch, n, thick, gray)


def _grid_cells(holes: list[Box], start: float, pitch: float, n: int, thick: float,
                gray: np.ndarray | None = None) -> list[Box]:
    """``n`` cells between the comb's lines. Line ``k`` is centred on ``start + k * pitch`` and
    ``thick`` wide, unless its actual extent shows: on ``gray``, the run of columns that are
    darker than paper all the way down next to that place (pen strokes crossing it do not
    shorten it there, unlike in the line mask), else a hole's side."""
    y0, y1 = min(h.y for h in holes), max(h.bottom for h in holes)
    slack = GRID_SLACK * pitch + 1.5
    lines = [[start + k * pitch - thick / 2, start + k * pitch + thick / 2] for k in range(n + 1)]
    for h in holes:
        left = round((h.x - thick / 2 - start) / pitch)
        right = round((h.right + thick / 2 - start) / pitch)
        if 0 <= left <= n and abs(h.x - thick / 2 - start - left * pitch) <= slack:
            lines[left][1] = h.x
        if 0 <= right <= n and abs(h.right + thick / 2 - start - right * pitch) <= slack:
            lines[right][0] = h.right
    if gray is not None:
        x0 = max(0, int(start - slack - thick))
        band = gray[y0 + 2: y1 - 2, x0: int(start + n * pitch + slack + thick) + 1]
        if band.size:
            solid = np.flatnonzero(np.mean(band < PAPER, axis=0) >= SOLID) + x0
            for k, line in enumerate(lines):
                centre = start + k * pitch
                near = solid[np.abs(solid - centre) <= slack]
                if len(near):  # the run of solid columns nearest the grid position
                    at = near[np.argmin(np.abs(near - centre))]
                    run = solid[(solid >= at - thick - 1) & (solid <= at + thick + 1)]
                    line[0], line[1] = float(run.min()), float(run.max() + 1)
    return [Box(int(round(a[1])), y0, max(1, int(round(b[0] - a[1]))), y1 - y0)
            for a, b in zip(lines[:-1], lines[1:])]


def _frame(holes: list[Box], outer: Box, gray: np.ndarray | None = None) -> Frame | None:
    holes = sorted(holes, key=lambda b: b.x)
    if not _one_row(holes):
        return None
    inner = Box.enclosing(holes)
    if len(holes) == 1:
        if inner.w < FILLED * outer.w:
            # The rest of the loop is no paper of its own (digits crossing the lines opened
            # the other cells to the outside, or it is no field): read as free writing.
            return None
        # One hole may still be a comb whose every divider was lost: it stays a single box.
        return Frame(outer, inner, holes=holes)
    cells = _comb_cells(holes, outer, gray)
    # Unequal cells (a "DD | MM | YYYY" row, or a handwritten 1 standing in a box like a
    # divider) are read as one box: the content runs on across the dividers.
    return Frame(outer, inner, cells or [], holes)


def _overlap(a: Box, b: Box) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def _contains(outer: Box, inner: Box) -> bool:
    return outer.x <= inner.x and outer.y <= inner.y and inner.right <= outer.right and inner.bottom <= outer.bottom


def _pale_frames(gray: np.ndarray, ink: np.ndarray) -> list[Frame]:
    """Frames printed too light to be ink (a form printed in a pale "dropout" colour for machine
    reading): found among the lines of any shade darker than paper, kept where the page's ``ink``
    holds little of their top edge (handwriting crossing it). The page's removed lines may hold
    part of it: a pale print is partly dark enough to be a line on a page enlarged to the working
    resolution (the Sauvola window grows with the page), too little of it for a frame of lines.
    Only their place and kind are wanted, so the page is reduced first (darkest pixel of each
    block, which keeps one-pixel lines) to about PALE_SIDE: a few px of error, a fraction of the work."""
    if min(gray.shape) < 2 * MIN_SIDE:  # no field fits (and OpenCV takes a 1 x 1 page for a scalar)
        return []
    f = pow2_factor(min(gray.shape), PALE_SIDE)
    small = cv2.erode(gray, np.ones((f, f), np.uint8), anchor=(0, 0))[::f, ::f] if f > 1 else gray
    out = []
    for frame in _frames_in(find_lines(cv2.compare(small, PAPER, cv2.CMP_LT)), small):
        box, inner = _scaled(frame.box, f), _scaled(frame.inner, f)
        if box.h > MAX_HEIGHT + 2 * _gap(gray.shape):  # the limit in full-size px
            continue
        window = (slice(max(0, box.y - f), inner.y + f), slice(box.x, box.right))
        edge = ink[window]
        if edge.size and float(edge.any(axis=0).mean()) <= PALE_EDGE:
            out.append(Frame(box, inner, [_scaled(b, f) for b in frame.cells],
                             [_scaled(b, f) for b in frame.holes], pale=True))
    return out


def _scaled(box: Box, f: int) -> Box:
    return Box(box.x * f, box.y * f, box.w * f, box.h * f)


def _frames_in(lines: np.ndarray, gray: np.ndarray | None) -> list[Frame]:
    """Every frame and comb whose lines ``lines`` holds (nested ones included)."""
    bridged = _bridged(lines, gray)
    mask = _closed(bridged)
    contours, hierarchy = cv2.findContours(mask, cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    frames = []
    raw = bridged > 0
    for parent, holes in _holes(mask, raw).items():
        x, y, w, h = cv2.boundingRect(contours[parent])
        if h > MAX_HEIGHT + 2 * _gap(mask.shape):
            continue
        frame = _frame(holes, Box(x, y, w, h), gray)
        if frame is not None:
            frames.append(frame)
    return frames


def find_frames(lines: np.ndarray, gray: np.ndarray | None = None,
                ink: np.ndarray | None = None) -> list[Frame]:
    """Boxed fields (frames and combs) in a page's mask of removed lines (bool, deskewed page
    coordinates), top to bottom, left to right. ``gray``, the deskewed page, confirms the comb
    dividers that crossing digits took out of the mask (without it the grid is trusted); with
    ``ink`` (the page's ink mask) too, the frames printed too light to be ink are found as well
    (:func:`_pale_frames`)."""
    removed = lines is not None and np.any(lines)
    frames = _frames_in(lines, gray) if removed else []
    if gray is not None and ink is not None:
        pale = _pale_frames(gray, ink)
        frames += [p for p in pale if not any(_overlap(p.box, f.box) for f in frames)]
    # A frame around other frames is a border or a panel, not a field.
    frames = [f for f in frames if not any(g is not f and _contains(f.inner, g.box) for g in frames)]
    return sorted(frames, key=lambda f: (f.box.y, f.box.x))
