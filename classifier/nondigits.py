"""Generated "not a digit" crops (class '?'): letters, printed text fragments, blots, ruling-line
pieces, box corners and specks, each normalised with ``to_mnist`` like a real crop.

Shapes that genuinely look like digits are left out on purpose (O/o/D/Q/C/c/U/u/n ~ 0, I/l/i/j/J ~ 1,
Z/z and a question mark ~ 2, S/s ~ 5, b/G ~ 6, B ~ 8, g/q/a ~ 9, vertical line pieces ~ 1, a box corner like a 7):
teaching the model that a '1'-shaped stroke is "not a digit" would cost real digits.
"""
from __future__ import annotations

import cv2
import numpy as np

from segmentation.normalize import to_mnist

LETTERS = "AEFHKMNPRVWXYefhkmprtvwxy"
SYMBOLS = "#%&*+=@<>"  # no '?': a printed question mark is what a curled '2' or '0' looks like
FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX,
         cv2.FONT_HERSHEY_COMPLEX, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL,
         cv2.FONT_HERSHEY_SCRIPT_SIMPLEX, cv2.FONT_HERSHEY_SCRIPT_COMPLEX)
KINDS = ("letter", "text", "symbol", "blot", "rule", "corner", "specks", "scribble")
SIZE = 96


def _canvas() -> np.ndarray:
    return np.zeros((SIZE, SIZE), np.uint8)  # cv2 text drawing needs uint8


def _text(rng: np.random.Generator, alphabet: str, length: int) -> np.ndarray:
    img = _canvas()
    text = "".join(rng.choice(list(alphabet), size=length))
    font = int(rng.choice(FONTS)) | (cv2.FONT_ITALIC if rng.random() < 0.3 else 0)
    scale = rng.uniform(0.8, 2.0) / max(1, length) ** 0.5
    thickness = int(rng.integers(1, 5))
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    origin = (max(0, (SIZE - w) // 2), min(SIZE - 1, (SIZE + h) // 2))
    cv2.putText(img, text, origin, font, scale, 255, thickness, cv2.LINE_AA)
    return img


def _blot(rng: np.random.Generator) -> np.ndarray:
    img = _canvas()
    for _ in range(int(rng.integers(1, 4))):
        centre = tuple(int(v) for v in rng.integers(30, 66, size=2))
        major = int(rng.integers(8, 26))  # roundish: a long thin blot would read as a '1'
        axes = (major, max(4, int(major * rng.uniform(0.65, 1.0))))
        cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, 255, -1, cv2.LINE_AA)
    return img


def _rule(rng: np.random.Generator) -> np.ndarray:
    # Near-horizontal only: a vertical line piece is indistinguishable from a '1'.
    img = _canvas()
    angle = np.deg2rad(rng.uniform(-25, 25))
    half = rng.uniform(20, 45)
    dx, dy = half * np.cos(angle), half * np.sin(angle)
    thickness = int(rng.integers(1, 7))
    cv2.line(img, (int(48 - dx), int(48 - dy)), (int(48 + dx), int(48 + dy)), 255, thickness, cv2.LINE_AA)
    if rng.random() < 0.3:  # double rule, as on cheque amount lines
        gap = int(rng.integers(6, 20))
        cv2.line(img, (int(48 - dx), int(48 - dy + gap)), (int(48 + dx), int(48 + dy + gap)), 255,
                 thickness, cv2.LINE_AA)
    return img


def _corner(rng: np.random.Generator) -> np.ndarray:
    # Box corners and grid junctions; the top-right corner (a '7' look-alike) is excluded.
    img = _canvas()
    c = 48
    arm_h, arm_v = int(rng.integers(15, 40)), int(rng.integers(15, 40))
    t = int(rng.integers(1, 6))
    shape = rng.choice(["tl", "bl", "br", "cross", "tee_down", "tee_up", "tee_right"])
    h_dir = {"tl": 1, "bl": 1, "br": -1}.get(shape, 0)
    v_dir = {"tl": 1, "bl": -1, "br": -1}.get(shape, 0)
    if shape in ("tl", "bl", "br"):
        cv2.line(img, (c, c), (c + h_dir * arm_h, c), 255, t)
        cv2.line(img, (c, c), (c, c + v_dir * arm_v), 255, t)
    else:
        cv2.line(img, (c - arm_h, c), (c + arm_h, c), 255, t)
        up = {"cross": (-arm_v, arm_v), "tee_down": (0, arm_v), "tee_up": (-arm_v, 0),
              "tee_right": (-arm_v, arm_v)}[str(shape)]
        x = c if shape != "tee_right" else c - arm_h
        cv2.line(img, (x, c + up[0]), (x, c + up[1]), 255, t)
    return img


def _specks(rng: np.random.Generator) -> np.ndarray:
    img = _canvas()
    for _ in range(int(rng.integers(3, 12))):
        centre = tuple(int(v) for v in rng.integers(15, 81, size=2))
        cv2.circle(img, centre, int(rng.integers(1, 5)), int(rng.integers(128, 256)), -1, cv2.LINE_AA)
    return img


def _scribble(rng: np.random.Generator) -> np.ndarray:
    # A zigzag crossing-out stroke: many turns, so it never reads as a flat '2' or a '~'.
    img = _canvas()
    n = int(rng.integers(9, 17))
    xs = np.linspace(8, 88, n) + rng.normal(0, 2, n)
    amplitude = rng.uniform(8, 22)
    ys = 48 + amplitude * np.where(np.arange(n) % 2 == 0, 1.0, -1.0) + rng.normal(0, 3, n)
    points = np.stack([xs, ys], axis=1).astype(np.int32)
    cv2.polylines(img, [points], False, 255, int(rng.integers(1, 6)), cv2.LINE_AA)
    return img


def render(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One raw (96, 96) ink-bright non-digit image of the given kind."""
    if kind == "letter":
        image = _text(rng, LETTERS, 1)
    elif kind == "text":
        image = _text(rng, LETTERS + SYMBOLS, int(rng.integers(2, 5)))
    elif kind == "symbol":
        image = _text(rng, SYMBOLS, 1)
    else:
        image = {"blot": _blot, "rule": _rule, "corner": _corner, "specks": _specks,
                 "scribble": _scribble}[kind](rng)
    return image.astype(np.float32) / 255.0


def generate(n: int, seed: int) -> np.ndarray:
    """``n`` non-digit crops as (n, 28, 28) float32 in [0, 1], passed through ``to_mnist``.

    Deterministic for a given ``seed``; training and the held-out measurement set use
    different seeds (see :data:`HELD_OUT_SEED`).
    """
    rng = np.random.default_rng(seed)
    out = np.zeros((n, 28, 28), np.float32)
    kinds = rng.choice(KINDS, size=n, p=[0.24, 0.2, 0.12, 0.08, 0.1, 0.1, 0.08, 0.08])
    for i, kind in enumerate(kinds):
        image = render(str(kind), rng)
        if rng.random() < 0.3:  # scans are thresholded: a bool mask is a likely input
            image = (image > 0.5).astype(np.float32)
        out[i] = to_mnist(image)
    return out


HELD_OUT_SEED = 1_000_003  # never used for training
