"""Ink / paper decision on an illumination-normalised grey page (paper ~255, ink dark).

Three methods: global Otsu, Sauvola (local mean and deviation; the default, since patterned cheque
backgrounds are lighter and lower in contrast than pen ink) and OpenCV's adaptive mean threshold.
All share two guards. A contrast floor: a pixel is ink only if it is at least ``MIN_CONTRAST``
grey levels darker than white paper, so a blank or noisy page gives no ink instead of amplified
noise. Stroke cores: pen strokes have dark cores, printed security patterns and tints do not, so a
candidate pixel is kept only within ``GROW`` px of a core (see :func:`keep_dark_cored`).
"""
from __future__ import annotations

import cv2
import numpy as np

from pipeline.scale import grow, pow2_factor, shrink

METHODS = ("sauvola", "otsu", "adaptive")
MIN_CONTRAST = 40  # grey levels below paper white (255) that any ink must reach
DARK_INK = 80  # grey levels at or below this are ink whatever surrounds them (thick strokes)
STRONG_INK = 160  # grey levels at or below this always count as a stroke core (thin pen strokes core at 150-190)
GROW = 2  # px around stroke cores where lighter candidate pixels (stroke edges) are kept
REACH = 8  # px a candidate stretch may run on from a kept stroke: bridges faint parts of a stroke
SAUVOLA_K = 0.2  # Sauvola's sensitivity; larger suppresses more low-contrast background
SAUVOLA_R = 128.0  # dynamic range of the standard deviation for uint8 images
ADAPTIVE_C = 12  # grey levels below the local mean for the adaptive method


