"""Speed, side by side with Tesseract, on N generated A4 pages at 300 dpi (default 200).

    python benchmarks/speed.py                     # every figure (pages cached after the first run)
    python benchmarks/speed.py --pages 40 --repeat 3
    python benchmarks/speed.py --memory            # memory after 100 and 1,000 pages (cycled)
    python benchmarks/speed.py --profile 10        # where a page's time goes

Prints pages per second (whole command, and steady state once started), CPU seconds per page,
the ratio to Tesseract, string accuracy of both, classifier digits per second, cold start, peak
memory per worker, 1 -> 2 worker speed-up, and which targets are missed. Every figure comes with
the machine's load at the time: on a shared machine, CPU seconds are the steadier figure.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from speed_pages import cycled_view, ensure_pages, page_name  # noqa: E402
from speed_procs import Watched, machine_load, watch  # noqa: E402

from pipeline.evaluate import evaluate  # noqa: E402
from pipeline.executor import available_cores  # noqa: E402

TARGETS = {"pages_per_s": 8.0, "pages_per_s_cpu": 8.0, "vs_tesseract": 3.0, "vs_tesseract_cpu": 3.0,
           "digits_per_s": 5000.0, "digits_per_s_machine": 5000.0, "cold_start_s": 1.5, "worker_peak_mb": 400.0, "speedup_1_to_2": 1.7}
# *_cpu: from CPU seconds per page (cores / CPU s per page), the figure to trust on a shared machine.
# digits_per_s: one core (a worker's share); digits_per_s_machine: every core, like pages/s.


def cli_run(inputs: Path, out: Path, workers: int, extra: list[str] = (), marks=None) -> Watched:
    command = [sys.executable, str(ROOT / "cli.py"), "run", str(inputs), "--out", str(out),
               "--workers", str(workers), "--quiet", *extra]
    result = watch(command, out / "pages.csv", marks=marks, cwd=ROOT)
    if result.returncode not in (0, 1):
        raise RuntimeError(f"cli.py run failed ({result.returncode}):\n{result.output[-2000:]}")
    return result


def describe(name: str, run: Watched, n: int) -> str:
    workers = [p for p in run.procs if p.role == "worker"]
    peak = max((p.peak for p in workers), default=float("nan"))
    main = sum(p.cpu for p in run.procs if p.role == "main")
    return (f"{name}: {n} pages in {run.wall:.1f} s = {n / run.wall:.2f} pages/s whole command "
            f"(first page after {run.first_page:.1f} s; steady {run.steady_rate:.2f} pages/s); "
            f"CPU {run.cpu:.0f} s = {run.cpu / n:.2f} CPU s/page (main process {main:.1f} s); "
            f"peak RSS per worker {peak:.0f} MB  "
            f"[{machine_load()}]")


def accuracy(results: Path, truth, found=None) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        truth_csv = Path(tmp) / "truth.csv"
        truth.to_csv(truth_csv, index=False)
        if found is not None:
            found.to_csv(Path(tmp) / "strings.csv", index=False)
            results = Path(tmp)
        return evaluate(results, truth_csv)["string_accuracy"]


def classifier_throughput(n: int = 20_000, batch: int = 4096, threads: int = 1) -> float:
    """Digits per second of DigitClassifier.predict, batched: with one thread (as in a worker)
    per CPU second; with more, per second on the clock (best of three runs)."""
    from classifier.runtime import DigitClassifier

    data = np.load(ROOT / "tests" / "fixtures" / "mnist_test_200.npz")["images"].astype(np.float32) / 255.0
    images = np.resize(data, (n, 28, 28)).astype(np.float32)
    classifier = DigitClassifier(threads=threads)
    classifier.predict(images[:batch])  # plan the interpreter for this batch size
    clock = time.process_time if threads == 1 else time.perf_counter
    best = float("inf")
    for _ in range(1 if threads == 1 else 3):
        started = clock()
        for i in range(0, n, batch):
            classifier.predict(images[i: i + batch])
        best = min(best, clock() - started)
    return n / best


def cold_start(image: Path, out: Path, repeat: int = 5) -> tuple[float, float]:
    """Median (wall, CPU) seconds of ``cli.py run image`` (serial: one image needs no pool),
    start to exit. On a busy machine the CPU seconds say what an idle one would take."""
    runs = [cli_run(image, out / f"cold{i}", workers=0) for i in range(repeat)]
    return statistics.median(r.wall for r in runs), statistics.median(r.cpu for r in runs)


def memory_mode(args) -> None:
    cycle = min(args.pages, 20)
    view = cycled_view(cycle, args.memory_pages, args.cache, args.seed)
    seen: dict[int, tuple[float, float, str]] = {}

    def snapshot(label: int):
        def take(sampler):
            main = sum(p.rss for p in sampler.by_role("main"))
            workers = [p.rss for p in sampler.by_role("worker")]
            seen[label] = (main, max(workers, default=0.0), f"[{machine_load()}]")
        return take

    last = args.memory_pages - 2 * args.workers
    marks = {n: snapshot(n) for n in (10, 100, args.memory_pages // 2, last)}
    with tempfile.TemporaryDirectory() as tmp:
        run = cli_run(view, Path(tmp) / "out", args.workers, ["--no-overlays"] if args.no_overlays else [],
                      marks=marks)
    print(describe(f"memory run ({args.memory_pages} pages cycling {cycle})", run, run.pages))
    for n, (main, worker, load) in seen.items():
        print(f"  resident after {n:5d} pages: main {main:.0f} MB, largest worker {worker:.0f} MB  {load}")
    if 100 in seen and last in seen:
        grew = max(seen[last][0] - seen[100][0], seen[last][1] - seen[100][1])
        print(f"  growth from 100 to {last} pages: {grew:+.0f} MB: "
              f"{'flat (met)' if grew < 25 else 'GROWS (missed)'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=200, help="A4 pages at 300 dpi (default 200)")
    parser.add_argument("--workers", type=int, default=available_cores(), help="default: every core")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each throughput figure (median)")
    parser.add_argument("--cache", type=Path, default=None, help="page cache (default ~/.cache/digitreader)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scaling-pages", type=int, default=24, help="pages for the 1 -> 2 worker figure")
    parser.add_argument("--no-tesseract", action="store_true")
    parser.add_argument("--no-overlays", action="store_true", help="measure runs with --no-overlays")
    parser.add_argument("--memory", action="store_true", help="only the memory figure (1,000 pages cycled)")
    parser.add_argument("--memory-pages", type=int, default=1000)
    parser.add_argument("--profile", type=int, default=0, metavar="K", help="only: profile K pages")
    args = parser.parse_args(argv)

    print(f"machine: {os.cpu_count()} cores, {available_cores()} available; {machine_load()}")
    if args.memory:
        memory_mode(args)
        return 0
    view, truth = ensure_pages(args.pages, args.cache, args.seed)
    if args.profile:
        from speed_profile import profile_pages

        print(profile_pages([view / page_name(i) for i in range(min(args.profile, args.pages))]))
        return 0
    extra = ["--no-overlays"] if args.no_overlays else []
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # 1. Throughput and accuracy, every core.
        runs = [cli_run(view, tmp / f"ours{r}", args.workers, extra) for r in range(args.repeat)]
        for r, run in enumerate(runs):
            print(describe(f"digitreader, {args.workers} workers{' (no overlays)' if extra else ''}, run {r + 1}",
                           run, args.pages))
        ours = statistics.median(args.pages / run.wall for run in runs)
        figures["pages_per_s"] = ours
        # What the same work would give with the cores to ourselves (CPU-bound, no start-up).
        figures["pages_per_s_cpu"] = args.workers / statistics.median(run.cpu / args.pages for run in runs)
        figures["worker_peak_mb"] = max(p.peak for run in runs for p in run.procs if p.role == "worker") \
            if any(p.role == "worker" for run in runs for p in run.procs) else float("nan")
        ours_acc = accuracy(tmp / "ours0", truth)
        print(f"digitreader string accuracy {ours_acc:.2%} ({len(truth)} strings)")

        # 2. Tesseract, one single-threaded process per core, same pages.
        if not args.no_tesseract:
            from speed_tesseract import available, run_tesseract

            if available():
                pages = [view / page_name(i) for i in range(args.pages)]
                tess = run_tesseract(pages, args.workers)
                rate = args.pages / tess.wall
                print(f"{tess.version}, {args.workers} processes: {args.pages} pages in {tess.wall:.1f} s = "
                      f"{rate:.2f} pages/s; CPU {tess.cpu:.0f} s = {tess.cpu / args.pages:.2f} CPU s/page  "
                      f"[{machine_load()}]")
                print(f"tesseract string accuracy {accuracy(None, truth, tess.strings):.2%} "
                      f"(--psm 11, whitelist digits and . , / -, words matched by IoU as in pipeline/evaluate.py)")
                figures["vs_tesseract"] = ours / rate
                ours_cpu = statistics.median(r.cpu / args.pages for r in runs)
                figures["vs_tesseract_cpu"] = (tess.cpu / args.pages) / ours_cpu
                print(f"ratio, pages/s: {figures['vs_tesseract']:.2f}x Tesseract; from CPU s per page: "
                      f"{figures['vs_tesseract_cpu']:.2f}x")
            else:
                print("tesseract not installed (apt-get install -y tesseract-ocr): no comparison")

        # 3. Classifier alone.
        figures["digits_per_s"] = classifier_throughput()
        cores = available_cores()
        figures["digits_per_s_machine"] = classifier_throughput(threads=cores)
        print(f"classifier: {figures['digits_per_s']:.0f} digits/s batched, one thread (per CPU second); "
              f"{figures['digits_per_s_machine']:.0f} digits/s with {cores} threads (on the clock)  [{machine_load()}]")

        # 4. Cold start: a field crop, and one full page.
        crop = ROOT / "samples" / "crop_02.png"
        figures["cold_start_s"], crop_cpu = cold_start(crop, tmp)
        a4, a4_cpu = cold_start(view / page_name(0), tmp, repeat=3)
        print(f"cold start, `cli.py run one.png` to exit (median): field crop {figures['cold_start_s']:.2f} s "
              f"({crop_cpu:.2f} CPU s), one A4 page {a4:.2f} s ({a4_cpu:.2f} CPU s)  [{machine_load()}]")

        # 5. One worker against two, same pages.
        n = min(args.scaling_pages, args.pages)
        if n > 0:  # --scaling-pages 0 leaves this figure out
            subset = ensure_pages(n, args.cache, args.seed)[0]
            scaling: dict[int, list[Watched]] = {1: [], 2: []}
            for r in range(args.repeat):  # interleaved, so a change in the machine's load hits both
                for workers in (1, 2):
                    run = cli_run(subset, tmp / f"scale{workers}_{r}", workers, extra)
                    scaling[workers].append(run)
                    print(describe(f"scaling, {workers} worker(s), run {r + 1}", run, n))
            rates = {w: statistics.median(run.steady_rate for run in runs) for w, runs in scaling.items()}
            cpus = {w: statistics.median(run.cpu / n for run in runs) for w, runs in scaling.items()}
            figures["speedup_1_to_2"] = rates[2] / rates[1]
            print(f"speed-up 1 -> 2 workers (steady pages/s, median of {args.repeat}): "
                  f"{figures['speedup_1_to_2']:.2f}x; CPU s/page {cpus[1]:.2f} -> {cpus[2]:.2f}")

    print("\ntargets:")
    for key, target in TARGETS.items():
        value = figures.get(key, float("nan"))
        lower_is_better = key in ("cold_start_s", "worker_peak_mb")
        met = (value <= target) if lower_is_better else (value >= target)
        state = "not measured" if math.isnan(value) else ("met" if met else "MISSED")
        print(f"  {key:17s} {value:10.2f}  target {'<=' if lower_is_better else '>='} {target:g}: {state}")
    print("  memory after 1,000 pages vs 100: run with --memory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
