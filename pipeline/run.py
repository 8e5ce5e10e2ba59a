"""A batch run: find inputs, read their pages through an executor, write results as they come.

A task is one page. A single-page image is decoded by the worker itself, and so is each page of
a PDF whose page count is known (the worker renders just that page with poppler, so rendering
runs in parallel too); pages of a multi-page TIFF, and of PDFs that cannot be counted up front,
are decoded here one at a time (``iter_pages``) and shipped to a worker as an array. At most a
few pages per worker are in flight, so memory stays flat whatever the size of the batch or of
one PDF.
"""
from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

import numpy as np

from pipeline.executor import available_cores, make_executor
from pipeline.export import ResultWriter
from pipeline.load import IMAGE_SIGNATURES, InputError, Limits, find_inputs, iter_pages
from pipeline.options import ReadOptions, RunOptions
from pipeline.results import PageResult

PDFINFO_TIMEOUT_S = 60


@dataclass(frozen=True)
class FileTask:
    """Everything needed to read one input file (picklable)."""

    path: Path
    name: str
    dpi: int
    limits: Limits
    read: ReadOptions


@dataclass(frozen=True)
class PageTask:
    """One page for a worker: read from ``path`` by the worker (a single-page image, or page
    ``page`` of a PDF when ``render_page``), or already rendered as ``image``, or an ``error``
    found while rendering it."""

    name: str
    page: int
    read: ReadOptions
    path: Path | None = None
    image: np.ndarray | None = None
    error: str | None = None
    dpi: int = 300
    limits: Limits = field(default_factory=Limits)
    render_page: bool = False


@dataclass
class Summary:
    files: int = 0
    pages: int = 0
    strings: int = 0
    flagged: int = 0
    errors: int = 0
    skipped: int = 0  # pages already complete in the results folder (--resume)
    seconds: float = 0.0
    failed_files: set[str] = field(default_factory=set)

    def add(self, result: PageResult) -> None:
        if result.error:
            self.errors += 1
            self.failed_files.add(result.file)
        else:
            self.pages += 1
            self.strings += len(result.strings)
            self.flagged += sum(s.flagged for s in result.strings)

    def line(self) -> str:
        resumed = f" ({self.skipped} already done)" if self.skipped else ""
        return (f"{self.files} files, {self.pages} pages{resumed}, {self.strings} strings, "
                f"{self.flagged} flagged, {self.errors} errors, {self.seconds:.1f} s")


# --------------------------------------------------------------------------- in a worker

@lru_cache(maxsize=2)
def shared_classifier(model_dir: Path | None):
    """The classifier, loaded once per process (imported here so workers stay TensorFlow-free)."""
    from classifier.runtime import DigitClassifier

    return DigitClassifier(model_dir) if model_dir else DigitClassifier()


def warm_worker(model_dir: Path | None) -> None:
    """Pool initializer: load the model (and the page reader's modules) before the first page."""
    import pipeline.page  # noqa: F401

    shared_classifier(model_dir)


def _read_one(image: np.ndarray, name: str, number: int, read: ReadOptions) -> PageResult:
    from pipeline.page import read_page

    try:
        return read_page(image, shared_classifier(read.model_dir), read, name, number)
    except Exception as error:  # one bad page must not lose the others
        return PageResult(name, number, error=f"could not read this page ({error})")


def _file_error(name: str, number: int, error: Exception) -> PageResult:
    if isinstance(error, InputError):
        return PageResult(name, number, error=str(error))
    return PageResult(name, number, error=f"could not read this file ({type(error).__name__}: {error})")


def iter_file_results(path: Path, name: str, dpi: int, limits: Limits, read: ReadOptions,
                      skip: frozenset[int] = frozenset(), only: int | None = None) -> Iterator[PageResult]:
    """Every page of one file (or only page number ``only``) read in this process, one at a
    time, except the page numbers in ``skip``; failures become results with an ``error``,
    never exceptions."""
    number = 0 if only is None else only - 1
    try:
        for number, image in iter_pages(path, dpi, limits, page=only):
            if number not in skip:
                yield _read_one(image, name, number, read)
    except (InputError, MemoryError, OSError, ValueError) as error:
        yield _file_error(name, number + 1, error)


