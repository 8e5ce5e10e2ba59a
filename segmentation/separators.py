"""Recognition of separator marks inside a digit string: '.', ',', '-', '/'.

Each mark is judged against its string's line: height ``H`` (median digit height), ``top`` and
``base`` (median top and bottom edges of the digits, px):

* '.'  small roundish blob whose centre is in the bottom third of the line or below it;
* ','  small blob clearly taller than wide at the baseline, or a quarter of it below;
* '-'  short horizontal bar around mid-height;
* '/'  thin straight stroke about as tall as the digits, leaning right by 25 degrees or more
  (a handwritten '1' leans less; a '/' taller than the digits may lean a little less).

Separators first or last in a string are noise (a speck before a field, a full stop after an
amount) and are dropped, as are small marks that match no separator: too small to be a digit.
A '/' first or last is kept as an ordinary mark instead: a leaning '1' looks just like one.
"""
from __future__ import annotations

import math

import numpy as np

from .marks import Component

DOT_SIZE = 0.35       # longer side / H at most, full stop
COMMA_HEIGHT = 0.6    # height / H at most, comma
DASH_HEIGHT = 0.3     # height / H at most, dash
SLASH_LEAN = 25.0     # degrees from vertical at least, '/'
SLASH_LEAN_TALL = 18.0  # ... for a '/' at least SLASH_TALL x H tall
SLASH_TALL = 1.15
SLASH_ELONGATION = 3.5  # major / minor axis (std devs) at least: a single straight stroke
NOISE_SIZE = 0.35     # longer side / H below which an unrecognised small mark is noise


def lean(mask: np.ndarray) -> tuple[float, float]:
    """Lean (degrees from vertical, positive = top to the right, like '/') of the ink's major
    axis, and its elongation (ratio of the axes' standard deviations; inf for a line)."""
    ys, xs = np.nonzero(mask)
    if len(xs) < 3:
        return 0.0, 0.0
    cov = np.cov(np.stack([xs, ys]).astype(np.float64))
    vals, vecs = np.linalg.eigh(cov)
    vx, vy = vecs[:, 1]
    if vy > 0:  # point the axis upwards (image y grows downwards)
        vx, vy = -vx, -vy
    angle = math.degrees(math.atan2(vx, -vy))
    elongation = math.sqrt(vals[1] / vals[0]) if vals[0] > 1e-9 else math.inf
    return angle, elongation


def classify(comp: Component, height: float, top: float, base: float) -> str | None:
    """The separator a mark is, against its line (px), or None."""
    x, y, w, h = comp.box.x, comp.box.y, comp.box.w, comp.box.h
    span = max(1.0, base - top)
    cy = (y + h / 2 - top) / span   # 0 at the top of the line, 1 at the baseline
    rel_top = (y - top) / span
    bottom = y + h
    if h <= DASH_HEIGHT * height and w >= 1.5 * h and 0.15 * height <= w <= 1.3 * height \
            and 0.25 <= cy <= 0.8:
        return "-"
    if max(w, h) <= DOT_SIZE * height and 0.4 <= w / max(1, h) <= 2.5 and cy >= 0.65 \
            and rel_top >= 0.5:
        # A comma hangs below the baseline or is clearly taller than wide; a full stop sits on it.
        descent = (bottom - base) / h
        return "," if (descent >= 0.25 and h >= 0.9 * w) or h >= 1.5 * w else "."
    if h <= COMMA_HEIGHT * height and w <= 0.4 * height and h >= 1.2 * w and rel_top >= 0.45 \
            and bottom >= base - 0.1 * height:
        return ","
    if h >= 0.7 * height:
        angle, elongation = lean(comp.mask)
        need = SLASH_LEAN_TALL if h >= SLASH_TALL * height else SLASH_LEAN
        if angle >= need and elongation >= SLASH_ELONGATION:
            return "/"
    return None


def label_separators(string: list[Component], marks: set[int], height: float, top: float,
                     base: float) -> list[Component]:
    """The string (in reading order) with separators labelled, unrecognised small marks and
    separators at either end removed. ``marks`` are the positions of the small marks (not
    digit-sized) in ``string``; only they and digit-sized strokes (for '/') are examined."""
    out = []
    for k, comp in enumerate(string):
        sep = classify(comp, height, top, base)
        if k in marks:
            if sep is None and (max(comp.box.w, comp.box.h) < NOISE_SIZE * height
                                or comp.box.w >= 2.5 * comp.box.h):
                continue  # a speck or a bit of line, too small to be a digit
            if sep == "/":
                sep = None
        elif sep != "/":
            sep = None
        comp.separator = sep
        out.append(comp)
    for end in (0, -1):
        while out and out[end].separator is not None:
            if out[end].separator == "/":  # a leaning stroke with no digit beyond it is a '1'
                out[end].separator = None
                break
            out.pop(end)
    return out
