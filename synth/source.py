"""The pool of handwritten digits the generator draws from: MNIST *test* digits only.

Training digits never appear on a synthetic page, so pages made here can evaluate a model trained
on MNIST's training split. Every draw is recorded, so the set's attribution can list the indices.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from classifier.datasets import load_mnist


def legible_mask(images: np.ndarray, labels: np.ndarray, k: int = 5, min_agree: int = 3,
                 chunk: int = 1024) -> np.ndarray:
    """True for digits whose ``k`` nearest neighbours (within the same set, itself excluded)
    mostly share its label: a cheap stand-in for "a person reads it as its label"."""
    n = len(images)
    if n <= k:
        return np.ones(n, bool)
    flat = images.reshape(n, -1).astype(np.float32) / 255.0
    norms = (flat ** 2).sum(1)
    agree = np.zeros(n, np.int32)
    for start in range(0, n, chunk):
        block = flat[start:start + chunk]
        dist = norms[start:start + chunk, None] + norms[None, :] - 2.0 * block @ flat.T
        dist[np.arange(len(block)), np.arange(start, start + len(block))] = np.inf
        nearest = np.argpartition(dist, k, axis=1)[:, :k]
        agree[start:start + chunk] = (labels[nearest] == labels[start:start + chunk, None]).sum(1)
    return agree >= min_agree


class DigitSource:
    """Draws digit images of a requested label from MNIST test digits, without replacement
    until a label's pool runs out (then it is reshuffled and reused)."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, rng: np.random.Generator,
                 legible_only: bool = True):
        if images.ndim != 3 or images.shape[1:] != (28, 28) or len(images) != len(labels):
            raise ValueError("expected MNIST images (N, 28, 28) and labels (N,)")
        self.images = images
        self.labels = labels.astype(np.int64)
        self.rng = rng
        keep = legible_mask(images, self.labels) if legible_only else np.ones(len(labels), bool)
        self._pools: dict[int, np.ndarray] = {}
        for digit in range(10):
            members = np.flatnonzero(self.labels == digit)
            good = members[keep[members]]
            # A tiny set (a test fixture) may leave a label with too few legible digits.
            pool = good if len(good) >= min(3, len(members)) else members
            if len(pool) == 0:
                raise ValueError(f"no MNIST test digit with label {digit}")
            self._pools[digit] = pool
        self._queues: dict[int, list[int]] = {d: [] for d in range(10)}
        self.used: list[int] = []  # MNIST test indices in the order drawn

    @classmethod
    def from_folder(cls, folder: str | Path, rng: np.random.Generator,
                    legible_only: bool = True) -> "DigitSource":
        images, labels = load_mnist(folder, split="test")
        return cls(images, labels, rng, legible_only)

    @classmethod
    def from_either(cls, mnist_dir: str | Path | None, digits: tuple[np.ndarray, np.ndarray] | None,
                    rng: np.random.Generator, legible_only: bool = True) -> "DigitSource":
        """From ``digits`` (test images, labels) when given, else from the MNIST folder."""
        if digits is not None:
            return cls(digits[0], digits[1], rng, legible_only)
        if mnist_dir is not None:
            return cls.from_folder(mnist_dir, rng, legible_only)
        raise ValueError("pass mnist_dir (the MNIST folder) or digits (test images, labels)")

    def draw(self, digit: int) -> tuple[int, np.ndarray]:
        """(MNIST test index, 28x28 uint8 image, ink bright) of one digit ``digit``."""
        queue = self._queues[digit]
        if not queue:
            queue.extend(int(i) for i in self.rng.permutation(self._pools[digit]))
        index = queue.pop()
        self.used.append(index)
        return index, self.images[index]
