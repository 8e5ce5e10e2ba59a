"""Training command: MNIST (+ generated non-digits) -> calibrated LiteRT model, card and report.

Run as ``python cli.py train --mnist ../shared/data/mnist`` (or ``python -m classifier.train``).
The validation split is the last part of the MNIST training set; the test set is only measured.
``--corrections results/results.db`` fine-tunes the shipped model on reviewed digits instead.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from classifier.datasets import default_dir

OPTIMIZERS = ("adam", "sgd", "adadelta")
FINETUNE_EPOCHS = 2  # default epochs of a --corrections run (a short, gentle fine-tune)


class TrainingRefused(RuntimeError):
    """The run cannot or must not produce a model (e.g. too few corrections, or fine-tuning
    would cost MNIST accuracy); nothing was written."""


@dataclass
class TrainOptions:
    """Everything a training run depends on (recorded in the model card)."""

    mnist: Path
    usps: Path | None = None
    arch: str = "cnn"
    optimizer: str = "adam"
    epochs: int = 16
    batch_size: int = 128
    learning_rate: float | None = None   # None: DEFAULT_LR of the optimizer
    seed: int = 1
    ensemble: int = 1
    rotations: float = 0.0               # degrees: also read each digit rotated by +- this (test-time views)
    out: Path = Path("models")
    report: Path | None = None           # None: runs/<arch>-seed<seed>
    validation_size: int = 6000
    nondigits: int = 6000
    pairs: int = 6000                    # generated crops of digits run together (class '?')
    scan_sets: int = 12                  # synthetic scan sets read by the pipeline for crops (scan_crops)
    scan_model: Path | None = None       # the model that reads them (None: the shipped models/)
    augment: bool = True
    bn_momentum: float = 0.99            # 0.9 for short runs (a few hundred steps)
    patience: int = 5
    time_budget_min: float = 30.0        # wall-clock minutes per model, data preparation and release included (0: off)
    limit: int | None = None             # use only the first N training digits (quick runs)
    from_keras: list[Path] | None = None  # skip fitting: release these saved models (averaged)
    corrections: str | None = None       # fine-tune on reviewed digits (results folder, .db, or URL)
    base: Path | None = None             # the Keras model fine-tuned (default <out>/model.keras)
    init: Path | None = None             # start from these weights instead of random ones


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``train`` options to ``parser``."""
    mnist, usps = default_dir("DIGITS_MNIST_DIR", "mnist"), default_dir("DIGITS_USPS_DIR", "usps")
    parser.add_argument("--mnist", type=Path, default=mnist, required=mnist is None,
                        help="folder with the four MNIST .gz files (env DIGITS_MNIST_DIR)")
    parser.add_argument("--usps", type=Path, default=usps,
                        help="folder with zip.test.gz, for the USPS score (env DIGITS_USPS_DIR)")
    parser.add_argument("--arch", choices=("mlp", "cnn", "deep"), default="cnn")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam")
    parser.add_argument("--epochs", type=int, default=None,
                        help=f"default {TrainOptions.epochs}; {FINETUNE_EPOCHS} with --corrections")
    parser.add_argument("--batch-size", type=int, default=TrainOptions.batch_size)
    parser.add_argument("--lr", type=float, default=None, help="peak learning rate (default per optimizer)")
    parser.add_argument("--seed", type=int, default=TrainOptions.seed)
    parser.add_argument("--ensemble", type=int, default=1, help="average the logits of N models")
    parser.add_argument("--rotated-views", type=float, default=0.0, metavar="DEGREES",
                        help="also read every digit rotated by +DEGREES and -DEGREES and average the "
                             "logits over the three views (test-time augmentation, three times the cost; "
                             "for an ensemble, see README)")
    parser.add_argument("--out", type=Path, default=Path("models"), help="where digits.tflite and the card go")
    parser.add_argument("--report", type=Path, default=None, help="report folder (default runs/<arch>-seed<S>)")
    parser.add_argument("--validation-size", type=int, default=TrainOptions.validation_size)
    parser.add_argument("--nondigits", type=int, default=TrainOptions.nondigits,
                        help="generated non-digit training crops (class '?')")
    parser.add_argument("--pairs", type=int, default=TrainOptions.pairs,
                        help="generated crops of touching digit pairs and bad cuts (class '?')")
    parser.add_argument("--scan-sets", type=int, default=TrainOptions.scan_sets,
                        help="also train on digits the reading pipeline cuts from this many generated "
                             "sets of scans written with MNIST training digits (~1,000 crops and ~12 s "
                             "per set on 2 cores; see classifier/scan_crops.py)")
    parser.add_argument("--scan-model", type=Path, default=None, metavar="MODEL_DIR",
                        help="with --scan-sets: the model the pipeline reads those scans with "
                             "(default the shipped models/)")
    parser.add_argument("--no-augment", action="store_true")
    parser.add_argument("--bn-momentum", type=float, default=TrainOptions.bn_momentum,
                        help="batch-norm momentum; use 0.9 for runs of only a few hundred steps")
    parser.add_argument("--patience", type=int, default=TrainOptions.patience, help="early-stopping patience")
    parser.add_argument("--time-budget", type=float, default=TrainOptions.time_budget_min,
                        help="wall-clock minutes per model, from the start of the run to the written "
                             "model (about 2.5 min are kept for calibration, export and measurement); "
                             "the learning-rate schedule is shortened to fit (0: off)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N digits only")
    parser.add_argument("--from-keras", type=Path, nargs="+", default=None, metavar="MODEL.keras",
                        help="skip fitting: calibrate, export, evaluate and report saved Keras models "
                             "(a run's model.keras; several are averaged into one ensemble)")
    parser.add_argument("--corrections", default=None, metavar="RESULTS.db",
                        help="fine-tune the model in --out (or --base) on the digits reviewed in this "
                             "results.db, results folder or SQLAlchemy URL, mixed with MNIST; a held-out "
                             "slice of the corrections and MNIST test are measured before and after")
    parser.add_argument("--init", type=Path, default=None, metavar="MODEL.keras",
                        help="start training from these weights (e.g. to continue a run with more "
                             "data or epochs); the card records that run too")
    parser.add_argument("--base", type=Path, default=None, metavar="MODEL.keras",
                        help="with --corrections: the Keras model to fine-tune (default <out>/model.keras)")


