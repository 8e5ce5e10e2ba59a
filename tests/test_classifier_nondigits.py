"""Generated non-digit crops: shape, range, determinism, every kind renders."""
from __future__ import annotations

import numpy as np

from classifier.nondigits import HELD_OUT_SEED, KINDS, generate, render


def test_shape_and_range():
    crops = generate(50, seed=3)
    assert crops.shape == (50, 28, 28) and crops.dtype == np.float32
    assert crops.min() >= 0.0 and crops.max() <= 1.0
    assert (crops.reshape(50, -1).max(axis=1) > 0.0).all()


def test_seeded():
    np.testing.assert_array_equal(generate(10, seed=5), generate(10, seed=5))
    assert not np.array_equal(generate(10, seed=5), generate(10, seed=HELD_OUT_SEED))


def test_every_kind_draws_ink():
    rng = np.random.default_rng(0)
    for kind in KINDS:
        image = render(kind, rng)
        assert image.shape == (96, 96) and image.max() > 0.0, kind
