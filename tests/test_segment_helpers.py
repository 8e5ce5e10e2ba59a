"""Synthetic ink masks and a template-matching scorer for the segmentation tests (no tests)."""
from __future__ import annotations

import cv2
import numpy as np

from segmentation.normalize import batch_to_mnist, to_mnist

SIMPLEX = cv2.FONT_HERSHEY_SIMPLEX
SCRIPT = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX


def blank(h: int = 200, w: int = 600) -> np.ndarray:
    return np.zeros((h, w), bool)


def write(ink: np.ndarray, text: str, x: int, y: int, font: int = SIMPLEX, scale: float = 1.5,
          thickness: int = 3) -> np.ndarray:
    """Draw ``text`` with its baseline at (x, y) onto the bool mask, in place; returns it."""
    canvas = ink.view(np.uint8)
    cv2.putText(canvas, text, (x, y), font, scale, 1, thickness, cv2.LINE_8)
    return ink


def glyph(ch: str, font: int = SIMPLEX, scale: float = 1.5, thickness: int = 3) -> np.ndarray:
    """One character's bool mask cropped to its ink."""
    (w, h), base = cv2.getTextSize(ch, font, scale, thickness)
    pad = 2 * thickness + 4
    img = np.zeros((h + base + 2 * pad, w + 2 * pad), np.uint8)
    cv2.putText(img, ch, (pad, h + pad), font, scale, 1, thickness, cv2.LINE_8)
    ys, xs = np.nonzero(img)
    return img[ys.min(): ys.max() + 1, xs.min(): xs.max() + 1].astype(bool)


def paste(ink: np.ndarray, mask: np.ndarray, x: int, y: int) -> np.ndarray:
    ink[y: y + mask.shape[0], x: x + mask.shape[1]] |= mask
    return ink


def touching(a: str, b: str, overlap: int = 2, **kw) -> tuple[np.ndarray, int]:
    """Glyphs ``a`` and ``b`` side by side, ``b`` slid left until it touches ``a`` and then
    ``overlap`` px further, bottom-aligned; returns the mask and x where ``b`` starts."""
    ga, gb = glyph(a, **kw), glyph(b, **kw)
    h = max(ga.shape[0], gb.shape[0])
    for x in range(ga.shape[1] + 2, -1, -1):
        m = np.zeros((h, ga.shape[1] + gb.shape[1] + 4), bool)
        paste(m, ga, 0, h - ga.shape[0])
        paste(m, gb, x, h - gb.shape[0])
        n, _ = cv2.connectedComponents(m.view(np.uint8), connectivity=8)
        if n == 2:
            break
    x = max(0, x - overlap)
    m = np.zeros((h, ga.shape[1] + gb.shape[1] + 4), bool)
    paste(m, ga, 0, h - ga.shape[0])
    paste(m, gb, x, h - gb.shape[0])
    return m, x


class TemplateScorer:
    """Fake classifier: cosine similarity of each MNIST-style crop to the ten rendered digits,
    turned into probabilities over 11 classes (the 11th "not a digit" wins below ``floor``).
    Counts its calls and the crops it saw."""

    def __init__(self, font: int = SIMPLEX, scale: float = 1.5, thickness: int = 3,
                 sharpness: float = 40.0, floor: float = 0.75) -> None:
        t = batch_to_mnist([glyph(str(d), font, scale, thickness) for d in range(10)])
        t = t.reshape(10, -1)
        self.templates = t / np.linalg.norm(t, axis=1, keepdims=True)
        self.sharpness, self.floor = sharpness, floor
        self.calls, self.seen = 0, 0

    def __call__(self, images: np.ndarray) -> np.ndarray:
        assert images.ndim == 3 and images.shape[1:] == (28, 28) and images.dtype == np.float32
        self.calls += 1
        self.seen += len(images)
        x = images.reshape(len(images), -1).astype(np.float64)
        x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)
        sims = np.concatenate([x @ self.templates.T, np.full((len(x), 1), self.floor)], axis=1)
        logits = self.sharpness * sims
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        return (p / p.sum(axis=1, keepdims=True)).astype(np.float32)

    def read(self, masks: list[np.ndarray]) -> str:
        """Best class of each mask ('?' for the 11th)."""
        p = self.__call__(np.stack([to_mnist(m) for m in masks]))
        self.calls -= 1
        return "".join("0123456789?"[k] for k in p.argmax(axis=1))


class FixedPairs:
    """Fake pair reader: every crop read as the digits ``left`` ``right``, each with probability
    ``sure`` (the rest shared evenly), its two-digit head at ``two``. Records each batch's shape."""

    def __init__(self, left: int, right: int, sure: float = 1.0, two: float = 1.0) -> None:
        self.left, self.right, self.sure, self.two = left, right, sure, two
        self.seen: list[tuple[int, ...]] = []

    def __call__(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.seen.append(images.shape)
        out = np.full((len(images), 2, 10), (1 - self.sure) / 9, np.float32)
        out[:, 0, self.left] = out[:, 1, self.right] = self.sure
        return out, np.full(len(images), self.two, np.float32)
