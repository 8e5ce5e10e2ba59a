"""Training crops harvested from generated scans: labels come from the truth, aligned only when
the digit counts agree, and the crops are what the classifier was given."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from classifier.scan_crops import align_labels, harvest_set, labelled_glyphs
from pipeline.options import ReadOptions
from pipeline.page import read_page
from pipeline.results import Box, DigitString, Glyph, PageResult
from tests.test_synth import _digits


def _glyph(x: int, label: str, value: float | None) -> Glyph:
    pixels = None if value is None else np.full((28, 28), value, np.float32)
    return Glyph(box=Box(x, 10, 20, 30), label=label, confidence=0.99, pixels=pixels,
                 is_separator=value is None)


def test_labels_follow_the_truth_digit_by_digit():
    page = PageResult(file="p.png", page=1, width=500, height=200, angle=0.0, strings=[
        # "12.5" read as "17.5": the '.' is a separator, the '7' a misread '2'
        DigitString(glyphs=[_glyph(0, "1", 0.1), _glyph(20, "7", 0.2), _glyph(40, ".", None),
                            _glyph(50, "5", 0.3)]),
        # "99" read as one digit: a bad merge, so no alignment is safe and nothing is kept
        DigitString(glyphs=[_glyph(300, "9", 0.4)]),
    ])
    truth = pd.DataFrame([["p.png", 1, 0, 10, 70, 30, "12.5"], ["p.png", 1, 300, 10, 40, 30, "99"],
                          ["p.png", 1, 100, 150, 40, 30, "3"]],  # not found at all
                         columns=["file", "page", "x", "y", "w", "h", "text"])
    crops = labelled_glyphs([page], truth)
    assert crops.y.tolist() == [1, 2, 5]
    assert crops.misread.tolist() == [False, True, False]
    assert crops.x.shape == (3, 28, 28) and np.allclose(crops.x[:, 0, 0], [0.1, 0.2, 0.3])


def test_one_piece_too_many_is_labelled_no_digit():
    q = 10  # NOT_A_DIGIT
    assert align_labels("423670", "42300") == [4, 2, 3, q, q, 0]  # a wide '0' cut into '6' '7'
    assert align_labels("65728", "4728") == [q, q, 7, 2, 8]       # an open '4' cut in two
    assert align_labels("42317", "4231") == [4, 2, 3, 1, q]       # a stray mark read '7'
    assert align_labels("12", "1") == [1, q]


def test_ambiguous_or_thin_pieces_get_no_label():
    assert align_labels("42311", "4231") == [4, 2, 3, None, None]  # which '1' is extra is unknown
    assert align_labels("618", "08") == [10, None, 8]  # a piece read '1' is still a stroke
    assert align_labels("7", "77") == [None]          # merged pair or dropped digit: unknown
    assert align_labels("2877??74", "280305") == [None] * 8  # garbled beyond one extra piece


def test_nothing_found_gives_no_crops():
    page = PageResult(file="p.png", page=1, width=100, height=100, angle=0.0, strings=[])
    truth = pd.DataFrame([["p.png", 1, 0, 0, 10, 10, "1"]], columns=["file", "page", "x", "y", "w", "h", "text"])
    crops = labelled_glyphs([page], truth)
    assert crops.x.shape == (0, 28, 28) and len(crops.y) == 0


def test_read_page_keeps_the_classifier_inputs_only_when_asked():
    from classifier.runtime import DigitClassifier

    page = np.full((120, 300), 255, np.uint8)
    for x in (40, 120, 200):  # three thick vertical strokes: '1's
        page[30:90, x:x + 8] = 0
    classifier = DigitClassifier()
    kept = read_page(page, classifier, ReadOptions(keep_inputs=True, overlays=False))
    plain = read_page(page, classifier, ReadOptions(overlays=False))
    glyphs = [g for s in kept.strings for g in s.digits]
    assert glyphs and all(g.pixels.shape == (28, 28) and g.pixels.max() <= 1.0 for g in glyphs)
    assert all(g.pixels is None for s in plain.strings for g in s.digits)
    # The kept input is what the classifier read: reading it again gives the same top class.
    again = classifier.predict(np.stack([g.pixels for g in glyphs])).argmax(axis=1)
    assert [classifier.labels[k] for k in again] == [g.label for g in glyphs]


def test_harvest_one_small_set():
    images, labels = _digits()
    crops = harvest_set((images, labels), None, seed=4, n_forms=0, n_cheques=0, n_ledgers=0, n_crops=3)
    assert len(crops.y) >= 10  # three field crops of several digits each, most read with the right count
    assert crops.x.dtype == np.float32 and crops.x.shape[1:] == (28, 28)
    assert 0.0 <= crops.x.min() and crops.x.max() <= 1.0
    assert set(crops.y.tolist()) <= set(range(10))
    # Mostly read right by the shipped model; the misreads are the valuable ones, but rare.
    assert crops.misread.mean() < 0.3


@pytest.mark.slow
def test_harvest_on_a_pool_keeps_the_sets_in_order():
    from classifier.datasets import default_dir
    from classifier.scan_crops import SEED_BASE, _training_digits, harvest

    mnist = default_dir("DIGITS_MNIST_DIR", "mnist")
    if mnist is None or not (mnist / "train-images-idx3-ubyte.gz").exists():
        pytest.skip("MNIST training digits not found (../shared/data/mnist or DIGITS_MNIST_DIR)")
    pooled = harvest(mnist, sets=2, seed=3, train_count=5000, workers=2)
    second = harvest_set(_training_digits(mnist, 5000), None, SEED_BASE + 3000 + 1)
    assert len(second.y) and np.array_equal(pooled.x[-len(second.x):], second.x)
    assert np.array_equal(pooled.y[-len(second.y):], second.y)
