"""Reviewed digits as training data for ``train --corrections``.

Each reviewed digit's crop (``flagged/<crop>``, original grey pixels with a little context) is
binarised (Otsu), cleared of context fragments (components that touch the border without reaching
the crop's centre, and specks), and normalised with ``to_mnist``. Label = the reviewer's digit,
10 for "not a digit". Accepted readings are included too: they are confirmed hard examples.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from review.data import crop_relpath, safe_file
from review.store import DB_NAME, ID_FILE, DecisionStore, Latest, default_db_url

NOT_A_DIGIT_LABEL = 10
MIN_CONTRAST = 32  # grey levels: below this the crop is blank
SPECK_FRACTION = 0.02  # components smaller than this share of the largest are noise


def crop_ink(gray: np.ndarray) -> np.ndarray:
    """Binary ink mask (True = ink) of a grey crop, paper bright, without context fragments."""
    if gray.size == 0 or int(gray.max()) - int(gray.min()) < MIN_CONTRAST:
        return np.zeros(gray.shape, bool)
    _, binary = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n <= 1:
        return np.zeros(gray.shape, bool)
    h, w = gray.shape
    centre = np.zeros(gray.shape, bool)
    centre[h // 4: h - h // 4, w // 4: w - w // 4] = True
    largest = stats[1:, cv2.CC_STAT_AREA].max()
    keep = np.zeros(n, bool)
    for i in range(1, n):
        x, y, cw, ch, area = stats[i]
        touches = x == 0 or y == 0 or x + cw == w or y + ch == h
        if area < SPECK_FRACTION * largest:
            continue
        if touches and not (centre & (labels == i)).any():
            continue
        keep[i] = True
    return keep[labels]


def crop_to_mnist(path: Path) -> np.ndarray | None:
    from segmentation.normalize import to_mnist

    gray = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if gray is None:
        return None
    return to_mnist(crop_ink(gray))


def _label(decision: str) -> int:
    return NOT_A_DIGIT_LABEL if decision == "?" else int(decision)


def _folder_decisions(results_dir: Path, store: DecisionStore, dataset: str) -> list[tuple[Path | None, Latest]]:
    """(crop path, decision in force) for each current digit of a results folder that has one.

    Decisions are matched to today's digits by their box (review.identity), and the crop is the
    one the *current* row names: after a re-run a stored crop name may hold another digit's
    pixels, while the current row's crop is by construction the digit decided about.
    """
    from review.data import load_snapshot
    from review.identity import resolve

    digits = load_snapshot(results_dir).digits
    out = []
    for key, decision in resolve(store.all_for(dataset), digits).applied.items():
        crop = digits[key].get("crop", "")
        out.append((safe_file(results_dir, crop_relpath(crop), allowed=("flagged",)) if crop else None,
                    decision))
    return out


def _decisions(source: str | Path, db_url: str | None) -> list[tuple[Path | None, Latest]]:
    """(crop path, decision) pairs: one folder's, or every folder's in a database URL."""
    if isinstance(source, str) and "://" in source:
        store = DecisionStore(source)
        try:
            folders = {(dataset, d.source) for (dataset, _), d in store.latest(None).items() if d.source}
            return [pair for dataset, folder in sorted(folders) if Path(folder).is_dir()
                    for pair in _folder_decisions(Path(folder), store, dataset)]
        finally:
            store.close()
    results_dir = Path(source)
    id_file = results_dir / ID_FILE
    if not id_file.is_file() or (db_url is None and not (results_dir / DB_NAME).is_file()):
        return []  # never reviewed
    store = DecisionStore(db_url or default_db_url(results_dir))
    try:
        return _folder_decisions(results_dir, store, id_file.read_text(encoding="ascii").strip())
    finally:
        store.close()


def load_corrections(db_url_or_results_dir: str | Path, db_url: str | None = None,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Reviewed crops as ``(images (N, 28, 28) float32 in [0, 1], labels (N,) int64)``.

    ``db_url_or_results_dir``: a results folder (its ``results.db``, or ``db_url``), or a
    SQLAlchemy URL (all results folders recorded there; crops found via the stored folder path).
    Only decisions that still match a current digit count (see review.identity); digits whose
    crop is missing or blank are skipped.
    """
    images, labels = [], []
    for path, decision in sorted(_decisions(db_url_or_results_dir, db_url), key=lambda p: p[1].id):
        image = crop_to_mnist(path) if path else None
        if image is None or (not image.any() and decision.decision != "?"):
            continue
        images.append(image)
        labels.append(_label(decision.decision))
    if not images:
        return np.zeros((0, 28, 28), np.float32), np.zeros((0,), np.int64)
    return np.stack(images).astype(np.float32), np.asarray(labels, np.int64)
