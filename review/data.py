"""Read-only view of a results folder: CSV rows, digit keys, overlay look-up, safe file paths.

The review works on the *original* pipeline output. After ``export`` has rewritten
``strings.csv``/``digits.csv`` (they then carry a ``reviewed`` column) the originals live in
``strings.orig.csv``/``digits.orig.csv``; review.originals reads the right one (with the rows a
resumed run appended since).
"""
from __future__ import annotations

import csv
import math
import threading
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from pipeline.export import REVIEW_COLUMNS, orig_path  # noqa: F401  (the pipeline resumes into exported CSVs too)
from pipeline.overlay import MAX_SIDE as OVERLAY_MAX_SIDE

STRINGS, DIGITS = "strings.csv", "digits.csv"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
SERVED_DIRS = ("flagged", "overlays")
PAGES = "pages.csv"  # optional manifest: file, page, width, height (page pixels)

# (file, page, string_id, index): a digit's identity, as in digits.csv.
DigitKey = tuple[str, int, int, int]
StringKey = tuple[str, int, int]


def overlay_relpath(file: str, page: int) -> str:
    """Where the pipeline writes a page's overlay, relative to the results folder.

    The one place that knows the naming (pipeline.results.overlay_name); change it here if needed.
    """
    from pipeline.results import overlay_name

    return overlay_name(file, page)


def crop_relpath(crop: str) -> str:
    """digits.csv ``crop`` relative to the results folder (``flagged/`` prefix or not)."""
    return crop if crop.startswith("flagged/") else f"flagged/{crop}"


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the image header, without decoding the pixels."""
    try:
        with Image.open(path) as image:
            return image.size
    except (OSError, ValueError):
        return None


def overlay_scale(overlay_size: tuple[int, int] | None, page_size: tuple[int, int] | None) -> float | None:
    """Overlay pixels per page pixel, or None when it cannot be known.

    Overlays are the page scaled down to at most OVERLAY_MAX_SIDE (pipeline/overlay.py); with
    the page's size from pages.csv the scale is exact, without it only smaller overlays are sure.
    """
    if overlay_size is None:
        return None
    if page_size and page_size[0] > 0:
        return overlay_size[0] / page_size[0]
    return 1.0 if max(overlay_size) < OVERLAY_MAX_SIDE else None


def read_header(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as handle:
        return next(csv.reader(handle), [])


def is_exported(path: Path) -> bool:
    """True when the CSV was written by ``export`` (has the review columns)."""
    return path.is_file() and "reviewed" in read_header(path)


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """Header and rows (all values as text) of a CSV; missing file -> empty."""
    if not path.is_file():
        return [], []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
        return list(reader.fieldnames or []), rows


def parse_bool(value: str | None) -> bool:
    return str(value).strip().lower() in {"true", "1", "yes"}


def parse_float(value: str | None) -> float:
    try:
        out = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return out


def digit_key(row: dict[str, str]) -> DigitKey:
    return (row["file"], int(row["page"]), int(row["string_id"]), int(row["index"]))


def string_key(row: dict[str, str]) -> StringKey:
    return (row["file"], int(row["page"]), int(row["string_id"]))


def safe_file(results_dir: Path, relpath: str, allowed: tuple[str, ...] = SERVED_DIRS) -> Path | None:
    """``results_dir/relpath`` if it is an existing image inside one of the ``allowed`` sub-folders.

    Refuses absolute paths, ``..``, backslashes, NUL and symlinks that lead outside.
    """
    if not relpath or "\x00" in relpath or "\\" in relpath or relpath.startswith("/"):
        return None
    if any(part in ("", ".", "..") for part in relpath.split("/")):
        return None
    root = results_dir.resolve()
    try:
        target = (root / relpath).resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if target.suffix.lower() not in IMAGE_SUFFIXES or not target.is_file():
        return None
    if not any(target.is_relative_to(root / sub) for sub in allowed):
        return None
    return target


@dataclass
class Snapshot:
    """Parsed rows of one version of the CSVs."""

    digits: dict[DigitKey, dict[str, str]] = field(default_factory=dict)
    strings: dict[StringKey, dict[str, str]] = field(default_factory=dict)
    queue: list[DigitKey] = field(default_factory=list)  # flagged digits, worst first
    overlays: dict[tuple[str, int], tuple[str, float | None]] = field(default_factory=dict)
    # (file, page) -> (existing overlay path, overlay pixels per page pixel or None if unknown)


def load_snapshot(results_dir: Path) -> Snapshot:
    from review.originals import pipeline_rows  # it builds on this module

    snap = Snapshot()
    for row in pipeline_rows(results_dir / STRINGS)[1]:
        try:
            snap.strings[string_key(row)] = row
        except (KeyError, ValueError):
            continue  # malformed row: not reviewable
    for row in pipeline_rows(results_dir / DIGITS)[1]:
        try:
            snap.digits[digit_key(row)] = row
        except (KeyError, ValueError):
            continue
    flagged = [k for k, r in snap.digits.items() if parse_bool(r.get("flagged"))]

    def worst_first(key: DigitKey) -> tuple:
        conf = parse_float(snap.digits[key].get("confidence"))
        return (conf if not math.isnan(conf) else -1.0, key)

    snap.queue = sorted(flagged, key=worst_first)
    sizes = {}
    for row in read_rows(results_dir / PAGES)[1]:
        try:
            sizes[(row["file"], int(row["page"]))] = (int(row["width"]), int(row["height"]))
        except (KeyError, ValueError):
            continue
    for file, page in {(k[0], k[1]) for k in snap.digits} | {(k[0], k[1]) for k in snap.strings}:
        rel = overlay_relpath(file, page)
        path = safe_file(results_dir, rel)
        if path is not None:
            snap.overlays[(file, page)] = (rel, overlay_scale(image_size(path), sizes.get((file, page))))
    return snap


class Results:
    """Thread-safe cached :class:`Snapshot`, reloaded when the source CSVs change on disk."""

    def __init__(self, results_dir: Path):
        self.dir = results_dir
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._snap = Snapshot()

    def _current_stamp(self) -> tuple:
        stamp = []
        for name in (STRINGS, DIGITS, PAGES):
            for path in (self.dir / name, orig_path(self.dir / name)):
                try:
                    st = path.stat()
                    stamp.append((st.st_mtime_ns, st.st_size))
                except OSError:
                    stamp.append(None)
        return tuple(stamp)

    def get(self) -> Snapshot:
        with self._lock:
            stamp = self._current_stamp()
            if stamp != self._stamp:
                self._snap, self._stamp = load_snapshot(self.dir), stamp
            return self._snap
