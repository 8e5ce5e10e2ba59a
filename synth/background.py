"""Security backgrounds for cheques: a light tint under guilloche-like bands of sine lines."""
from __future__ import annotations

import cv2
import numpy as np

from synth.ink import jitter, stamp

TINTS = ((0.93, 0.97, 0.93), (0.93, 0.95, 0.99), (0.99, 0.94, 0.95), (0.99, 0.97, 0.90),
         (0.96, 0.94, 0.99))
LINE_COLOURS = ((0.55, 0.75, 0.60), (0.55, 0.65, 0.85), (0.85, 0.60, 0.65), (0.85, 0.75, 0.50),
                (0.70, 0.62, 0.85))


def guilloche(height: int, width: int, rng: np.random.Generator, dpi: int) -> np.ndarray:
    """A tinted sheet with interleaved families of sine curves (float32 RGB in [0, 1])."""
    theme = int(rng.integers(len(TINTS)))
    page = np.ones((height, width, 3), np.float32) * jitter(TINTS[theme], rng, 0.01)
    # A soft diagonal gradient in the tint, as on printed security paper.
    ramp = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :] * rng.uniform(0.0, 0.04)
    page *= (1.0 - ramp)[:, :, None]
    layer = np.zeros((height, width), np.uint8)
    xs = np.arange(0, width + 8, 4, dtype=np.float64)
    thick = max(1, round(dpi / 200))
    for family in range(int(rng.integers(2, 4))):
        period = width / rng.uniform(2.0, 6.0)
        amp = height * rng.uniform(0.05, 0.18)
        spacing = height * rng.uniform(0.012, 0.03)
        wobble = rng.uniform(0.2, 0.6)
        phase0 = rng.uniform(0, 2 * np.pi)
        for k, base in enumerate(np.arange(-amp, height + amp, spacing)):
            phase = phase0 + k * wobble
            ys = base + amp * np.sin(2 * np.pi * xs / period + phase) * np.cos(np.pi * xs / (period * 3.1) + family)
            pts = np.stack([xs, ys], 1).round().astype(np.int32)
            cv2.polylines(layer, [pts], False, 255, thick, cv2.LINE_AA)
    colour = jitter(LINE_COLOURS[theme], rng, 0.04)
    stamp(page, layer.astype(np.float32) / 255.0 * rng.uniform(0.35, 0.6), 0, 0, colour)
    return page
