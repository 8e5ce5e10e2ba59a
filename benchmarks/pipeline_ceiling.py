"""What a perfect pipeline would score with the shipped classifier: each string of a generated set
read from the clean MNIST test digits it was written with (``sources.csv``), no scan between.

    python benchmarks/pipeline_ceiling.py samples/ /tmp/pa1/scans [...] [--mnist ../shared/data/mnist]
    python benchmarks/pipeline_ceiling.py samples/ /tmp/pa1/scans --results results/ /tmp/r1   # per digit too

For every set: string accuracy, share flagged and unflagged accuracy when every digit is read from
its clean MNIST image at the model's threshold. Set against ``pipeline_accuracy.py`` on the same
scans, the difference is what printing, scanning, binarisation and segmentation cost; the figures
here bound what any better segmentation could reach with this classifier. With ``--results`` (the
pipeline's output folders for the same sets, in the same order), every digit of a string found with
the right count of digits is also compared with its clean reading, by the string's ``kind`` (box,
comb, line): the digits the pipeline misreads though their clean image reads right are what
printing, scanning and cutting cost the classifier.
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
from pipeline.evaluate import match, read_table  # noqa: E402


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


def page_digits(folder: Path, results: Path, clean: np.ndarray) -> pd.DataFrame:
    """One row per digit of each string the pipeline found with its truth's count of digits:
    ``kind``, ``page_right`` (the pipeline's reading) and ``clean_right`` (``clean``: the digit
    read from each MNIST test image, as text)."""
    sources = pd.read_csv(folder / "sources.csv", dtype=str, keep_default_na=False)
    indices = {(r.file, int(r.page), r.text): [int(i) for i in r.mnist_test_indices.split()]
               for r in sources.itertuples()}
    found = read_table(results / "strings.csv")
    digits = pd.read_csv(results / "digits.csv", dtype={"digit": str, "file": str}, keep_default_na=False)
    by_string = {key: group["digit"].tolist() for key, group in digits.groupby(["file", "page", "string_id"])}
    rows = []
    for m in match(found, read_table(folder / "truth.csv")).itertuples():
        ids = indices.get((m.file, int(m.page), str(m.truth)))
        if pd.isna(m.found_row) or ids is None:
            continue
        hit = found.loc[m.found_row]
        read = by_string.get((hit["file"], hit["page"], hit["string_id"]), [])
        truth = [ch for ch in str(m.truth) if ch.isdigit()]
        if len(read) != len(truth) or len(ids) != len(truth):
            continue
        for page_digit, true_digit, i in zip(read, truth, ids):
            rows.append((hit.get("kind", ""), page_digit == true_digit, clean[i] == true_digit))
    return pd.DataFrame(rows, columns=["kind", "page_right", "clean_right"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", type=Path, nargs="+", help="generated sets (folders with sources.csv)")
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"))
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--results", type=Path, nargs="+", default=[],
                        help="the pipeline's results for the sets, same order: compare digit by digit")
    args = parser.parse_args()
    if args.results and len(args.results) != len(args.sets):
        print(f"--results names {len(args.results)} folders for {len(args.sets)} sets")
        return 2
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
    if args.results:
        clean = read_digits(probs).astype(str)
        table = pd.concat([page_digits(folder, results, clean) for folder, results in zip(args.sets, args.results)])
        print(f"digits of strings found with the right count: {len(table)}, page {table.page_right.mean():.2%} "
              f"read right, the same digits clean {table.clean_right.mean():.2%}; misread on the page but "
              f"right clean {int((~table.page_right & table.clean_right).sum())} of "
              f"{int((~table.page_right).sum())} page misreads")
        for kind, group in table.groupby("kind"):
            print(f"  {kind or '?':6s} {len(group):6d} digits: page {group.page_right.mean():.2%}, "
                  f"clean {group.clean_right.mean():.2%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