def window_size(shape: tuple[int, int]) -> int:
    """Odd local window in px: ~1/40 of the short side (63 px, ~5 mm, on an A4 page at 300 dpi),
    15 to 101 px, so it spans several stroke widths on pages and field crops alike."""
    return int(np.clip(min(shape[:2]) // 40, 15, 101)) | 1


def binarize(gray: np.ndarray, method: str = "sauvola", window: int | None = None) -> np.ndarray:
    """Bool ink mask (True = ink) of a uint8 normalised page; ``method`` is one of METHODS;
    ``window`` (odd, px) overrides the local window of sauvola/adaptive."""
    found = candidates(gray, method, window)
    return keep_dark_cored(gray, found) > 0


def candidates(gray: np.ndarray, method: str = "sauvola", window: int | None = None) -> np.ndarray:
    """Pixels darker than the method's threshold and the contrast floor (0/255 uint8): pen
    strokes, printed lines and any background pattern dark enough to pass."""
    if method not in METHODS:
        raise ValueError(f"binarization must be one of {', '.join(METHODS)}; got {method!r}")
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    window = window or window_size(gray.shape)
    # Thresholds are clipped so that, in one comparison, every pixel at or below DARK_INK is ink
    # (fills the inside of very thick strokes) and none within MIN_CONTRAST of white is.
    low, high = DARK_INK + 1, 255 - MIN_CONTRAST
    if method == "otsu":
        level, _ = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return cv2.compare(gray, float(np.clip(level, low, high)), cv2.CMP_LT)
    if method == "sauvola":
        return cv2.compare(gray, sauvola_threshold(gray, window, clip=(low, high)), cv2.CMP_LT)
    found = cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV,
                                  window, ADAPTIVE_C)
    found = cv2.bitwise_and(found, cv2.compare(gray, high, cv2.CMP_LT))
    return cv2.bitwise_or(found, cv2.compare(gray, low, cv2.CMP_LT))


def keep_dark_cored(gray: np.ndarray, found: np.ndarray) -> np.ndarray:
    """The candidate pixels (0/255 uint8) within GROW px of a stroke core (0/255 uint8).

    A core is a pixel at or below the Otsu split of the candidates' grey levels (which falls
    between pen ink and a background pattern when there is one), or at or below STRONG_INK.
    """
    step = max(1, gray.shape[0] // 512)  # a sample of rows is plenty for a 256-bin histogram
    hist = cv2.calcHist([gray[::step]], [0], found[::step], [256], [0, 256]).ravel()
    if not hist.any():
        return found
    level = max(otsu_level(hist), STRONG_INK)
    kept = cv2.compare(gray, level, cv2.CMP_LE)  # the cores, then the candidates near them
    cv2.dilate(kept, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * GROW + 1,) * 2), dst=kept)
    cv2.bitwise_and(kept, found, dst=kept)
    faint = cv2.compare(gray, 255 - MIN_CONTRAST // 2, cv2.CMP_LT)
    cv2.bitwise_or(faint, found, dst=faint)
    return bridge_faint(kept, found, faint, window_size(gray.shape))


def bridge_faint(kept: np.ndarray, found: np.ndarray, faint: np.ndarray, run: int,
                 reach: int = REACH) -> np.ndarray:
    """``kept`` (0/255 uint8) grown by up to ``reach`` px along connected ``found`` pixels
    (candidates) that are not on a ruling line, i.e. on a straight run ``run`` px long of
    ``faint`` pixels (candidates or merely a little darker than paper).

    Small or blurred handwriting has stretches lighter than any core (a thin stroke scanned at
    150 dpi fades to grey 170-190): the dark-core rule alone cuts digits there into pieces.
    Following candidates outward from kept ink, for a bounded distance, rejoins them while a
    background pattern merely touching a stroke gains at most ``reach`` px. Ruling lines
    (lighter than pen ink, not yet removed) are not followed, or the growth would run along a
    line from a digit to a decimal point; a light line is no candidate itself, only where the
    blur of strokes darkens it, so lines are looked for among the faint pixels.
    """
    # In-place steps throughout: on an A4 page at 300 dpi every temporary mask is 8.7 MB.
    line = np.ones((1, run), np.uint8)
    runs = cv2.morphologyEx(faint, cv2.MORPH_OPEN, line)
    cv2.bitwise_or(runs, cv2.morphologyEx(faint, cv2.MORPH_OPEN, line.T), dst=runs)
    # Candidates within ``reach`` px of kept ink and connected to it through such candidates
    # (one dilation and one labelling: much cheaper than ``reach`` geodesic steps).
    grown = cv2.dilate(kept, cv2.getStructuringElement(cv2.MORPH_RECT, (2 * reach + 1,) * 2))
    cv2.bitwise_and(grown, found, dst=grown)
    cv2.bitwise_not(runs, dst=runs)
    cv2.bitwise_and(grown, runs, dst=grown)
    del runs
    cv2.bitwise_or(grown, kept, dst=grown)
    try:  # 16-bit labels: the lookup below reads half the bytes (31 -> 12 ms, 21,825 labels on A4)
        count, labels = cv2.connectedComponents(grown, connectivity=8, ltype=cv2.CV_16U)
    except cv2.error:  # over 65,535 components: OpenCV refuses rather than wraps around
        count, labels = cv2.connectedComponents(grown, connectivity=8)
    del grown
    anchored = np.zeros(count, np.uint8)
    anchored[labels[kept > 0]] = 255
    anchored[0] = 0
    if count <= 256:  # the usual page: a byte lookup table, three times faster than np.take
        return cv2.LUT(labels.astype(np.uint8), np.pad(anchored, (0, 256 - count)))
    return np.take(anchored, labels)


def sauvola_threshold(gray: np.ndarray, window: int, k: float = SAUVOLA_K,
                      clip: tuple[int, int] = (0, 255)) -> np.ndarray:
    """Sauvola's threshold map T = m (1 + k (s / R - 1)) over a ``window`` px square (uint8),
    clipped to ``clip`` (grey levels).

    The local mean m and deviation s vary slowly at this window size, so they are computed on a
    copy reduced by a power of two (about window / 12, by exact 2x2 block means) and the map is
    upsampled: several times faster than full-resolution box filters. The only approximation is
    that the variance inside the first 2x2 blocks is ignored.
    """
    factor = pow2_factor(window, 12)
    values = shrink(gray, min(factor, 2)).astype(np.float32)
    squares = values * values
    values, squares = shrink(values, factor // 2 or 1), shrink(squares, factor // 2 or 1)
    box = (max(3, window // factor) | 1,) * 2
    mean = cv2.blur(values, box, borderType=cv2.BORDER_REFLECT)
    std = np.sqrt(np.maximum(cv2.blur(squares, box, borderType=cv2.BORDER_REFLECT)
                             - mean * mean, 0.0))
    level = np.clip(mean * (1.0 + k * (std / SAUVOLA_R - 1.0)), *clip).astype(np.uint8)
    return grow(level, factor, gray.shape)


def otsu_level(hist: np.ndarray) -> int:
    """Otsu's split of a 256-bin histogram: bins 0..level form the dark class."""
    p = hist.astype(np.float64) / hist.sum()
    omega = np.cumsum(p)
    mu = np.cumsum(p * np.arange(p.size))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * omega - mu) ** 2 / (omega * (1.0 - omega))
    between = np.nan_to_num(between, nan=-1.0, posinf=-1.0)
    return int(np.argmax(between))