def read_file(task: FileTask) -> list[PageResult]:
    """Every page of one input file (the Python API's ``read_path``)."""
    return list(iter_file_results(task.path, task.name, task.dpi, task.limits, task.read))


def crashed(task: PageTask) -> list[PageResult]:
    """What a page whose worker died reading it (even when read alone) leaves in errors.csv."""
    return [PageResult(task.name, task.page, error="the process reading this page died "
                                                    "(out of memory, or a crash in a native library)")]


def read_task(task: PageTask) -> list[PageResult]:
    """The worker function: one page's result (a list, as a file given by path that turns out
    to hold several pages gives them all)."""
    if task.error is not None:
        return [PageResult(task.name, task.page, error=task.error)]
    if task.image is not None:
        return [_read_one(task.image, task.name, task.page, task.read)]
    only = task.page if task.render_page else None
    return list(iter_file_results(task.path, task.name, task.dpi, task.limits, task.read, only=only))


# --------------------------------------------------------------------------- planning

def unique_names(inputs: list[tuple[Path, str]]) -> list[tuple[Path, str]]:
    """``inputs`` with every name made unique: two inputs with the same relative name (``a/x.png``
    and ``b/x.png`` given as files, or two folders each holding ``x.png``) would mix their rows
    and overwrite each other's overlays. Clashing names get the parent folders of their paths
    prepended until they differ (``a/x.png``, ``b/x.png``); should that still clash with another
    input's name, ``~2``, ``~3``... is added. Deterministic, so a resumed run names them alike."""
    counts = Counter(name for _, name in inputs)
    if all(count == 1 for count in counts.values()):
        return inputs
    out = list(inputs)
    taken = {name for name, count in counts.items() if count == 1}
    for name in [name for name, count in counts.items() if count > 1]:
        members = [i for i, (_, n) in enumerate(inputs) if n == name]
        parts = [Path(os.path.abspath(inputs[i][0])).parts for i in members]
        keep = len(PurePosixPath(name).parts)
        while True:  # distinct paths differ somewhere, so this ends
            keep += 1
            candidates = ["/".join(p[-keep:]).lstrip("/") for p in parts]
            if len(set(candidates)) == len(candidates) or keep > max(map(len, parts)):
                break
        for rank, (i, candidate) in enumerate(zip(members, candidates), 1):
            if candidate in taken:
                plain = PurePosixPath(name)
                candidate = str(plain.with_name(f"{plain.stem}~{rank}{plain.suffix}"))
                while candidate in taken:
                    rank += len(members)
                    candidate = str(plain.with_name(f"{plain.stem}~{rank}{plain.suffix}"))
            taken.add(candidate)
            out[i] = (inputs[i][0], candidate)
    return out


