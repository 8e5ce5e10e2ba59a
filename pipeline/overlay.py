"""The overlay a person checks a page with: every digit boxed in a colour for its confidence,
the reading written above each string."""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.results import DigitString

# BGR colours: sure, unsure-but-accepted, flagged.
GREEN, AMBER, RED, BLUE = (40, 160, 40), (0, 160, 230), (30, 30, 220), (200, 90, 0)
MAX_SIDE = 2000  # overlays are for eyes: larger pages are scaled down to keep them quick to write
# JPEG, not PNG: a 2000 px page encodes in ~10 ms instead of ~160 ms (PNG took ~13% of a page's
# reading time) into ~170 KB instead of ~1.8 MB; quality 85 keeps boxes, readings and strokes clear.
JPEG_QUALITY = 85


def confidence_colour(confidence: float, flagged: bool, threshold: float) -> tuple[int, int, int]:
    if flagged:
        return RED
    return GREEN if confidence >= (1.0 + threshold) / 2 else AMBER


def draw_overlay(gray: np.ndarray, strings: list[DigitString], threshold: float) -> np.ndarray:
    """A BGR uint8 picture of the page (at most MAX_SIDE px on its longer side) with boxes and readings."""
    scale = min(1.0, MAX_SIDE / max(gray.shape[:2]))
    # Down to half size bilinear sampling misses no stroke (printed lines and pen strokes of such
    # pages are 2 px wide or more) and is five times faster than area averaging; below, average.
    smooth = cv2.INTER_LINEAR if scale >= 0.5 else cv2.INTER_AREA
    page = gray if scale == 1.0 else cv2.resize(gray, None, fx=scale, fy=scale, interpolation=smooth)
    canvas = cv2.cvtColor(page, cv2.COLOR_GRAY2BGR)
    thick = max(1, round(2 * max(page.shape) / 1500))
    for string in strings:
        for glyph in string.glyphs:
            b = glyph.box
            colour = BLUE if glyph.is_separator else confidence_colour(glyph.confidence, glyph.flagged, threshold)
            cv2.rectangle(canvas, (int(b.x * scale), int(b.y * scale)),
                          (int(b.right * scale), int(b.bottom * scale)), colour, thick)
        box = string.box
        font_scale = max(0.4, min(2.0, box.h * scale / 40))
        org = (int(box.x * scale), max(12, int(box.y * scale) - 2 * thick))
        label = f"{string.text}  {string.confidence:.2f}"
        colour = RED if string.flagged else GREEN
        cv2.putText(canvas, label, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, (255, 255, 255), thick + 2, cv2.LINE_AA)
        cv2.putText(canvas, label, org, cv2.FONT_HERSHEY_SIMPLEX, font_scale, colour, thick, cv2.LINE_AA)
    return canvas


def encode_overlay(canvas: np.ndarray) -> bytes:
    """The file bytes of an overlay (:func:`draw_overlay`'s picture) as written to ``overlays/``."""
    ok, data = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError(f"JPEG encoding of a {canvas.shape} overlay failed")
    return data.tobytes()
