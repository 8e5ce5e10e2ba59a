"""Registration of a scanned page with a template: where the template's fields are on this scan.

1. Features: ORB keypoints of the deskewed page and of the template's blank reference image,
   matched (ratio test) and fitted with a similarity transform (rotation, scale, shift) by
   RANSAC. Printed text, frames and corner marks carry the features; handwriting finds no
   partner in the blank form and falls out as outliers.
2. Frames: each framed field's predicted rectangle snaps to the printed frame found there
   (:mod:`forms.boxes`); the frames' corners then refit the transform, which corrects scale
   errors of step 1 and places unframed fields too.
3. Without a usable reference (none shipped, or too few matches) the template is laid over the
   whole page and step 2 alone registers it; when nothing snaps either, the page is read where
   the template says but every field is flagged ("form not recognised").
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from forms.boxes import Frame
from forms.template import FieldSpec
from pipeline.results import Box

WORK_SIDE = 1200  # px: long side both images are matched at (ORB is scale-robust, not free)
FEATURES = 4000
RATIO = 0.8  # Lowe's ratio test
RANSAC_PX = 4.0  # px at work scale
MIN_INLIERS = 15
SCALES = (0.5, 4.0)  # plausible page / reference scale (pages under 300 dpi are read enlarged up to 2x: pipeline.scale)
MAX_ROTATION = 10.0  # degrees left after deskew
SNAP_IOU = 0.5  # a predicted field and a found frame are the same box
FEATURE_IOU = 0.3  # ... when the prediction comes from features alone (scale may be a little off)
LOOSE_IOU = 0.15  # ... when the prediction is only the page laid over the template
REFIT_PX = 0.01  # x page diagonal: frame corners this far off the refit are outliers


@dataclass
class Registration:
    """``matrix`` (2x3) maps reference-image pixels to deskewed page pixels; ``method`` is
    features, frames or page (unregistered); ``ok`` whether the fields can be trusted."""

    matrix: np.ndarray
    method: str
    ok: bool
    inliers: int = 0
    frames: dict[str, Frame] = field(default_factory=dict)  # field name -> its printed frame


@dataclass(frozen=True)
class Reference:
    """A blank template page prepared for matching."""

    size: tuple[int, int]  # (width, height) px
    scale: float  # work / full
    keypoints: np.ndarray  # (N, 2) float32, full-resolution px
    descriptors: np.ndarray | None


def _orb(gray: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray | None]:
    """ORB keypoints ((N, 2) full-resolution px) and descriptors of a grey image."""
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    orb = cv2.ORB_create(nfeatures=FEATURES, scaleFactor=1.2, nlevels=8, fastThreshold=10)
    keypoints, descriptors = orb.detectAndCompute(small, None)
    points = np.array([k.pt for k in keypoints], np.float32).reshape(-1, 2) / min(scale, 1.0)
    return points, descriptors


@lru_cache(maxsize=8)
def load_reference(path: Path) -> Reference:
    """A reference image's size and features (cached per process: every page reuses them)."""
    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        raise ValueError(f"{path}: cannot read the template's reference image")
    scale = min(1.0, WORK_SIDE / max(gray.shape))
    points, descriptors = _orb(gray, scale)
    return Reference((gray.shape[1], gray.shape[0]), scale, points, descriptors)


def _similarity_ok(matrix: np.ndarray) -> bool:
    scale = float(np.hypot(matrix[0, 0], matrix[1, 0]))
    angle = float(np.degrees(np.arctan2(matrix[1, 0], matrix[0, 0])))
    return SCALES[0] <= scale <= SCALES[1] and abs(angle) <= MAX_ROTATION


def by_features(gray: np.ndarray, reference: Reference) -> tuple[np.ndarray | None, int]:
    """(reference -> page similarity, inliers) from ORB matches, or (None, inliers) when the
    match is not convincing."""
    if reference.descriptors is None or len(reference.descriptors) < MIN_INLIERS:
        return None, 0
    points, descriptors = _orb(gray, min(1.0, WORK_SIDE / max(gray.shape)))
    if descriptors is None or len(descriptors) < MIN_INLIERS:
        return None, 0
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(reference.descriptors, descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < RATIO * p[1].distance]
    if len(good) < MIN_INLIERS:
        return None, len(good)
    src = reference.keypoints[[m.queryIdx for m in good]]
    dst = points[[m.trainIdx for m in good]]
    threshold = RANSAC_PX / reference.scale
    matrix, inliers = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC,
                                                  ransacReprojThreshold=threshold, maxIters=5000,
                                                  confidence=0.999, refineIters=20)
    count = int(inliers.sum()) if inliers is not None else 0
    if matrix is None or count < MIN_INLIERS or not _similarity_ok(matrix):
        return None, count
    return matrix, count


