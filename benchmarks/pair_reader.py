"""Touching pairs of MNIST test digits read three ways: cut and classified (the splitter alone),
the pair reader alone, and the splitter with the pair reader (as the page reader does); and
single digits read by the splitter with and without the pair reader (which must not cut them).

    python benchmarks/pair_reader.py [--mnist ../shared/data/mnist] [--pairs 1000] [--seed 5]

Pairs and singles are written by the sample generator's handwriting code, as on generated pages,
and handed over as one binary component each; a pair counts as right when both digits are, a
single digit when it is read as that one digit. The pair reader's two-digit head is scored on
both at the splitter's bar (``segmentation.touching.TIGHT_SURE``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier.datasets import default_dir, load_mnist  # noqa: E402
from classifier.pair_model import write_pairs  # noqa: E402
from classifier.runtime import DEFAULT_DIR, DigitClassifier  # noqa: E402
from pipeline.page import _probabilities  # noqa: E402  (what the page reader does: segmentation's scores, else the classifier)
from pipeline.results import Box  # noqa: E402
from segmentation.marks import Component  # noqa: E402
from segmentation.normalize import to_pair  # noqa: E402
from segmentation.touching import TIGHT_SURE, split_touching  # noqa: E402


def read_pair(mask: np.ndarray, classifier: DigitClassifier, with_pairs: bool) -> tuple[int, ...]:
    """The digits the splitter reads in one component (a pen stroke a tenth of its height)."""
    rows, cols = np.nonzero(mask)
    mask = mask[rows.min(): rows.max() + 1, cols.min(): cols.max() + 1]
    parts = split_touching([[Component(Box(0, 0, mask.shape[1], mask.shape[0]), mask)]],
                           [float(mask.shape[0])], max(2.0, 0.1 * mask.shape[0]), classifier.predict,
                           pairs=classifier.pairs.predict if with_pairs else None)[0]
    return tuple(int(k) for k in _probabilities(classifier, parts).argmax(axis=1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"))
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    if args.mnist is None:
        print("MNIST folder not found: pass --mnist or set DIGITS_MNIST_DIR")
        return 2
    classifier = DigitClassifier(args.model_dir)
    if classifier.pairs is None:
        print(f"{args.model_dir} holds no pair reader (pairs.tflite)")
        return 2
    images, labels = load_mnist(args.mnist, "test")
    right = {"splitter alone": 0, "pair reader alone": 0, "splitter with the pair reader": 0}
    sure_two = 0
    for mask, truth in write_pairs(images, labels, args.pairs, args.seed):
        right["splitter alone"] += read_pair(mask, classifier, False) == truth
        right["splitter with the pair reader"] += read_pair(mask, classifier, True) == truth
        sides, two = classifier.pairs.predict(to_pair(mask)[None])
        right["pair reader alone"] += tuple(int(k) for k in sides[0].argmax(axis=1)) == truth
        sure_two += bool(two[0] >= TIGHT_SURE)
    for name, n in right.items():
        print(f"{name:30s} {n / args.pairs:7.2%} of {args.pairs} touching pairs of MNIST test digits read right")
    print(f"{'two-digit head':30s} {sure_two / args.pairs:7.2%} of them called two at >= {TIGHT_SURE}")
    singles = args.pairs // 2
    alone = {"splitter alone": 0, "splitter with the pair reader": 0}
    sure_two = 0
    for mask, truth in write_pairs(images, labels, singles, args.seed + 1, digits=1):
        alone["splitter alone"] += read_pair(mask, classifier, False) == truth
        alone["splitter with the pair reader"] += read_pair(mask, classifier, True) == truth
        sure_two += bool(classifier.pairs.predict(to_pair(mask)[None])[1][0] >= TIGHT_SURE)
    for name, n in alone.items():
        print(f"{name:30s} {n / singles:7.2%} of {singles} single MNIST test digits read as that digit")
    print(f"{'two-digit head':30s} {sure_two / singles:7.2%} of them called two at >= {TIGHT_SURE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
