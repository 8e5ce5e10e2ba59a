"""Command-line entry points: ``review`` (serve the app) and ``export`` (apply decisions)."""
from __future__ import annotations

import argparse
import ipaddress
import secrets
import sys
import threading
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

from review.data import DIGITS, orig_path

MAX_LISTED = 20  # stale decisions listed by `export` (all of them are in the API's summary)


def start_server(results_dir: Path, host: str = "127.0.0.1", port: int = 0,
                 db_url: str | None = None, reviewer: str | None = None,
                 token: str | None = None) -> tuple[BaseWSGIServer, str]:
    """A threaded server for the app (not yet serving) and its address with the token."""
    from review.app import create_app

    token = token or secrets.token_urlsafe(24)
    app = create_app(Path(results_dir), token, db_url=db_url, reviewer=reviewer)
    server = make_server(host, port, app, threaded=True)
    shown = f"[{host}]" if ":" in host else host
    return server, f"http://{shown}:{server.server_port}/?token={token}"


def serve(results_dir: Path, host: str = "127.0.0.1", port: int = 0, db_url: str | None = None,
          reviewer: str | None = None) -> None:
    """Serve the review until Ctrl-C; prints the address, which carries the access token."""
    server, url = start_server(results_dir, host, port, db_url, reviewer)
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        print(f"warning: serving on {host} over plain HTTP; anyone who sees the address can review",
              file=sys.stderr)
    print(f"Review {results_dir} at {url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve_in_thread(results_dir: Path, **kwargs) -> tuple[BaseWSGIServer, threading.Thread, str]:
    """For tests and notebooks: serve in a daemon thread; stop with ``server.shutdown()``."""
    server, url = start_server(results_dir, **kwargs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread, url


def _check_results(results_dir: Path) -> str | None:
    if not results_dir.is_dir():
        return f"no such results folder: {results_dir}"
    if not (results_dir / DIGITS).is_file() and not orig_path(results_dir / DIGITS).is_file():
        return f"{results_dir} has no {DIGITS}: run `python cli.py run ... --out {results_dir}` first"
    return None


def add_review_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="results folder written by `run`")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="SQLAlchemy database URL (default: sqlite results/results.db)")
    parser.add_argument("--reviewer", metavar="NAME", default=None,
                        help="name recorded with decisions (the page can change it)")


def review_main(args: argparse.Namespace) -> int:
    problem = _check_results(args.results)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535:
        print("error: --port must be 0-65535", file=sys.stderr)
        return 2
    serve(args.results, host=args.host, port=args.port, db_url=args.db, reviewer=args.reviewer)
    return 0


def add_export_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", type=Path, help="results folder written by `run`")
    parser.add_argument("--db", metavar="URL", default=None,
                        help="SQLAlchemy database URL (default: sqlite results/results.db)")


def export_main(args: argparse.Namespace) -> int:
    from review.export import ExportError, export_results

    problem = _check_results(args.results)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        summary = export_results(args.results, args.db)
    except ExportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"exported {args.results}: {summary.decisions} decisions applied, {summary.corrected} "
          f"digits corrected, {summary.removed} marked not a digit, "
          f"{summary.strings_changed} strings changed")
    if summary.moved:
        print(f"{summary.moved} decisions followed their digit to a new string/index "
              f"(the pipeline ran again)")
    if summary.stale:
        print(f"warning: {summary.stale} stale decisions not applied: their digit is no longer in "
              f"{DIGITS} (the pipeline ran again and read it differently, or not at all):",
              file=sys.stderr)
        for d in summary.stale_decisions[:MAX_LISTED]:
            print(f"  {d['file']} page {d['page']} string {d['string_id']} index {d['index']} "
                  f"box {d['box'] or '?'}: {d['decision']!r} by {d['reviewer']} at {d['time']}",
                  file=sys.stderr)
        if summary.stale > MAX_LISTED:
            print(f"  ... and {summary.stale - MAX_LISTED} more", file=sys.stderr)
    if summary.mismatched:
        print(f"warning: {summary.mismatched} digits whose position in the text did not match",
              file=sys.stderr)
    return 0
