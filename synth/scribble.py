"""Cursive-looking handwriting that is not digits (signatures, payee names): distractors that
appear on real cheques and forms but never in the truth."""
from __future__ import annotations

import cv2
import numpy as np


def _word(loops: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """One joined-up word as points in a unit-height box, x from 0 to about ``loops`` / 2."""
    t = np.linspace(0.0, 2 * np.pi * loops, loops * 32)
    # A prolate cycloid gives the loops of joined-up writing; uneven speed, per-letter heights
    # (ascenders, descenders, small letters) make it irregular.
    speed = np.interp(t / (2 * np.pi), np.arange(loops + 1), rng.uniform(0.35, 0.75, loops + 1))
    advance = np.cumsum(speed) * (t[1] - t[0]) / (2 * np.pi)
    x = advance + rng.uniform(0.15, 0.3) * np.cos(t + np.pi / 2)
    kind = rng.choice(3, loops + 1, p=[0.6, 0.25, 0.15])
    amp = np.interp(t / (2 * np.pi), np.arange(loops + 1), np.array([0.45, 0.75, 0.45])[kind])
    y = 0.8 - amp * (0.5 - 0.5 * np.cos(t))
    # Descenders: the stroke dips below the line between letters.
    dip = np.interp(t / (2 * np.pi), np.arange(loops + 1), np.array([0.0, 0.0, 0.2])[kind])
    y = y + dip * np.clip(np.cos(t), 0, None)
    return x, y


def scribble(width: int, height: int, pen: float, rng: np.random.Generator) -> np.ndarray:
    """Ink coverage (float32, ``height`` x ``width``) of a few cursive words filling the box."""
    xs, ys, offset = [], [], 0.0
    loops_total = max(3, round(width / (height * rng.uniform(0.25, 0.4))))
    while loops_total > 0:
        n = int(min(loops_total, rng.integers(3, 9)))
        x, y = _word(n, rng)
        xs.append(x + offset)
        ys.append(y)
        offset = float(xs[-1].max()) + rng.uniform(0.6, 1.0)
        loops_total -= n
    x_max = max(float(x.max()) for x in xs)
    factor, pad = 4, pen + 2
    canvas = np.zeros((height * factor, width * factor), np.uint8)
    for x, y in zip(xs, ys):
        px = (pad + (x - xs[0].min()) / (x_max - xs[0].min()) * (width - 2 * pad)) * factor
        py = (pad + np.clip(y, 0.0, 1.0) * (height - 2 * pad)) * factor
        cv2.polylines(canvas, [np.stack([px, py], 1).round().astype(np.int32)], False, 255,
                      max(1, round(pen * factor)), cv2.LINE_AA)
    return cv2.resize(canvas, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