def options_from_args(args: argparse.Namespace) -> TrainOptions:
    """TrainOptions from parsed arguments."""
    return TrainOptions(
        mnist=args.mnist, usps=args.usps, arch=args.arch, optimizer=args.optimizer,
        epochs=args.epochs or (FINETUNE_EPOCHS if args.corrections else TrainOptions.epochs),
        batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
        ensemble=args.ensemble, rotations=args.rotated_views, out=args.out,
        report=args.report, validation_size=args.validation_size, nondigits=args.nondigits, pairs=args.pairs,
        scan_sets=args.scan_sets, scan_model=args.scan_model,
        augment=not args.no_augment, bn_momentum=args.bn_momentum, patience=args.patience, time_budget_min=args.time_budget,
        limit=args.limit, from_keras=args.from_keras, corrections=args.corrections, base=args.base,
        init=args.init)


def cpu_seconds() -> float:
    """CPU seconds of this process and of its finished children (the scan-reading workers)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def scan_record(options: TrainOptions, data) -> dict:
    """The card's note of the scan crops trained on: sets, crops, misreads, and which model cut them."""
    import json

    from classifier.runtime import CARD_FILE, DEFAULT_DIR

    card = Path(options.scan_model or DEFAULT_DIR) / CARD_FILE
    return {"sets": options.scan_sets, "crops": data.scan_crops, "misread": data.scan_misread,
            "not_a_digit": data.scan_pieces,
            "model": str(options.scan_model or "models/"),
            "model_sha256": json.loads(card.read_text()).get("sha256") if card.is_file() else None}


