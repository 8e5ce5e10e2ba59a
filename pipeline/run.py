"""A batch run: find inputs, read their pages through an executor, write results as they come."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pipeline.executor import make_executor
from pipeline.export import ResultWriter
from pipeline.load import InputError, Limits, find_inputs, iter_pages
from pipeline.options import ReadOptions, RunOptions
from pipeline.page import read_page
from pipeline.results import PageResult


@dataclass(frozen=True)
class FileTask:
    """Everything a worker needs to read one input file (picklable)."""

    path: Path
    name: str
    dpi: int
    limits: Limits
    read: ReadOptions


@dataclass
class Summary:
    files: int = 0
    pages: int = 0
    strings: int = 0
    flagged: int = 0
    errors: int = 0
    seconds: float = 0.0
    failed_files: set[str] = field(default_factory=set)

    def line(self) -> str:
        return (f"{self.files} files, {self.pages} pages, {self.strings} strings, "
                f"{self.flagged} flagged, {self.errors} errors, {self.seconds:.1f} s")


@lru_cache(maxsize=2)
def shared_classifier(model_dir: Path | None):
    """The classifier, loaded once per process (imported here so workers stay TensorFlow-free)."""
    from classifier.runtime import DigitClassifier

    return DigitClassifier(model_dir) if model_dir else DigitClassifier()


def read_file(task: FileTask) -> list[PageResult]:
    """Every page of one input file; failures become results with an ``error``, never exceptions."""
    results: list[PageResult] = []
    try:
        classifier = shared_classifier(task.read.model_dir)
        for number, image in iter_pages(task.path, task.dpi, task.limits):
            try:
                results.append(read_page(image, classifier, task.read, task.name, number))
            except Exception as error:  # one bad page must not lose the others
                results.append(PageResult(task.name, number, error=f"could not read this page ({error})"))
    except InputError as error:
        results.append(PageResult(task.name, len(results) + 1, error=str(error)))
    except (MemoryError, OSError, ValueError) as error:
        results.append(PageResult(task.name, len(results) + 1,
                                  error=f"could not read this file ({type(error).__name__}: {error})"))
    return results


def run(options: RunOptions) -> Summary:
    """Read every page under ``options.inputs`` and write the results into ``options.out``."""
    from tqdm import tqdm

    started = time.perf_counter()
    summary = Summary()
    inputs = find_inputs(options.inputs)
    writer = ResultWriter(options.out)
    tasks = (FileTask(path, name, options.dpi, options.limits, options.read) for path, name in inputs)
    executor = make_executor(options.workers)
    bar = tqdm(total=len(inputs), unit="file", disable=not options.progress)
    try:
        for results in executor.map(read_file, tasks):
            summary.files += 1
            for result in results:
                writer.add(result)
                if result.error:
                    summary.errors += 1
                    summary.failed_files.add(result.file)
                else:
                    summary.pages += 1
                    summary.strings += len(result.strings)
                    summary.flagged += sum(s.flagged for s in result.strings)
            bar.update(1)
            bar.set_postfix(pages=summary.pages, flagged=summary.flagged, errors=summary.errors)
    finally:
        bar.close()
        executor.close()
    summary.seconds = time.perf_counter() - started
    return summary
