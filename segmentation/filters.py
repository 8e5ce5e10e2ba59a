"""Removal of marks that are certainly not handwritten digits, before and after grouping."""
from __future__ import annotations

import numpy as np

from .components import Labeled, PageScale, stroke_width
from .geometry import median
from .marks import Component

MAX_DIGIT_HEIGHT = 150  # px: the tallest digit expected (120 px at 300 dpi, with margin)
HUGE = 2.5              # x MAX_DIGIT_HEIGHT: taller marks are drawings, signatures, stains
SOLID = 3.0             # x page pen width: blobs this thick are stamps or filled shapes
TINY = 0.3              # x page typical height: a string of marks all smaller is noise
SMALL_FEW = 0.45        # x page typical height: one or two marks all lower than this are noise
BAR_ASPECT = 3.0        # width / height of a lone bar (rule remnant, lone dash)
RULE_LENGTH = 12        # px: shorter upright bars are not tested as rule remnants
RULE_WOBBLE = 0.6       # px: std of a rule's edges about a straight line at most
RULE_SLOPE = 0.03       # px per row: a rule on a deskewed page is upright (under 2 degrees)
RULE_TALL = 1.25        # x the string's median height: a frame edge spans the box, digits less


def too_tall(boxes: np.ndarray, max_digit_height: int = MAX_DIGIT_HEIGHT) -> np.ndarray:
    """True for components far taller than any digit: drawings, signatures, stains."""
    return boxes[:, 3] > HUGE * max_digit_height


def solid_mask(lab: Labeled, keep: np.ndarray, scale: PageScale) -> np.ndarray:
    """True for solid blobs far thicker than the pen: stamps, filled shapes, smudges (only
    components with both sides over 4 x SOLID pen widths are measured, to stay cheap)."""
    out = np.zeros(len(lab), bool)
    big = np.flatnonzero(keep & (np.minimum(lab.boxes[:, 2], lab.boxes[:, 3]) > 4 * SOLID * scale.stroke))
    for i in big.tolist():
        sw = stroke_width(lab.mask(i))
        out[i] = sw > SOLID * scale.stroke and sw > 0.3 * min(lab.boxes[i, 2], lab.boxes[i, 3])
    return out


def is_rule_piece(mask: np.ndarray) -> bool:
    """Whether a mark is an upright bar drawn with a ruler (a box frame's edge or a comb tooth
    that line removal left behind): at least RULE_LENGTH px and 3 widths long, one run of ink
    per row, both edges straight and upright (std about a fitted line under RULE_WOBBLE px,
    slope under RULE_SLOPE). Careful handwritten '1's can pass this too: the caller also asks
    for the bar to stand taller than the digits around it."""
    rows, cols = mask.shape
    if rows < RULE_LENGTH or rows < 3 * cols:
        return False
    cut = rows // 10  # the ends of a cut line are ragged
    body = mask[cut: rows - cut]
    left = body.argmax(axis=1)
    right = body.shape[1] - 1 - body[:, ::-1].argmax(axis=1)
    if (body.sum(axis=1) != right - left + 1).any():
        return False  # a row with two runs: a curve or a hook, not a bar
    y = np.arange(len(body), dtype=np.float64)
    for edge in (left, right):
        slope, icpt = np.polyfit(y, edge.astype(np.float64), 1)
        if abs(slope) > RULE_SLOPE or float((edge - (slope * y + icpt)).std()) > RULE_WOBBLE:
            return False
    return True


def drop_rule_pieces(string: list[Component], page_height: float) -> list[Component]:
    """The string without ruler-straight upright bars standing RULE_TALL x taller than its
    other marks (or than the page's typical height when nothing else is there). Meant for
    free page ink: inside a frame stripped by its known geometry a '1' touching its top and
    bottom lines is such a bar, so segment_page does not apply it there (``framed``)."""
    bars = {id(c) for c in string if is_rule_piece(c.mask)}
    if not bars:
        return string
    others = [c.box.h for c in string if id(c) not in bars]
    ref = median(others) if others else page_height
    return [c for c in string if not (id(c) in bars and c.box.h >= RULE_TALL * ref)]


def is_noise_string(boxes: np.ndarray, scale: PageScale) -> bool:
    """Whether a string's marks (their (N, 4) boxes) are only specks (all under TINY x the
    page's typical height, or one or two marks all lower than SMALL_FEW x it: background pattern
    remnants) or a lone horizontal bar (a ruling line remnant, or a dash with nothing around)."""
    w, h = boxes[:, 2], boxes[:, 3]
    if np.maximum(w, h).max() < TINY * scale.height:
        return True
    if len(boxes) <= 2 and h.max() < SMALL_FEW * scale.height:
        return True
    return len(boxes) == 1 and w[0] >= BAR_ASPECT * h[0] and h[0] <= 3 * scale.stroke