def train(options: TrainOptions) -> dict:
    """Train, calibrate, export and evaluate; returns the metrics (also in the report folder)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's start-up chatter out
    from classifier import fit, release  # TensorFlow is imported only when training

    started, started_cpu, budget_start = time.time(), cpu_seconds(), fit.budget_clock()
    corrections = _load_corrections(options) if options.corrections else None  # fail fast
    data = fit.prepare_data(options)
    command = "python " + " ".join(shlex.quote(a) for a in sys.argv)
    machine = f"{platform.machine()} CPU, {len(os.sched_getaffinity(0))} cores"
    if corrections is not None:
        model, training = _finetune(options, data, *corrections, command)
    elif options.from_keras:
        model, previous = fit.load_models(options.from_keras, options.rotations)
        training = release.previous_training(previous, command)
    else:
        model, histories, schedule_ends = fit.train_models(options, data, budget_start)
        training = release.training_record(options, histories, time.time() - started,
                                           cpu_seconds() - started_cpu, command, machine,
                                           schedule_ends)
        if data.scan_crops:
            training["scan_crops"] = scan_record(options, data)
        if options.init:  # the run the weights came from (its card only: no second model load)
            training["init"] = {"model": str(options.init), **fit.card_beside(options.init)["training"]}
            training["init"].pop("history", None)
    if options.rotations:  # a release's views are this run's choice, not its members'
        training["rotated_views"] = options.rotations
    default_report = f"finetune-seed{options.seed}" if options.corrections else f"{options.arch}-seed{options.seed}"
    report = options.report or Path("runs") / default_report
    metrics = release.finish(options, data, model, training, Path(report))
    print(summary(metrics, Path(options.out), Path(report)))
    return metrics


def _load_corrections(options: TrainOptions):
    """(the reviewed digits split for fine-tuning, the base model's path): both checked before
    any training data is prepared."""
    from classifier import finetune
    from review.corrections import load_corrections

    base_path = finetune.base_model_path(options.out, options.base)
    source, db_url = finetune.corrections_source(options.corrections)
    images, labels = load_corrections(source, db_url)
    return finetune.split_corrections(images, labels, options.seed), base_path


def _finetune(options: TrainOptions, data, corrections, base_path: Path, command: str):
    """The base model fine-tuned on the reviewed digits, and its card's training record."""
    import keras

    from classifier import finetune, fit

    # Seeded before loading: the model's dropout seed generators are drawn when it is built,
    # so the fine-tune does not depend on what this process ran before.
    keras.utils.set_random_seed(options.seed)
    model, previous = fit.load_models([base_path])
    model, report = finetune.finetune(options, data, model, corrections)
    print(finetune.summary(report))
    training = dict(previous[0].get("training", {}))
    training["finetune"] = {"command": command, "corrections": str(options.corrections),
                            "base": str(base_path), "epochs": options.epochs, "seed": options.seed,
                            **{k: v for k, v in report.items() if k != "history"}}
    return model, training


def summary(metrics: dict, out: Path, report: Path) -> str:
    """A few lines of the run's headline figures."""
    usps = metrics.get("usps_test_accuracy")
    return "\n".join([
        f"model written to {out}/ (report in {report}/)",
        f"MNIST test accuracy {metrics['mnist_test_accuracy']:.4f}, macro F1 {metrics['mnist_test_macro_f1']:.4f}"
        + (f"; USPS test accuracy {usps:.4f}" if usps is not None else ""),
        f"threshold {metrics['threshold']:.4f}: flags {metrics['mnist_test_flag_rate']:.2%} of MNIST test digits, "
        f"{metrics['nondigit_flag_rate']:.2%} of held-out non-digit crops",
        f"temperature {metrics['temperature']:.3f}: ECE on MNIST test {metrics['ece_test_before']:.4f} -> "
        f"{metrics['ece_test_after']:.4f}; training {metrics['training_seconds'] / 60:.1f} min wall, "
        f"{metrics['training_cpu_seconds'] / 60:.1f} min CPU",
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_train_arguments(parser)
    train(options_from_args(parser.parse_args(argv)))


if __name__ == "__main__":
    main()