def _is_pdf(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(1024)
    except OSError:
        return False
    return b"%PDF-" in head and not head.startswith(IMAGE_SIGNATURES)  # as pipeline.load decides


def count_pages(path: Path) -> tuple[bool, int | None]:
    """(is a PDF, number of pages) from the file's header alone; None where that cannot be
    told cheaply (the page reader then reports the reason)."""
    if _is_pdf(path):
        try:
            from pdf2image import pdfinfo_from_path

            return True, int(pdfinfo_from_path(str(path), timeout=PDFINFO_TIMEOUT_S).get("Pages", 0)) or None
        except Exception:
            return True, None
    try:
        from PIL import Image

        with Image.open(path) as image:
            return False, int(getattr(image, "n_frames", 1))
    except Exception:  # unreadable or hostile: the worker's iter_pages gives the reason
        return False, None


def _within_limits(path: Path, pages: int, limits: Limits) -> bool:
    """Whether a file passes the whole-file limits (size, page count): one that does not is
    read here, so its single reason is reported once, not once per page."""
    try:
        return pages <= limits.max_pages and path.stat().st_size <= limits.max_bytes
    except OSError:
        return False


class Planner:
    """Turns inputs into page tasks, skipping pages already done, and counts pages for the
    progress bar."""

    def __init__(self, options: RunOptions, inputs: list[tuple[Path, str]], done: set[tuple[str, int]]):
        self.options, self.inputs, self.done = options, inputs, done
        self.skipped = 0
        self.expected = len(inputs)  # pages, refined as files are opened

    def tasks(self) -> Iterator[PageTask]:
        o = self.options
        for path, name in self.inputs:
            is_pdf, count = count_pages(path)
            if count is not None:
                self.expected += count - 1
                done = sum((name, n) in self.done for n in range(1, count + 1))
                if done == count:
                    self.skipped += count
                    continue
            if not is_pdf and count in (1, None):  # one page: the worker decodes it
                yield PageTask(name, 1, o.read, path=path, dpi=o.dpi, limits=o.limits)
                continue
            if is_pdf and count is not None and _within_limits(path, count, o.limits):
                for number in range(1, count + 1):  # each worker renders its own page
                    if (name, number) in self.done:
                        self.skipped += 1
                    else:
                        yield PageTask(name, number, o.read, path=path, dpi=o.dpi, limits=o.limits,
                                       render_page=True)
                continue
            number = 0
            try:
                for number, image in iter_pages(path, o.dpi, o.limits):
                    if (name, number) in self.done:
                        self.skipped += 1
                        continue
                    yield PageTask(name, number, o.read, image=image)
            except (InputError, MemoryError, OSError, ValueError) as error:
                yield PageTask(name, number + 1, o.read, error=_file_error(name, number + 1, error).error)


def worker_count(options: RunOptions, inputs: list[tuple[Path, str]]) -> int:
    """``options.workers`` (0: every core), but no more than there are pages to read: a single
    image is read in this process, without a pool to start."""
    wanted = options.workers if options.workers > 0 else available_cores()
    if wanted > 1 and len(inputs) < wanted:
        pages = sum(count_pages(path)[1] or 1 for path, _ in inputs)
        wanted = min(wanted, pages)
    return max(1, wanted)


# --------------------------------------------------------------------------- the run

def run(options: RunOptions) -> Summary:
    """Read every page under ``options.inputs`` and write the results into ``options.out``.

    Raises KeyboardInterrupt on Ctrl-C after stopping the workers: what was written is valid
    and ``options.resume`` continues from it."""
    if options.engine == "ray":
        from pipeline.ray_engine import run_ray

        return run_ray(options)
    from tqdm import tqdm

    started = time.perf_counter()
    summary = Summary()
    inputs = unique_names(find_inputs(options.inputs))
    summary.files = len(inputs)
    writer = ResultWriter(options.out, resume=options.resume)
    planner = Planner(options, inputs, writer.done)
    executor = make_executor(worker_count(options, inputs), warm_worker, (options.read.model_dir,))
    bar = tqdm(total=len(inputs), unit="page", disable=not options.progress)
    finished = False
    try:
        for results in executor.map(read_task, planner.tasks(), on_crash=crashed):
            for result in results:
                writer.add(result)
                summary.add(result)
            bar.total = max(planner.expected - planner.skipped, bar.n + len(results))
            bar.update(len(results))
            bar.set_postfix(flagged=summary.flagged, errors=summary.errors, refresh=False)
        finished = True
    finally:
        bar.close()
        if finished:
            executor.close()
        else:  # Ctrl-C or a failure here: stop the workers now, what is written stays valid
            executor.terminate()
    summary.skipped = planner.skipped
    summary.seconds = time.perf_counter() - started
    return summary
