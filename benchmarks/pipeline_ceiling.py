"""What a perfect pipeline would score with the shipped classifier: each string of a generated set
read from the clean MNIST test digits it was written with (``sources.csv``), no scan between.

    python benchmarks/pipeline_ceiling.py samples/ /tmp/pa1/scans [...] [--mnist ../shared/data/mnist]

For every set: string accuracy, share flagged and unflagged accuracy when every digit is read from
its clean MNIST image at the model's threshold. Set against ``pipeline_accuracy.py`` on the same
scans, the difference is what printing, scanning, binarisation and segmentation cost; the figures
here bound what any better segmentation could reach with this classifier.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier.datasets import default_dir, load_mnist  # noqa: E402
from classifier.calibration import accept_mask  # noqa: E402
from classifier.evaluate import read_digits  # noqa: E402
from classifier.runtime import DEFAULT_DIR, DigitClassifier  # noqa: E402


def ceiling(sources: pd.DataFrame, read: np.ndarray, sure: np.ndarray) -> dict:
    """Figures over the strings of ``sources`` (column ``mnist_test_indices``), given for every
    MNIST test digit whether it is read right (``read``) and read without a flag (``sure``)."""
    right = flagged = wrong_unflagged = 0
    for indices in sources["mnist_test_indices"]:
        ids = [int(i) for i in str(indices).split()]
        ok, unflagged = bool(read[ids].all()), bool(sure[ids].all())
        right += ok
        flagged += not unflagged
        wrong_unflagged += unflagged and not ok
    n = len(sources)
    return {"strings": n, "string_accuracy": right / n, "flagged_share": flagged / n,
            "unflagged_accuracy": 1 - wrong_unflagged / max(1, n - flagged), "wrong_unflagged": wrong_unflagged}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", type=Path, nargs="+", help="generated sets (folders with sources.csv)")
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"))
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args()
    if args.mnist is None:
        print("MNIST folder not found: pass --mnist or set DIGITS_MNIST_DIR")
        return 2
    images, labels = load_mnist(args.mnist, "test")
    classifier = DigitClassifier(args.model_dir)
    probs = classifier.predict(images.astype(np.float32) / 255.0)
    read = read_digits(probs) == labels  # the digit the pipeline writes, as in classifier_accuracy.py
    sure = accept_mask(probs, classifier.threshold)
    print(f"clean MNIST test digits: {read.mean():.2%} read right, {1 - sure.mean():.2%} flagged "
          f"at threshold {classifier.threshold}")
    for folder in args.sets:
        f = ceiling(pd.read_csv(folder / "sources.csv", dtype=str), read, sure)
        print(f"{str(folder):24s} {f['strings']:4d} strings: accuracy {f['string_accuracy']:.2%}, flagged "
              f"{f['flagged_share']:.2%}, unflagged accuracy {f['unflagged_accuracy']:.2%} "
              f"({f['wrong_unflagged']} wrong and unflagged)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
