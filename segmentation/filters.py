"""Removal of marks that are certainly not handwritten digits, before and after grouping."""
from __future__ import annotations

import numpy as np

from .components import Labeled, PageScale, stroke_width
from .marks import Component

MAX_DIGIT_HEIGHT = 150  # px: the tallest digit expected (120 px at 300 dpi, with margin)
HUGE = 2.5              # x MAX_DIGIT_HEIGHT: taller marks are drawings, signatures, stains
SOLID = 3.0             # x page pen width: blobs this thick are stamps or filled shapes
TINY = 0.3              # x page typical height: a lone mark smaller than this is noise
BAR_ASPECT = 3.0        # width / height of a lone bar (rule remnant, lone dash)


def huge_mask(lab: Labeled, keep: np.ndarray, scale: PageScale,
              max_digit_height: int = MAX_DIGIT_HEIGHT) -> np.ndarray:
    """True for components far taller than any digit, or solid blobs far thicker than the pen
    (only components with both sides over 4 pen widths are measured, to stay cheap)."""
    h = lab.boxes[:, 3]
    out = h > HUGE * max_digit_height
    big = np.flatnonzero(keep & ~out & (np.minimum(lab.boxes[:, 2], h) > 4 * SOLID * scale.stroke))
    for i in big.tolist():
        sw = stroke_width(lab.mask(i))
        out[i] = sw > SOLID * scale.stroke and sw > 0.3 * min(lab.boxes[i, 2], h[i])
    return out


def is_noise_string(string: list[Component], scale: PageScale) -> bool:
    """A string that is only a speck (all marks tiny for the page) or a lone horizontal bar
    (a remnant of a ruling line, or a dash with nothing around it)."""
    if all(max(c.box.w, c.box.h) < TINY * scale.height for c in string):
        return True
    if len(string) == 1:
        c = string[0]
        return c.box.w >= BAR_ASPECT * c.box.h and c.box.h <= 3 * scale.stroke
    return False
