"""Augmentation keeps shape, range and the MNIST convention, and is reproducible."""
from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from classifier.augment import AugmentConfig, augment_batch, augment_one, line_stub, stroke
from tests.fixtures import load_mnist_fixture


def _digits(n: int = 64) -> np.ndarray:
    return load_mnist_fixture()[0][:n].astype(np.float32) / 255.0


def test_shape_range_dtype():
    out = augment_batch(_digits(), np.random.default_rng(0))
    assert out.shape == (64, 28, 28) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0
    assert (out.reshape(64, -1).max(axis=1) > 0.5).all()  # no digit erased


def test_reproducible():
    a = augment_batch(_digits(16), np.random.default_rng(7))
    b = augment_batch(_digits(16), np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)


def test_output_stays_centred_like_to_mnist():
    out = augment_batch(_digits(), np.random.default_rng(1), AugmentConfig(p_jitter=0.0, p_raw=0.0, p_noise=0.0, p_blur=0.0))
    ys, xs = np.mgrid[:28, :28]
    mass = out.sum(axis=(1, 2))
    cy = (out * ys).sum(axis=(1, 2)) / mass
    cx = (out * xs).sum(axis=(1, 2)) / mass
    assert np.abs(cy - 13.5).max() < 2.0 and np.abs(cx - 13.5).max() < 2.0
    # the ink box is at most 20 pixels on its longer side, as in MNIST
    for image in out:
        rows, cols = np.nonzero(image > 0.1 * image.max())
        assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 22


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 199))
def test_any_seed_any_digit(seed, index):
    digit = load_mnist_fixture()[0][index].astype(np.float32) / 255.0
    out = augment_one(digit, np.random.default_rng(seed))
    assert out.shape == (28, 28) and 0.0 <= out.min() and out.max() <= 1.0 and out.max() > 0.3


def test_helpers_keep_shape():
    rng = np.random.default_rng(3)
    canvas = np.zeros((64, 64), np.float32)
    canvas[20:44, 28:34] = 1.0
    assert stroke(canvas, rng).shape == canvas.shape
    assert line_stub(canvas, rng).shape == canvas.shape
    assert line_stub(np.zeros((64, 64), np.float32), rng).max() == 0.0
