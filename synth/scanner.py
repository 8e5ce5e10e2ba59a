"""What a flatbed scanner does to a page: skew, uneven light, blur, noise, specks, JPEG."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class Scan:
    """A scanned page (uint8, grey ``(H, W)`` or RGB ``(H, W, 3)``) and the 2x3 affine
    ``matrix`` that took page coordinates to scan coordinates (the skew)."""

    image: np.ndarray
    matrix: np.ndarray
    angle: float


def skew(page: np.ndarray, angle: float, fill: float = 0.96) -> tuple[np.ndarray, np.ndarray]:
    """``page`` (grey or RGB) rotated ``angle`` degrees counter-clockwise about its centre,
    same size; the uncovered corners show the scanner lid (``fill``)."""
    h, w = page.shape[:2]
    matrix = cv2.getRotationMatrix2D(((w - 1) / 2.0, (h - 1) / 2.0), angle, 1.0)
    out = cv2.warpAffine(page, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                         borderValue=(fill, fill, fill))
    return out, matrix


def lighting(page: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Uneven illumination: a linear gradient in a random direction and a vignette (the gain is
    smooth, so it is computed on a coarse grid and resized)."""
    h, w = page.shape[:2]
    gh, gw = max(2, h // 16), max(2, w // 16)
    ys = (np.arange(gh, dtype=np.float32) / (gh - 1) - 0.5)[:, None]
    xs = (np.arange(gw, dtype=np.float32) / (gw - 1) - 0.5)[None, :]
    theta = rng.uniform(0, 2 * np.pi)
    strength, vignette = np.float32(rng.uniform(0.0, 0.12)), np.float32(rng.uniform(0.0, 0.25))
    ramp = (np.float32(np.cos(theta)) * xs + np.float32(np.sin(theta)) * ys + np.float32(0.71)) * strength
    gain = cv2.resize(1.0 - ramp - (xs ** 2 + ys ** 2) * vignette, (w, h), interpolation=cv2.INTER_LINEAR)
    if page.ndim == 3:
        gain = cv2.merge([gain, gain, gain])
    return cv2.multiply(page, gain)


def speckle(page: np.ndarray, rng: np.random.Generator, dpi: int) -> None:
    """Dust and toner specks: a few small dark dots, in place."""
    h, w = page.shape[:2]
    count = int(rng.poisson(h * w / 400_000 * rng.uniform(0.5, 3.0)))
    scale = dpi / 200.0
    for _ in range(count):
        x, y = int(rng.integers(w)), int(rng.integers(h))
        r = max(1, round(rng.uniform(0.4, 1.5) * scale))
        shade = float(rng.uniform(0.3, 0.8))
        cv2.circle(page, (x, y), r, (shade, shade, shade) if page.ndim == 3 else shade, -1, cv2.LINE_8)


def jpeg_roundtrip(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (uint8) encoded and decoded as JPEG at ``quality``: block artefacts."""
    bgr = image[:, :, ::-1] if image.ndim == 3 else image
    ok, data = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    out = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    return out[:, :, ::-1].copy() if out.ndim == 3 else out


def scan(page: np.ndarray, rng: np.random.Generator, dpi: int, max_skew: float = 3.0,
         grey: bool | None = None, jpeg: bool | None = None) -> Scan:
    """Scan a float32 RGB page: skew up to ``max_skew`` degrees, light, blur, noise, specks;
    grey or colour output; optional JPEG artefacts (pages saved as PNG/TIFF may still have
    been JPEG-compressed by the scanner)."""
    angle = float(rng.uniform(-max_skew, max_skew))
    grey = bool(rng.random() < 0.4) if grey is None else grey
    if grey:  # every step below is linear per channel, so converting first gives the same page
        page = cv2.cvtColor(page, cv2.COLOR_RGB2GRAY)
    out, matrix = skew(page, angle)
    out = lighting(out, rng)
    speckle(out, rng, dpi)
    out = cv2.GaussianBlur(out, (0, 0), float(rng.uniform(0.35, 0.9)) * dpi / 200.0)
    sigma = float(rng.uniform(1.0, 3.0)) / 255.0
    out = cv2.scaleAdd(rng.standard_normal(out.shape, dtype=np.float32), sigma, out)
    image = cv2.convertScaleAbs(out, alpha=255.0)  # rounds and saturates to 0..255
    if jpeg if jpeg is not None else rng.random() < 0.3:
        image = jpeg_roundtrip(image, int(rng.integers(60, 90)))
    return Scan(image, matrix, angle)
