"""Training batches: digits plus non-digit crops, shuffled and augmented afresh every epoch.

Augmentation is Python and cv2 work on single small images; run in the training process it holds
the GIL against Keras' own loop, which made an epoch ~40% longer than the training steps alone.
So it runs in a separate process (``workers``, spawned: the training process has TensorFlow's
threads running, which a fork would copy), a few chunks of batches ahead of the training step.
Each chunk's randomness comes from ``(seed, epoch, chunk)``, so a run is reproducible whatever
the number of workers.
"""
from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import ProcessPoolExecutor

import cv2
import numpy as np

from classifier.augment import AugmentConfig, augment_batch

CHUNK_BATCHES = 32   # batches augmented per job: big enough to amortise the transfer, small
                     # enough that the first batch is ready in a few seconds
AHEAD = 3            # chunks in flight per worker

_images: np.ndarray | None = None  # the worker's copy of the training images (set once)


def _exit_with_parent(parent: int) -> None:
    # A killed training process leaves its worker orphaned (Ctrl-C reaches both, a kill only
    # the parent): it notices within a second and leaves.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _start_worker(images: np.ndarray) -> None:
    global _images
    _images = images
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    # cv2's thread pool costs more than it saves on 64x64 warps (0.55 -> 0.29 CPU s per 1,000
    # digits on one thread), and training already keeps the cores busy.
    cv2.setNumThreads(1)


def augmented_chunk(images: np.ndarray, order: np.ndarray, seed: int, epoch: int, chunk: int,
                    config: AugmentConfig | None = None) -> np.ndarray:
    """The augmented images of one chunk: ``order``'s indices (already this chunk's), in order,
    augmented with the randomness of ``(seed, epoch, chunk)``."""
    return augment_batch(images[order], np.random.default_rng([seed, epoch, chunk]), config)


def _chunk_in_worker(order: np.ndarray, seed: int, epoch: int, chunk: int,
                     config: AugmentConfig | None) -> np.ndarray:
    return augmented_chunk(_images, order, seed, epoch, chunk, config)


def epoch_order(count: int, seed: int, epoch: int) -> np.ndarray:
    """The shuffled example order of one epoch."""
    return np.random.default_rng([seed, epoch]).permutation(count)


def augmented_chunks(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int,
                     augment: bool = True, config: AugmentConfig | None = None, workers: int = 1):
    """Endless iterator of ``(x, y)`` chunks of up to CHUNK_BATCHES batches, epoch after epoch
    (a chunk never spans two epochs; its length is a multiple of ``batch_size`` except at the
    end of an epoch); augmented in ``workers`` processes (0: in this process)."""
    span = CHUNK_BATCHES * batch_size

    def jobs():  # (epoch, chunk, indices) forever
        epoch = 0
        while True:
            order = epoch_order(len(images), seed, epoch)
            for chunk, start in enumerate(range(0, len(images), span)):
                yield epoch, chunk, order[start: start + span]
            epoch += 1

    if not augment:
        for _, _, index in jobs():
            yield images[index], labels[index]
        return
    if workers <= 0:
        for epoch, chunk, index in jobs():
            yield augmented_chunk(images, index, seed, epoch, chunk, config), labels[index]
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(images,)) as pool:
        pending: deque = deque()
        for epoch, chunk, index in jobs():
            pending.append((pool.submit(_chunk_in_worker, index, seed, epoch, chunk, config), index))
            if len(pending) < AHEAD * workers:
                continue
            future, done_index = pending.popleft()
            yield future.result(), labels[done_index]


def training_dataset(images: np.ndarray, labels: np.ndarray, batch_size: int, seed: int,
                     augment: bool = True, config: AugmentConfig | None = None,
                     workers: int = 1) -> "tf.data.Dataset":
    """Endless dataset of ``(batch_size, 28, 28)`` float32 batches; use with ``steps_per_epoch``.
    Python hands over whole chunks: one generator call per batch cost more than the step."""
    import tensorflow as tf  # here, not at the top: the augmentation worker imports this module

    images = np.asarray(images, np.float32)
    labels = np.asarray(labels, np.int32)
    signature = (tf.TensorSpec([None, 28, 28], tf.float32), tf.TensorSpec([None], tf.int32))
    chunks = tf.data.Dataset.from_generator(
        lambda: augmented_chunks(images, labels, batch_size, seed, augment, config, workers),
        output_signature=signature)
    return chunks.flat_map(lambda x, y: tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size)).prefetch(4)


def steps_per_epoch(count: int, batch_size: int) -> int:
    """Batches in one pass over ``count`` examples."""
    return int(np.ceil(count / batch_size))
