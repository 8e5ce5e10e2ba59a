"""``python -m review review results/`` / ``python -m review export results/`` until cli.py wires them."""
from __future__ import annotations

import argparse
import sys

from review.server import add_export_arguments, add_review_arguments, export_main, review_main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m review")
    sub = parser.add_subparsers(dest="command", required=True)
    add_review_arguments(sub.add_parser("review", help="review flagged digits in a browser"))
    add_export_arguments(sub.add_parser("export", help="apply review decisions to the CSVs"))
    args = parser.parse_args(argv)
    return review_main(args) if args.command == "review" else export_main(args)


if __name__ == "__main__":
    sys.exit(main())
