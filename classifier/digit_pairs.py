"""Generated crops of two digits run together (class '?'): touching pairs and bad cuts.

A reading pipeline normalises whatever the segmenter hands it. When two handwritten digits touch,
the whole pair arrives as one crop, and an MNIST-only model reads it confidently as one digit
('58' -> 8). Taught that a pair is "not a digit", the model makes the touching-digit splitter
prefer a cut; taught that a whole digit with a large piece of its neighbour is not a digit
either, it makes the splitter prefer the cut that leaves each part whole.

Pieces must stay recognisably two digits: the overlap is at most a fifth of the narrower digit
and a cut keeps at least 40% of the neighbour's width and ink, so no genuine single digit looks like one.
"""
from __future__ import annotations

import cv2
import numpy as np

from segmentation.normalize import to_mnist

MAX_OVERLAP = 0.2     # of the narrower digit's width
MIN_PIECE = 0.4       # share of the neighbour's width (and ink) a bad cut keeps
P_CUT = 0.3           # share of crops that are a whole digit plus a piece of its neighbour
NARROW = 0.45        # width / height of a glyph that is just a stroke (a '1')
P_TRIPLE = 0.1        # share of runs of three digits


def _tight(image: np.ndarray) -> np.ndarray:
    ys, xs = np.nonzero(image > 0.1)
    return image[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1]


def _resize(glyph: np.ndarray, factor: float) -> np.ndarray:
    h, w = glyph.shape
    size = (max(1, round(w * factor)), max(1, round(h * factor)))
    return np.clip(cv2.resize(glyph, size, interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def join(glyphs: list[np.ndarray], rng: np.random.Generator) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The tight glyphs side by side, each overlapping the previous one by up to MAX_OVERLAP of
    the narrower width (so they touch or nearly), with a small vertical jitter. Returns the
    ink-bright canvas and each glyph's column span in it."""
    heights = [g.shape[0] for g in glyphs]
    pad = 3
    canvas = np.zeros((max(heights) + 2 * pad, sum(g.shape[1] for g in glyphs) + 2 * pad), np.float32)
    x, spans = pad, []
    for i, g in enumerate(glyphs):
        if i:
            narrow = min(g.shape[1], glyphs[i - 1].shape[1])
            x -= int(rng.integers(0, max(1, int(MAX_OVERLAP * narrow)) + 1))
        y = pad + int(rng.integers(0, max(heights) - g.shape[0] + 1))
        y = int(np.clip(y + rng.integers(-2, 3), 0, canvas.shape[0] - g.shape[0]))
        region = canvas[y:y + g.shape[0], x:x + g.shape[1]]
        np.maximum(region, g, out=region)
        spans.append((x, x + g.shape[1]))
        x += g.shape[1]
    return canvas[:, : x + pad], spans


def _bad_cut(canvas: np.ndarray, spans: list[tuple[int, int]], rng: np.random.Generator) -> np.ndarray:
    """One digit whole and a piece of its neighbour holding at least MIN_PIECE of the
    neighbour's ink (a smaller piece would just look like a stray mark beside a digit)."""
    (a0, a1), (b0, b1) = spans
    keep_left = rng.random() < 0.5
    share = rng.uniform(MIN_PIECE, 0.8)
    if keep_left:  # left digit whole, the right one cut
        cut = b0 + int(share * (b1 - b0))
        piece, whole = canvas[:, b0:cut].sum(), canvas[:, b0:b1].sum()
        result = canvas[:, :cut]
    else:
        cut = a1 - int(share * (a1 - a0))
        piece, whole = canvas[:, cut:a1].sum(), canvas[:, a0:a1].sum()
        result = canvas[:, cut:]
    return result if piece >= MIN_PIECE * whole else canvas


def generate_pairs(digits: np.ndarray, n: int, seed: int) -> np.ndarray:
    """``n`` crops of two (sometimes three) of ``digits`` (ink-bright (N, 28, 28) in [0, 1])
    run together, or one digit with a piece of its neighbour, as (n, 28, 28) float32 passed
    through ``to_mnist``. Deterministic for a given ``seed``."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.float32)
    for i in range(n):
        count = 3 if rng.random() < P_TRIPLE else 2
        glyphs = [_tight(digits[j]) for j in rng.integers(0, len(digits), size=count)]
        # Two thin '1's side by side look like one thick '1' at 28x28; the splitter's shape
        # rule handles those, the model should not learn to reject thick '1's.
        while len(narrow := [k for k, g in enumerate(glyphs) if g.shape[1] < NARROW * g.shape[0]]) > 1:
            glyphs[narrow[-1]] = _tight(digits[rng.integers(0, len(digits))])
        # Neighbours differ a little in size, as handwriting does.
        glyphs = [_resize(g, rng.uniform(0.85, 1.15)) for g in glyphs]
        canvas, spans = join(glyphs, rng)
        if count == 2 and rng.random() < P_CUT:
            canvas = _bad_cut(canvas, spans, rng)
        if rng.random() < 0.3:  # the pipeline often hands in a binary mask
            canvas = (canvas > 0.5).astype(np.float32)
        out[i] = to_mnist(canvas)
    return out
