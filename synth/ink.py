"""Paper and ink: page backgrounds, pen colours and how ink is laid onto a page.

Pages are float32 RGB in [0, 1]. Ink is applied multiplicatively (like a filter over the paper),
so overlapping pen strokes, printed lines and tinted backgrounds combine naturally.
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.results import Box

PAPERS = {
    "white": (0.97, 0.97, 0.96),
    "bright": (0.99, 0.99, 0.99),
    "cream": (0.97, 0.95, 0.87),
    "grey": (0.92, 0.92, 0.91),
    "blue": (0.92, 0.95, 0.98),
}
INKS = {
    "black": (0.10, 0.10, 0.12),
    "blue": (0.10, 0.20, 0.58),
    "blue-black": (0.10, 0.13, 0.30),
}
PRINT_BLACK = (0.12, 0.12, 0.12)


def jitter(colour: tuple[float, float, float], rng: np.random.Generator, amount: float = 0.03) -> np.ndarray:
    """``colour`` with a small random shift per channel (no two pens or papers are the same)."""
    return np.clip(np.asarray(colour, np.float32) + rng.uniform(-amount, amount, 3), 0.0, 1.0).astype(np.float32)


def pen_colour(rng: np.random.Generator) -> np.ndarray:
    """Black or blue ballpoint, roughly half and half."""
    name = ("black", "blue", "blue-black")[int(rng.choice(3, p=[0.5, 0.35, 0.15]))]
    return jitter(INKS[name], rng)


def paper(height: int, width: int, rng: np.random.Generator, colour: str | None = None) -> np.ndarray:
    """A sheet of paper: a plain colour with faint low-frequency fibre texture."""
    name = colour or ("white", "bright", "cream", "grey", "blue")[int(rng.choice(5, p=[0.45, 0.2, 0.2, 0.1, 0.05]))]
    base = jitter(PAPERS[name], rng, 0.01)
    small = rng.normal(0.0, 1.0, (max(2, height // 24), max(2, width // 24))).astype(np.float32)
    texture = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC) * np.float32(0.006)
    return base[None, None, :] + texture[:, :, None]  # may pass 1.0 by a hair; scans saturate


def stamp(page: np.ndarray, alpha: np.ndarray, x: int, y: int, colour: np.ndarray | tuple) -> None:
    """Lay ink of ``colour`` with coverage ``alpha`` onto ``page`` at (x, y), clipped to the page."""
    h, w = alpha.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, page.shape[1]), min(y + h, page.shape[0])
    if x0 >= x1 or y0 >= y1:
        return
    a = alpha[y0 - y: y1 - y, x0 - x: x1 - x, None]
    filt = np.asarray(colour, np.float32)[None, None, :]
    page[y0:y1, x0:x1] *= 1.0 - a * (1.0 - filt)


def pressure(alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven ballpoint ink: coverage scaled by a smooth random field between ~0.75 and 1."""
    h, w = alpha.shape
    field = rng.uniform(0.75, 1.0, (max(2, h // 12), max(2, w // 12))).astype(np.float32)
    return alpha * cv2.resize(field, (w, h), interpolation=cv2.INTER_CUBIC).clip(0.7, 1.0)


def write_ink(page: np.ndarray, alpha: np.ndarray, x: int, y: int, colour: np.ndarray,
              rng: np.random.Generator) -> Box:
    """Handwriting ``alpha`` laid at (x, y) with pen pressure; returns the tight box of its ink."""
    stamp(page, pressure(alpha, rng), x, y, colour)
    ys, xs = np.nonzero(alpha > 0.25)
    return Box(x + int(xs.min()), y + int(ys.min()), int(xs.max() - xs.min()) + 1, int(ys.max() - ys.min()) + 1)
