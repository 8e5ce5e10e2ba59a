"""Training crops cut by the reading pipeline itself from synthetic scans of MNIST *training* digits.

MNIST digits are clean, centred greyscale; what the classifier meets in a scan has been printed,
scanned (blur, noise, JPEG, skew), binarised, cleared of ruling lines, segmented and sometimes cut
from a touching neighbour. Augmentation imitates some of that; the pipeline does all of it. So
pages are written with training digits by the sample generator (``synth``), read by the pipeline
with an existing model, and every digit of a string found where a true string is becomes a
labelled crop (see :func:`align_labels`): exactly the 28x28 input the classifier saw, labelled by
the truth (never by the model), misreads included. Where the pipeline cut a digit in two or kept a
stray mark (one glyph too many), the pieces are labelled "not a digit", so the classifier learns
to reject the bad cuts the pipeline really makes. The test split is never touched, so the
benchmarks stay honest.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from classifier.calibration import NOT_A_DIGIT
from classifier.datasets import load_mnist
from classifier.evaluate import LABELS

SEED_BASE = 500_000  # harvest set seeds: SEED_BASE + 1000 x run seed + set number


@dataclass
class ScanCrops:
    """Harvested crops: (N, 28, 28) float32 inputs, (N,) int labels, and which ones the harvesting
    model misread."""

    x: np.ndarray
    y: np.ndarray
    misread: np.ndarray

    @classmethod
    def empty(cls) -> "ScanCrops":
        return cls(np.zeros((0, 28, 28), np.float32), np.zeros(0, np.int32), np.zeros(0, bool))


def align_labels(read: str, true: str) -> list[int | None]:
    """The training label of each glyph of a reading ``read`` (one character per glyph, '?' for
    no digit) of the true digits ``true``: the k-th true digit when the counts agree. With one
    glyph too many, the extra piece is found by trying each glyph out: either the rest then reads
    the truth (the piece is a stray mark), or it differs in just the glyph beside the piece (the
    two are halves of one digit, '0' read '67'). Pieces are labelled no digit (NOT_A_DIGIT) unless
    they are read '1' or stand for a true '1' (a thin stroke is a '1' whatever cut it); glyphs
    before and after get their true digits. When several explanations fit equally ('4231' read
    '42311'), glyphs any of them calls a piece get no label (None). Any other count: no labels,
    since a merged pair and a dropped digit cannot be told apart."""
    if len(read) == len(true):
        return [int(t) for t in true]
    labels: list[int | None] = [None] * len(read)
    if len(read) != len(true) + 1:
        return labels
    explanations: list[tuple[int, frozenset[int]]] = []
    for k in range(len(read)):
        rest = read[:k] + read[k + 1:]
        wrong = [i if i < k else i + 1 for i in range(len(true)) if rest[i] != true[i]]
        if len(wrong) == 0 or (len(wrong) == 1 and abs(wrong[0] - k) == 1):
            explanations.append((len(wrong), frozenset([k, *wrong])))
    if not explanations:
        return labels
    fewest = min(n for n, _ in explanations)
    pieces = [p for n, p in explanations if n == fewest]
    every = frozenset().union(*pieces)
    for g in range(len(read)):
        if g < min(every):
            labels[g] = int(true[g])
        elif g > max(every):
            labels[g] = int(true[g - 1])
    if len(set(pieces)) == 1:  # one explanation: label its pieces too
        first = min(every)
        stands_for = true[first] if len(every) == 2 else ""
        for g in every:
            if read[g] != "1" and stands_for != "1":
                labels[g] = NOT_A_DIGIT
    return labels


def labelled_glyphs(pages: list, truth: pd.DataFrame) -> ScanCrops:
    """Crops of the digits of every found string that matches a true string by position,
    labelled by :func:`align_labels`. ``pages`` are PageResults read with ``keep_inputs``."""
    from pipeline.evaluate import match

    rows, glyphs = [], []
    for page in pages:
        for string in page.strings:
            box = string.box
            rows.append({"file": page.file, "page": page.page, "x": box.x, "y": box.y, "w": box.w,
                         "h": box.h, "text": string.text, "flagged": string.flagged})
            glyphs.append(string.digits)
    if not rows:
        return ScanCrops.empty()
    matched = match(pd.DataFrame(rows), truth)
    xs, ys, wrong = [], [], []
    for true_text, row in zip(matched["truth"], matched["found_row"]):
        if pd.isna(row):  # no found string there
            continue
        read = glyphs[int(row)]
        true = "".join(ch for ch in str(true_text) if ch.isdigit())
        for glyph, label in zip(read, align_labels("".join(g.label for g in read), true)):
            if label is not None:
                xs.append(glyph.pixels)
                ys.append(label)
                wrong.append(glyph.label != LABELS[label])
    if not xs:
        return ScanCrops.empty()
    return ScanCrops(np.stack(xs).astype(np.float32), np.asarray(ys, np.int32), np.asarray(wrong, bool))


def harvest_set(digits: tuple[np.ndarray, np.ndarray], model_dir: Path | None, seed: int,
                **sizes: int) -> ScanCrops:
    """One generated set written with ``digits`` (training images (N, 28, 28) uint8, labels),
    read with the model in ``model_dir`` (None: the shipped one). ``sizes`` are
    :func:`synth.generate.generate_set`'s page counts; by default the pipeline benchmark's mix of
    forms, cheques, ledgers and field crops, without PDF pages."""
    from pipeline.evaluate import read_table
    from pipeline.load import iter_pages
    from pipeline.options import ReadOptions
    from pipeline.page import read_page
    from pipeline.run import shared_classifier
    from synth.generate import generate_set

    classifier = shared_classifier(model_dir)  # loaded once per process
    options = ReadOptions(overlays=False, flagged_crops=False, keep_inputs=True)
    with tempfile.TemporaryDirectory(prefix="scan-crops-") as tmp:
        scans = Path(tmp)
        generate_set(scans, digits=digits, seed=seed, legible_only=False, **{"n_pdf_pages": 0, **sizes})
        truth = read_table(scans / "truth.csv")
        pages = [read_page(grey, classifier, options, file=file, page=number)
                 for file in truth["file"].unique() for number, grey in iter_pages(scans / file)]
    return labelled_glyphs(pages, truth)


@lru_cache(maxsize=1)
def _training_digits(mnist_dir: Path, train_count: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = load_mnist(mnist_dir, "train")  # once per process, not once per set
    return images[:train_count], labels[:train_count]


def _harvest_task(task: tuple[Path, int, Path | None, int]) -> tuple[int, ScanCrops]:
    mnist_dir, train_count, model_dir, seed = task
    return seed, harvest_set(_training_digits(mnist_dir, train_count), model_dir, seed)


def harvest(mnist_dir: Path, sets: int, seed: int, train_count: int, model_dir: Path | None = None,
            workers: int = 2) -> ScanCrops:
    """Crops from ``sets`` generated sets (about 900 each) written with the first ``train_count``
    MNIST training digits, harvested on ``workers`` processes; deterministic for a given seed
    and model."""
    if sets <= 0:
        return ScanCrops.empty()
    from pipeline.executor import make_executor

    tasks = [(mnist_dir, train_count, model_dir, SEED_BASE + 1000 * seed + i) for i in range(sets)]
    executor = make_executor(min(workers, sets))  # the page reader's pool: one thread per worker
    try:
        done = dict(executor.map(_harvest_task, tasks))  # in the order sets finish
    finally:
        executor.close()
    parts = [done[task[-1]] for task in tasks]
    return ScanCrops(np.concatenate([p.x for p in parts]), np.concatenate([p.y for p in parts]),
                     np.concatenate([p.misread for p in parts]))