def field_rect(spec: FieldSpec, size: tuple[int, int]) -> np.ndarray:
    """A field's corners (4, 2) in reference pixels: top left, top right, bottom right, bottom left."""
    x, y, w, h = spec.box
    W, H = size
    return np.array([[x * W, y * H], [(x + w) * W, y * H], [(x + w) * W, (y + h) * H], [x * W, (y + h) * H]])


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def bounding(points: np.ndarray) -> Box:
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    return Box(int(x0), int(y0), int(x1 - x0), int(y1 - y0))


def iou(a: Box, b: Box) -> float:
    w = min(a.right, b.right) - max(a.x, b.x)
    h = min(a.bottom, b.bottom) - max(a.y, b.y)
    inter = max(0, w) * max(0, h)
    return inter / max(1, a.w * a.h + b.w * b.h - inter)


def snap(specs: list[FieldSpec], size: tuple[int, int], matrix: np.ndarray, frames: list[Frame],
         least: float = SNAP_IOU) -> dict[str, Frame]:
    """The printed frame each framed field lands on (best overlap at least ``least``, each frame
    used once)."""
    pairs = []
    for spec in specs:
        if spec.frame == "none":
            continue
        predicted = bounding(apply(matrix, field_rect(spec, size)))
        for k, frame in enumerate(frames):
            overlap = iou(predicted, frame.box)
            if overlap >= least:
                pairs.append((overlap, spec.name, k))
    chosen: dict[str, Frame] = {}
    used: set[int] = set()
    for _, name, k in sorted(pairs, reverse=True):
        if name not in chosen and k not in used:
            chosen[name] = frames[k]
            used.add(k)
    return chosen


def refit(specs: list[FieldSpec], size: tuple[int, int], snapped: dict[str, Frame],
          diagonal: float) -> np.ndarray | None:
    """The similarity that takes the snapped fields' template corners onto their frames'
    corners (RANSAC, so one wrong snap does not pull it); None with under two fields."""
    if len(snapped) < 2:
        return None
    src, dst = [], []
    for spec in specs:
        frame = snapped.get(spec.name)
        if frame is None:
            continue
        b = frame.box
        src.append(field_rect(spec, size))
        dst.append([[b.x, b.y], [b.right, b.y], [b.right, b.bottom], [b.x, b.bottom]])
    src_a, dst_a = np.concatenate(src).astype(np.float32), np.asarray(dst, np.float32).reshape(-1, 2)
    fitted, inliers = cv2.estimateAffinePartial2D(src_a, dst_a, method=cv2.RANSAC,
                                                  ransacReprojThreshold=REFIT_PX * diagonal)
    # Most corners must agree: a fit to one field and a wrong snap would misplace the rest.
    if fitted is None or inliers is None or not _similarity_ok(fitted):
        return None
    if int(inliers.sum()) < max(6, len(src_a) // 2):
        return None
    return fitted


def register(gray: np.ndarray, specs: list[FieldSpec], frames: list[Frame], size: tuple[int, int],
             reference: Reference | None) -> Registration:
    """Where the template (of ``size`` reference pixels, fields ``specs``) lies on the deskewed
    page ``gray`` whose printed frames are ``frames``."""
    height, width = gray.shape
    diagonal = float(np.hypot(width, height))
    matrix, inliers = by_features(gray, reference) if reference is not None else (None, 0)
    method, least = "features", FEATURE_IOU
    if matrix is None:
        # The page laid over the template: right for a full-page scan at any resolution.
        s = min(width / size[0], height / size[1])
        matrix = np.array([[s, 0, 0], [0, s, 0]], np.float64)
        method, least = "page", LOOSE_IOU
    # Coarse to fine: frames near a rough prediction, then those overlapping a refined one.
    snapped: dict[str, Frame] = {}
    for overlap in (least, SNAP_IOU):
        snapped = snap(specs, size, matrix, frames, overlap)
        fitted = refit(specs, size, snapped, diagonal)
        if fitted is not None:
            matrix = fitted
            method = "features" if method == "features" else "frames"
    snapped = snap(specs, size, matrix, frames, SNAP_IOU)
    framed = sum(spec.frame != "none" for spec in specs)
    # Frames confirm the registration: without features, most framed fields must have snapped.
    ok = method == "features" or (method == "frames" and len(snapped) * 2 > framed)
    return Registration(np.asarray(matrix, np.float64), method, ok, inliers, snapped)
