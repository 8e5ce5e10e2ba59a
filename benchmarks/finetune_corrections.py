"""The review loop measured: read a fresh generated set, let a simulated reviewer correct every
flagged digit from the ground truth, fine-tune on the corrections (``train --corrections``), and
report accuracy before and after on the held-out corrections and on MNIST test.

    python benchmarks/finetune_corrections.py --mnist ../shared/data/mnist [--seed 7] [--scale 2]

The reviewer answers only where the answer is certain: a flagged digit of a string read with as
many marks as its truth gets the true character at its position ('?' where the truth has a
separator); a flagged digit of a string overlapping no true string at all is "not a digit". The shipped model
in ``models/`` is copied first and never changed.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from classifier.datasets import default_dir  # noqa: E402
from pipeline.evaluate import iou, read_table  # noqa: E402
from pipeline.options import RunOptions  # noqa: E402
from pipeline.run import run  # noqa: E402
from synth.generate import generate_set  # noqa: E402

MATCH_IOU = 0.3


def reviewer_decisions(results: Path, truth_csv: Path) -> list[tuple[tuple, str, str]]:
    """(digit key, decision, crop) for every flagged digit the truth settles."""
    strings, digits, truth = read_table(results / "strings.csv"), read_table(results / "digits.csv"), \
        read_table(truth_csv)
    digits = digits[digits["flagged"].astype(str) == "True"]
    answers: dict[tuple, str] = {}
    for _, s in strings.iterrows():
        same_page = truth[(truth["file"] == s["file"]) & (truth["page"] == s["page"])]
        overlap = iou(s[["x", "y", "w", "h"]].to_numpy(float)[None],
                      same_page[["x", "y", "w", "h"]].to_numpy(float))[0]
        key = (s["file"], int(s["page"]), int(s["string_id"]))
        if not len(overlap) or overlap.max() == 0:
            answers[key] = ""  # far from any true string: every mark is "not a digit"
            continue
        if overlap.max() < MATCH_IOU:
            continue  # a piece of a true string, cut off by segmentation: not settled by the truth
        true = same_page.iloc[int(overlap.argmax())]["text"]
        if len(true) == len(s["text"]):
            answers[key] = true
    out = []
    for _, d in digits.iterrows():
        key = (d["file"], int(d["page"]), int(d["string_id"]))
        if key not in answers:
            continue  # segmentation went wrong: a reviewer would fix the string, not the digit
        true = answers[key]
        label = true[int(d["index"])] if true else "?"
        out.append((key + (int(d["index"]),), label if label.isdigit() else "?", d["crop"]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=default_dir("DIGITS_MNIST_DIR", "mnist"))
    parser.add_argument("--usps", type=Path, default=default_dir("DIGITS_USPS_DIR", "usps"))
    parser.add_argument("--seed", type=int, default=7, help="generated set (samples/ uses 0, pipeline_accuracy 1)")
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("/tmp/digits-finetune"))
    args = parser.parse_args()
    if args.mnist is None:
        print("MNIST folder not found: pass --mnist or set DIGITS_MNIST_DIR")
        return 2
    from classifier.train import TrainOptions, train
    from review.store import DecisionStore, dataset_id, default_db_url

    shutil.rmtree(args.out, ignore_errors=True)
    scans, results, models = args.out / "scans", args.out / "results", args.out / "models"
    s = args.scale
    generate_set(scans, args.mnist, seed=args.seed, n_forms=4 * s, n_cheques=3 * s, n_ledgers=3 * s,
                 n_crops=4 * s, n_pdf_pages=2 * s, n_hires=s)
    run(RunOptions(inputs=[scans], out=results, workers=args.workers, progress=False))
    decisions = reviewer_decisions(results, scans / "truth.csv")
    store = DecisionStore(default_db_url(results))
    for key, label, crop in decisions:
        store.add(dataset_id(results), key, label, "truth", crop=crop, source=str(results.resolve()))
    store.close()
    corrected = sum(1 for _, label, _ in decisions if label != "?")
    print(f"{len(decisions)} flagged digits reviewed from the truth ({corrected} digits, "
          f"{len(decisions) - corrected} not a digit)")
    shutil.copytree(Path(__file__).resolve().parents[1] / "models", models)
    started = time.perf_counter()
    metrics = train(TrainOptions(mnist=args.mnist, usps=args.usps, epochs=args.epochs, seed=1, out=models,
                                 report=args.out / "report", corrections=str(results / "results.db")))
    print(f"fine-tune and release: {(time.perf_counter() - started) / 60:.1f} min; released model: MNIST test "
          f"{metrics['mnist_test_accuracy']:.4f}, USPS test {metrics.get('usps_test_accuracy') or float('nan'):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
