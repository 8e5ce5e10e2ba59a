"""Training batches: reproducible, the same in a worker process as in this one, labels aligned."""
from __future__ import annotations

import itertools

import numpy as np

from classifier.batches import augmented_chunks, epoch_order, training_dataset
from tests.fixtures import load_mnist_fixture


def _take(iterator, n):
    return list(itertools.islice(iterator, n))


def test_worker_process_gives_the_same_chunks(monkeypatch):
    monkeypatch.setattr("classifier.batches.CHUNK_BATCHES", 2)
    images, labels = load_mnist_fixture()
    images = images[:90].astype(np.float32) / 255.0  # 6 batches of 16, the last one short
    here = _take(augmented_chunks(images, labels[:90], 16, seed=3, workers=0), 5)
    there = _take(augmented_chunks(images, labels[:90], 16, seed=3, workers=1), 5)
    assert [len(x) for x, _ in here] == [32, 32, 26, 32, 32]  # epochs do not run together
    for (xa, ya), (xb, yb) in zip(here, there):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    # Augmented afresh each epoch, and a seed changes everything.
    assert not np.array_equal(here[0][0], here[3][0])
    other = _take(augmented_chunks(images, labels[:90], 16, seed=4, workers=0), 1)
    assert not np.array_equal(here[0][0], other[0][0])


def test_every_example_once_per_epoch_with_its_label():
    images, labels = load_mnist_fixture()
    images = images[:50].astype(np.float32) / 255.0
    batches = list(training_dataset(images, labels[:50], 8, seed=1, augment=False).take(2 * 7))
    assert [len(y) for _, y in batches] == [8] * 6 + [2] + [8] * 6 + [2]
    first = np.concatenate([x.numpy() for x, _ in batches[:7]])
    order = epoch_order(50, 1, 0)
    np.testing.assert_array_equal(first, images[order])
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches[:7]]), labels[:50][order])
    second = np.concatenate([y.numpy() for _, y in batches[7:]])
    assert sorted(second) == sorted(labels[:50]) and not np.array_equal(second, labels[:50][order])
