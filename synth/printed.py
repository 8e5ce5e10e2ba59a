"""Printed matter on a page: text in Hershey fonts, rules, field frames and comb fields."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.results import Box
from synth.ink import stamp

FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX,
         cv2.FONT_HERSHEY_COMPLEX)


class _Layer:
    """A scratch mask for the page region (x0, y0)-(x1, y1): draw in page coordinates with
    ``pt``, then ``apply`` lays it on the page as printed ink."""

    def __init__(self, page: np.ndarray, x0: int, y0: int, x1: int, y1: int):
        self.x0, self.y0 = max(0, x0), max(0, y0)
        x1, y1 = min(page.shape[1], x1), min(page.shape[0], y1)
        self.mask = np.zeros((max(1, y1 - self.y0), max(1, x1 - self.x0)), np.uint8)

    def pt(self, x: int, y: int) -> tuple[int, int]:
        return int(x) - self.x0, int(y) - self.y0

    def apply(self, page: np.ndarray, colour) -> None:
        stamp(page, self.mask.astype(np.float32) / 255.0, self.x0, self.y0, colour)


def text_size(text: str, cap: int, font: int = FONTS[0], bold: bool = False) -> tuple[int, int, float, int]:
    """(width, height, font scale, thickness) of ``text`` printed with capitals ``cap`` px tall."""
    scale = cap / cv2.getTextSize("H", font, 1.0, 1)[0][1]
    thickness = max(1, round(cap / (9 if bold else 14)))
    (w, h), _ = cv2.getTextSize(text, font, scale, thickness)
    return w, h, scale, thickness


def text(page: np.ndarray, words: str, x: int, baseline: int, cap: int, colour=(0.12, 0.12, 0.12),
         font: int = FONTS[0], bold: bool = False) -> Box:
    """Print ``words`` (letters only on synthetic pages: printed digits would be confused with
    the handwriting truth) with its baseline at ``baseline``; returns its box."""
    if any(c.isdigit() for c in words):
        raise ValueError(f"printed text must not contain digits: {words!r}")
    w, h, scale, thickness = text_size(words, cap, font, bold)
    pad = 2 * thickness + cap
    layer = _Layer(page, x - pad, baseline - h - pad, x + w + pad, baseline + pad)
    cv2.putText(layer.mask, words, layer.pt(x, baseline), font, scale, 255, thickness, cv2.LINE_AA)
    layer.apply(page, colour)
    return Box(x, baseline - h, w, h + cap // 3)


def line(page: np.ndarray, p0: tuple[int, int], p1: tuple[int, int], width: int, colour) -> None:
    """A printed straight line from ``p0`` to ``p1``."""
    pad = width + 2
    layer = _Layer(page, min(p0[0], p1[0]) - pad, min(p0[1], p1[1]) - pad,
                   max(p0[0], p1[0]) + pad + 1, max(p0[1], p1[1]) + pad + 1)
    cv2.line(layer.mask, layer.pt(*p0), layer.pt(*p1), 255, max(1, width), cv2.LINE_AA)
    layer.apply(page, colour)


def frame(page: np.ndarray, box: Box, width: int, colour) -> None:
    """A printed rectangle whose outer edge is ``box``."""
    layer = _Layer(page, box.x, box.y, box.right, box.bottom)
    half = width // 2
    cv2.rectangle(layer.mask, layer.pt(box.x + half, box.y + half),
                  layer.pt(box.right - 1 - half, box.bottom - 1 - half), 255, max(1, width), cv2.LINE_8)
    layer.apply(page, colour)


def comb(page: np.ndarray, box: Box, cells: int, width: int, colour) -> list[Box]:
    """A row of ``cells`` boxes filling ``box`` (one digit each); returns the cells' boxes."""
    layer = _Layer(page, box.x, box.y, box.right, box.bottom)
    half = width // 2
    cv2.rectangle(layer.mask, layer.pt(box.x + half, box.y + half),
                  layer.pt(box.right - 1 - half, box.bottom - 1 - half), 255, max(1, width), cv2.LINE_8)
    edges = np.linspace(box.x, box.right, cells + 1).round().astype(int)
    for x in edges[1:-1]:
        cv2.line(layer.mask, layer.pt(x, box.y), layer.pt(x, box.bottom - 1), 255, max(1, width), cv2.LINE_8)
    layer.apply(page, colour)
    return [Box(int(a), box.y, int(b - a), box.h) for a, b in zip(edges[:-1], edges[1:])]
