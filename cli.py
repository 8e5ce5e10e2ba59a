"""Command line: read handwritten digits from scanned pages, train the classifier, evaluate, review.

    python cli.py run scans/ --out results/
    python cli.py evaluate results/ --truth samples/truth.csv
    python cli.py train --mnist ../shared/data/mnist
    python cli.py train --corrections results/results.db   (fine-tune on reviewed digits)
    python cli.py review results/        (then: python cli.py export results/)

Each command imports only what it needs: reading pages never imports TensorFlow.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE = 0, 1, 2


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, help="image/PDF files or folders (searched recursively)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="results folder (default: results/)")
    parser.add_argument("--dpi", type=int, default=300, help="resolution PDFs are rendered at (default: 300)")
    parser.add_argument("--threshold", type=float, default=None,
                        help="flag digits whose confidence is below this (default: the model card's, "
                             "chosen from the error-reject curve)")
    parser.add_argument("--binarization", choices=["sauvola", "otsu"], default="sauvola")
    parser.add_argument("--no-deskew", action="store_true", help="do not straighten skewed pages")
    parser.add_argument("--keep-lines", action="store_true", help="do not remove ruling lines and box frames")
    parser.add_argument("--no-overlays", action="store_true", help="do not write overlays/")
    parser.add_argument("--template", type=Path, default=None,
                        help="form template (YAML, see samples/forms/README.md): register every page to it "
                             "and write its fields, one row per page, to fields.csv")
    parser.add_argument("--cheque", action="store_true",
                        help="the pages are cheques: read the amount and the date into fields.csv")
    parser.add_argument("--workers", type=int, default=0,
                        help="worker processes (default: every core; 1 = serial, in this process); "
                             "with --engine ray: actors (default: the cluster's CPUs)")
    parser.add_argument("--resume", action="store_true",
                        help="keep the pages already complete in --out (an interrupted run) and read the rest")
    parser.add_argument("--engine", choices=["local", "ray"], default="local",
                        help="local: this machine (default); ray: a Ray cluster (pip install .[cluster])")
    parser.add_argument("--ray-address", default=None,
                        help="Ray cluster to join, e.g. auto or ray://head:10001 (default: start a local Ray)")
    parser.add_argument("--model-dir", type=Path, default=None, help="folder with digits.tflite and model_card.json")
    parser.add_argument("--max-pixels", type=int, default=None, help="refuse images with more pixels than this")
    parser.add_argument("--max-pages", type=int, default=None, help="refuse documents with more pages than this")
    parser.add_argument("--max-mb", type=float, default=None, help="refuse files larger than this many MB")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _run(args: argparse.Namespace) -> int:
    from pipeline.load import Limits
    from pipeline.options import ReadOptions, RunOptions
    from pipeline.run import run

    missing = [str(p) for p in args.inputs if not p.exists()]
    if missing:
        print(f"error: input not found: {', '.join(missing)}", file=sys.stderr)
        return EXIT_USAGE
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        print("error: --threshold must be between 0 and 1", file=sys.stderr)
        return EXIT_USAGE
    if args.dpi < 30 or args.dpi > 1200:
        print("error: --dpi must be between 30 and 1200", file=sys.stderr)
        return EXIT_USAGE
    limits = Limits()
    if any(value is not None and value <= 0 for value in (args.max_pixels, args.max_pages, args.max_mb)):
        print("error: --max-pixels, --max-pages and --max-mb must be positive", file=sys.stderr)
        return EXIT_USAGE
    overrides = {"max_pixels": args.max_pixels, "max_pages": args.max_pages,
                 "max_bytes": int(args.max_mb * 2**20) if args.max_mb is not None else None}
    limits = Limits(**{**vars(limits), **{k: v for k, v in overrides.items() if v is not None}})
    read = ReadOptions(binarization=args.binarization, deskew=not args.no_deskew,
                       remove_lines=not args.keep_lines, threshold=args.threshold,
                       overlays=not args.no_overlays, model_dir=args.model_dir,
                       template=args.template.resolve() if args.template else None, cheque=args.cheque)
    if args.template is not None and args.cheque:
        print("error: use --template or --cheque, not both", file=sys.stderr)
        return EXIT_USAGE
    if args.template is not None:
        from forms.template import TemplateError, load_template

        try:
            load_template(args.template.resolve())  # a bad template fails here, not on every page
        except TemplateError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    if args.workers < 0:
        print("error: --workers must be 0 (every core) or more", file=sys.stderr)
        return EXIT_USAGE
    if args.ray_address and args.engine != "ray":
        print("error: --ray-address needs --engine ray", file=sys.stderr)
        return EXIT_USAGE
    options = RunOptions(inputs=list(args.inputs), out=args.out, dpi=args.dpi, read=read, limits=limits,
                         workers=args.workers, progress=not args.quiet, resume=args.resume,
                         engine=args.engine, ray_address=args.ray_address)
    try:
        # Check the model here, once: a foreign or corrupt file is a usage error, not one per worker.
        from pipeline.run import shared_classifier

        shared_classifier(read.model_dir)
        summary = run(options)
    except KeyboardInterrupt:
        # Every CSV line on disk is complete: say how to go on rather than print a traceback.
        print(f"\ninterrupted: the pages finished so far are in {options.out}; "
              "run the same command with --resume to read the rest", file=sys.stderr)
        return 130  # 128 + SIGINT, as shells report an interrupted command
    except (ValueError, FileNotFoundError) as error:  # e.g. a foreign or missing model file, no Ray
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if summary.files == 0:
        print("error: no images or PDFs found in the inputs given", file=sys.stderr)
        return EXIT_USAGE
    print(f"done: {summary.line()} -> {options.out}")
    if summary.errors:
        print(f"{summary.errors} inputs could not be read: see {options.out / 'errors.csv'}")
    return EXIT_SOME_FAILED if summary.errors else EXIT_OK


def _add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="results folder of a run")
    parser.add_argument("--truth", type=Path, required=True, help="truth CSV: file, page, x, y, w, h, text")
    parser.add_argument("--sweep", action="store_true",
                        help="also show the flagged share and unflagged accuracy other --threshold values would give")


def _evaluate(args: argparse.Namespace) -> int:
    from pipeline.evaluate import evaluate, format_report, format_sweep, threshold_sweep

    for path in (args.results / "strings.csv", args.truth):
        if not path.is_file():
            print(f"error: {path} not found", file=sys.stderr)
            return EXIT_USAGE
    print(format_report(evaluate(args.results, args.truth)))
    if args.sweep:
        if not (args.results / "digits.csv").is_file():
            print(f"error: {args.results / 'digits.csv'} not found (needed for --sweep)", file=sys.stderr)
            return EXIT_USAGE
        try:
            print("\n" + format_sweep(threshold_sweep(args.results, args.truth)))
        except ValueError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_USAGE
    return EXIT_OK


def _train(args: argparse.Namespace) -> int:
    from classifier.train import TrainingRefused, options_from_args, train

    try:
        train(options_from_args(args))
    except (TrainingRefused, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


def _train_pairs(args: argparse.Namespace) -> int:
    from classifier.pair_model import options_from_args, train_pairs

    try:
        card = train_pairs(options_from_args(args))
    except (FileNotFoundError, ValueError) as error:  # missing or foreign MNIST files
        print(f"error: {error}", file=sys.stderr)
        return EXIT_SOME_FAILED
    print(f"pair reader: {card['metrics']['test_pair_accuracy']:.2%} of {card['metrics']['test_pairs']} "
          f"test pairs read right -> {args.out}")
    return EXIT_OK


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; a command's heavy options (training) are only built when that command is used."""
    parser = argparse.ArgumentParser(prog="cli.py", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    _add_run_arguments(commands.add_parser("run", help="read every digit string in scanned pages"))
    _add_evaluate_arguments(commands.add_parser("evaluate", help="score a run against ground truth"))
    train = commands.add_parser("train", help="train the digit classifier (needs TensorFlow)")
    train_pairs = commands.add_parser("train-pairs", help="train the reader of touching digit pairs (needs TensorFlow)")
    review = commands.add_parser("review", help="review flagged digits in the browser")
    export = commands.add_parser("export", help="rewrite the CSVs with the review decisions applied")
    if command == "train":
        from classifier.train import add_train_arguments

        add_train_arguments(train)
    elif command == "train-pairs":
        from classifier.pair_model import add_arguments

        add_arguments(train_pairs)
    elif command in ("review", "export"):
        from review.server import add_export_arguments, add_review_arguments

        add_review_arguments(review)
        add_export_arguments(export)
    return parser


def _review(args: argparse.Namespace) -> int:
    from review.server import review_main

    return review_main(args)


def _export(args: argparse.Namespace) -> int:
    from review.server import export_main

    return export_main(args)


HANDLERS = {"run": _run, "evaluate": _evaluate, "train": _train, "train-pairs": _train_pairs, "review": _review, "export": _export}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    return HANDLERS[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
