"""The same batch run on a Ray cluster, with Ray Data (``cli.py run --engine ray``).

Inputs become a dataset of paths; a pool of actors, each holding the model, reads them page by
page (a generator, so a long PDF never sits in an actor's memory whole); this process gathers
the results as they stream in and writes the same CSVs, crops and overlays as a local run.
Paths must be readable at the same place on every node (a shared file system).
"""
from __future__ import annotations

import logging
import os
import pickle
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipeline.export import ResultWriter
from pipeline.load import Limits, find_inputs
from pipeline.options import ReadOptions, RunOptions
from pipeline.run import Summary, count_pages, iter_file_results, shared_classifier, unique_names

ROOT = Path(__file__).resolve().parents[1]
# What a cluster's workers need of this checkout when the package is not installed on them.
SHIPPED = ["pipeline", "segmentation", "classifier", "forms", "models"]


class PageReader:
    """A Ray Data actor: loads the model once, then reads whole files into one row per page."""

    def __init__(self, read: ReadOptions, dpi: int, limits: Limits):
        import cv2

        cv2.setNumThreads(1)  # one core per actor (Ray already sets OMP_NUM_THREADS to num_cpus)
        self.read, self.dpi, self.limits = read, dpi, limits
        shared_classifier(read.model_dir)

    def __call__(self, batch: dict[str, np.ndarray]) -> Iterator[dict[str, np.ndarray]]:
        for path, name, skip in zip(batch["path"], batch["name"], batch["skip"]):
            skipped = frozenset(int(n) for n in str(skip).split())
            for result in iter_file_results(Path(path), str(name), self.dpi, self.limits, self.read, skipped):
                # A PageResult (with its encoded images) travels as one pickled cell.
                yield {"result": np.array([pickle.dumps(result)], dtype=object)}


def _work_items(inputs: list[tuple[Path, str]], done: set[tuple[str, int]]) -> tuple[list[dict], int]:
    """(one row per file still to read, pages skipped as already done)."""
    by_file: dict[str, set[int]] = {}
    for file, number in done:
        by_file.setdefault(file, set()).add(number)
    items, skipped = [], 0
    for path, name in inputs:
        pages = by_file.get(name, set())
        _, count = count_pages(path) if pages else (False, None)
        if count is not None and pages >= set(range(1, count + 1)):
            skipped += count
            continue
        skipped += len(pages)
        items.append({"path": os.path.abspath(path), "name": name, "skip": " ".join(map(str, sorted(pages)))})
    return items, skipped


def _runtime_env(address: str | None) -> dict:
    # A local Ray sees this checkout; a remote cluster gets its code and model shipped.
    if address is None:
        return {"env_vars": {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}}
    return {"working_dir": str(ROOT),
            "excludes": [p.name + "/" for p in ROOT.iterdir() if p.is_dir() and p.name not in SHIPPED] + ["*.pyc"]}


def run_ray(options: RunOptions) -> Summary:
    """Read every page under ``options.inputs`` on Ray and write the results into ``options.out``."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise ValueError("--engine ray needs Ray: pip install '.[cluster]' (ray[data])") from None

    started = time.perf_counter()
    summary = Summary()
    inputs = unique_names(find_inputs(options.inputs))
    summary.files = len(inputs)
    writer = ResultWriter(options.out, resume=options.resume)
    items, summary.skipped = _work_items(inputs, writer.done)
    if not items:
        summary.seconds = time.perf_counter() - started
        return summary
    ours = not ray.is_initialized()
    if ours:
        ray.init(address=options.ray_address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING if options.progress else logging.ERROR,
                 runtime_env=_runtime_env(options.ray_address or os.environ.get("RAY_ADDRESS")))
    try:
        actors = options.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))
        actors = min(actors, len(items))
        ray.data.DataContext.get_current().enable_progress_bars = options.progress
        if not options.progress:
            logging.getLogger("ray.data").setLevel(logging.WARNING)
        # Small blocks spread files evenly over the actors (a block goes to one actor whole).
        blocks = min(len(items), 16 * actors)
        try:
            dataset = ray.data.from_items(items, override_num_blocks=blocks)
        except TypeError:  # Ray < 2.10
            dataset = ray.data.from_items(items, parallelism=blocks)
        dataset = dataset.map_batches(
            PageReader, batch_size=1, batch_format="numpy", num_cpus=1,
            compute=ray.data.ActorPoolStrategy(size=actors),
            fn_constructor_kwargs={"read": options.read, "dpi": options.dpi, "limits": options.limits})
        for row in dataset.iter_rows():
            result = pickle.loads(row["result"])
            writer.add(result)
            summary.add(result)
    finally:
        if ours:
            ray.shutdown()
    summary.seconds = time.perf_counter() - started
    return summary
