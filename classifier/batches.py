"""Training batches: digits plus non-digit crops, shuffled and augmented afresh every epoch.

Augmentation runs in a Python generator that tf.data prefetches on a background thread (cv2
releases the GIL, so it overlaps with the training step). Each epoch's randomness comes from
``(seed, epoch)`` so a run is reproducible.
"""
from __future__ import annotations

import itertools

import cv2
import numpy as np
import tensorflow as tf

from classifier.augment import AugmentConfig, augment_batch


def training_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int,
                     augment: bool = True, config: AugmentConfig | None = None) -> tf.data.Dataset:
    """Endless dataset of ``(batch_size, 28, 28)`` float32 batches; use with ``steps_per_epoch``."""
    images = np.asarray(images, np.float32)
    labels = np.asarray(labels, np.int32)
    steps = int(np.ceil(len(images) / batch_size))

    def generate():
        # cv2's own thread pool costs more than it saves on 64x64 warps (0.55 -> 0.29 CPU s per
        # 1,000 digits on one thread), and TF's two threads already use both cores.
        cv2.setNumThreads(1)
        for epoch in itertools.count():
            rng = np.random.default_rng([seed, epoch])
            order = rng.permutation(len(images))
            for step in range(steps):
                index = order[step * batch_size: (step + 1) * batch_size]
                x = augment_batch(images[index], rng, config) if augment else images[index]
                yield x, labels[index]

    signature = (tf.TensorSpec([None, 28, 28], tf.float32), tf.TensorSpec([None], tf.int32))
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(8)


def steps_per_epoch(count: int, batch_size: int) -> int:
    """Batches in one pass over ``count`` examples."""
    return int(np.ceil(count / batch_size))
