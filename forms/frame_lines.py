"""A printed frame line's own pixels, told from the pen strokes that meet it or run along it.

Around a frame the line's band (its rows, or columns for an upright, with a margin) holds the
printed line and whatever ink touches it. The printed line has a steady extent across; pen ink
beyond it, on one side, is a stroke's. Used by :func:`forms.regions.strip_frame`.
"""
from __future__ import annotations

import numpy as np

STROKE_ALONG = 2  # px of ink beyond a printed line's edges on one side: a stroke meets it there
EDGE_QUANTILE = 25  # % of places along a line where its edge may lie further in than found
ALONG_RUN = 1  # x a line's band width: a stroke meeting the line this far along it lies on it
# (1, not 2: a '2' written on a comb's bottom line has a bar barely longer than the band is wide)


def line_core(band: np.ndarray, before: np.ndarray, after: np.ndarray, span: int,
              touching: bool = False, under: bool = False) -> np.ndarray:
    """The printed line's own pixels of ``band``, the ink (bool, across x along) of one line
    and of the strokes that meet it; ``before`` and ``after``: the ink just outside the band on
    either side, per place along it.

    The line's extent across is where its ink starts and ends at most places within ``span`` px
    either way (EDGE_QUANTILE: strokes only widen it, and a line not quite level steps by a pixel
    now and then). A stroke meets the line where STROKE_ALONG px or more of ink lie beyond that
    extent on one side (a line a pixel thicker here and there grows on both sides). The ink
    beyond the line is the stroke's where the stroke runs along the line for ALONG_RUN x the
    band's width (a '7' bar lying on a box's top, a '2' drawn along a rule), and with
    ``touching`` also where it goes on outside the band on that side (the end of a '1' touching a
    box's top). With ``under``, the line's pixels under a stroke running along it are the
    stroke's too (else a bar lying on the line is left as thin as the pen width less the line's):
    a frame whose geometry is known can spare them."""
    across, along = band.shape
    if along < 3 or not band.any():
        return band.copy()
    inked = band.any(axis=0)
    first = np.where(inked, band.argmax(axis=0), across // 2)
    last = np.where(inked, across - 1 - band[::-1].argmax(axis=0), across // 2)
    window = min(2 * span + 1, along - (1 - along % 2))  # odd, at most the line's length
    rows = np.arange(across)[:, None]
    above = band & (rows < _running_quantile(first, window, 100 - EDGE_QUANTILE)[None, :])
    below = band & (rows > _running_quantile(last, window, EDGE_QUANTILE)[None, :])
    up, down = above.sum(axis=0) >= STROKE_ALONG, below.sum(axis=0) >= STROKE_ALONG
    edges = np.flatnonzero(np.diff(np.concatenate(([0], (up | down).view(np.int8), [0]))))
    lying = np.zeros(along, bool)
    for start, end in zip(edges[::2], edges[1::2]):
        lying[start:end] = end - start >= ALONG_RUN * across
    up &= lying | (touching & before)
    down &= lying | (touching & after)
    stroke = (above & up[None, :]) | (below & down[None, :])
    if under:
        stroke |= lying[None, :]
    return band & ~stroke


def _running_quantile(values: np.ndarray, window: int, q: float) -> np.ndarray:
    """The ``q`` percentile of ``values`` (small non-negative integers: rows across a line's
    band) over ``window`` (odd, at most their length) places around each, reflected at the ends
    (a corner's end of a frame line is no typical place). Equal to ``np.percentile`` of each
    window (linear interpolation), from running counts of the values at or below each level:
    five times faster than sorting every window, and this runs for every side of every frame."""
    padded = np.pad(np.asarray(values, np.int64), window // 2, mode="reflect")
    levels = np.arange(padded.max() + 1)
    at_or_below = np.zeros((len(padded) + 1, len(levels)), np.int32)
    np.cumsum(padded[:, None] <= levels, axis=0, out=at_or_below[1:])
    in_window = at_or_below[window:] - at_or_below[:-window]  # per window, values <= each level
    position = q / 100 * (window - 1)
    rank = int(position)
    # The rank-th smallest value is the number of levels holding at most rank values.
    low = (in_window <= rank).sum(axis=1).astype(np.float32)
    high = (in_window <= min(rank + 1, window - 1)).sum(axis=1).astype(np.float32)
    t = np.float32(position - rank)
    # numpy's own interpolation formula, so results are identical to the bit.
    return np.where(t >= 0.5, high - (high - low) * (1 - t), low + (high - low) * t)
