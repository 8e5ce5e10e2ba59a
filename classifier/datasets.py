"""Readers for the training and evaluation data sets (MNIST IDX files, USPS text files).

The data never ships with the code: callers pass the folder, e.g. ``../shared/data/mnist``,
or set ``DIGITS_MNIST_DIR`` / ``DIGITS_USPS_DIR``.
"""
from __future__ import annotations

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
# Official checksums of the four MNIST files; a training run refuses anything else.
MNIST_MD5 = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}
MNIST_ATTRIBUTION = (
    "Derived from the MNIST database of handwritten digits by Yann LeCun and Corinna Cortes "
    "(a derivative of NIST Special Databases 3 and 1), licensed CC BY-SA 3.0 "
    "(https://creativecommons.org/licenses/by-sa/3.0/)."
)


def default_dir(env: str, fallback: str) -> Path | None:
    """Data folder from the environment variable ``env`` or ``../shared/data/<fallback>``."""
    value = os.environ.get(env)
    if value:
        return Path(value)
    guess = Path(__file__).resolve().parents[1].parent / "shared" / "data" / fallback
    return guess if guess.is_dir() else None


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_idx(path: Path) -> np.ndarray:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if data[:2] != b"\x00\x00" or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(folder: str | Path, split: str = "train", verify: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """MNIST images (N, 28, 28) uint8, ink bright on dark, and labels (N,) uint8.

    ``split`` is ``"train"`` (60,000) or ``"test"`` (10,000). With ``verify`` the files'
    md5 must match the official checksums.
    """
    folder = Path(folder)
    images_name, labels_name = MNIST_FILES[split]
    for name in (images_name, labels_name):
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(f"{path}: MNIST file not found")
        if verify and md5sum(path) != MNIST_MD5[name]:
            raise ValueError(f"{path}: checksum differs from the official MNIST file")
    return _read_idx(folder / images_name), _read_idx(folder / labels_name)


def mnist_checksums(folder: str | Path) -> dict[str, str]:
    """md5 of each MNIST file in ``folder`` (for the model card)."""
    return {name: md5sum(Path(folder) / name) for name in MNIST_MD5}


def load_usps(folder: str | Path, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """USPS digits as (N, 16, 16) float32 ink intensity in [0, 1] (0 = background) and labels.

    ``split`` is ``"train"`` (zip.train.gz, 7,291) or ``"test"`` (zip.test.gz, 2,007).
    """
    path = Path(folder) / f"zip.{split}.gz"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: USPS file not found")
    with gzip.open(path, "rt") as handle:
        rows = np.loadtxt(handle, dtype=np.float32)
    labels = rows[:, 0].astype(np.uint8)
    images = ((rows[:, 1:] + 1.0) / 2.0).reshape(-1, 16, 16)
    return np.clip(images, 0.0, 1.0), labels
