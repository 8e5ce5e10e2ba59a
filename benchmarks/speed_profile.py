"""Where the time of one page goes: CPU seconds per stage of pipeline.page.read_page (each stage's
own time, nested stages subtracted), then the hottest functions by cProfile."""
from __future__ import annotations

import cProfile
import importlib
import io
import pstats
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the checkout, not an installed copy

import pipeline.page as page_module  # noqa: E402
from pipeline.load import iter_pages  # noqa: E402
from pipeline.options import ReadOptions  # noqa: E402
from pipeline.run import shared_classifier  # noqa: E402

# Names in pipeline.page's namespace worth timing (those missing in this version are skipped).
STAGES = ("preprocess", "plan_page", "take_ink", "segment_page", "region_marks", "batch_to_mnist",
          "draw_overlay", "_add_crops")
# Inside segmentation: (module, name, label).
INNER = (("segmentation.segment", "split_touching", "segment: split_touching (rest)"),
         ("segmentation.touching", "batch_to_mnist", "segment: touching crops to 28x28"),
         ("segmentation.touching", "_read_pairs", "segment: pair reader"))


class StageClock:
    """Exclusive CPU time per stage: a stage's time excludes the stages called inside it."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._stack: list[float] = []  # time taken by nested stages, per open stage

    def wrap(self, name: str, fn: Callable) -> Callable:
        def timed(*args, **kwargs):
            self._stack.append(0.0)
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                spent = time.process_time() - started
                nested = self._stack.pop()
                self.cpu[name] += spent - nested
                self.calls[name] += 1
                if self._stack:
                    self._stack[-1] += spent
        return timed


class _TimedClassifier:
    def __init__(self, inner, clock: StageClock):
        self.labels, self.threshold = inner.labels, inner.threshold
        self.pairs = getattr(inner, "pairs", None)  # timed as "segment: pair reader"
        self.digits = 0
        self._predict = clock.wrap("classifier.predict", inner.predict)

    def predict(self, images: np.ndarray) -> np.ndarray:
        self.digits += len(images)
        return self._predict(images)


def profile_pages(paths: list[Path], options: ReadOptions = ReadOptions()) -> str:
    """A report of the per-page CPU time by stage, over ``paths`` (one page each)."""
    classifier = shared_classifier(options.model_dir)
    images = []
    clock = StageClock()
    load = clock.wrap("load (decode)", lambda p: next(iter_pages(p))[1])
    for path in paths:
        images.append(load(path))
    read_page = page_module.read_page
    timed = _TimedClassifier(classifier, clock)
    originals = {name: getattr(page_module, name) for name in STAGES if hasattr(page_module, name)}
    inner = []
    for module_name, name, label in INNER:
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        if hasattr(module, name):
            inner.append((module, name, label, getattr(module, name)))
    encode = cv2.imencode

    def imencode(ext, image, *args):
        kind = "overlay JPEG encode" if ext == ".jpg" else "crop PNG encode"
        return clock.wrap(kind, encode)(ext, image, *args)

    try:
        for name, fn in originals.items():
            setattr(page_module, name, clock.wrap(name, fn))
        for module, name, label, fn in inner:
            setattr(module, name, clock.wrap(label, fn))
        page_module.cv2.imencode = imencode
        started = time.process_time()
        for i, image in enumerate(images):
            clock.wrap("read_page (rest)", read_page)(image, timed, options, f"p{i}", 1)
        total = time.process_time() - started
    finally:
        for name, fn in originals.items():
            setattr(page_module, name, fn)
        for module, name, _, fn in inner:
            setattr(module, name, fn)
        page_module.cv2.imencode = encode
    n = len(images)
    lines = [f"CPU per page by stage, {n} A4 pages at 300 dpi, {timed.digits / n:.0f} classifier "
             f"inputs per page (read_page {total / n:.3f} s/page + decode {clock.cpu['load (decode)'] / n:.3f} s):"]
    for name, cpu in sorted(clock.cpu.items(), key=lambda kv: -kv[1]):
        share = cpu / (total + clock.cpu["load (decode)"])
        lines.append(f"  {name:34s} {cpu / n * 1000:8.1f} ms/page  {share:6.1%}  "
                     f"({clock.calls[name] / n:.1f} calls/page)")
    # Hot functions, by their own CPU time (cProfile adds overhead to many small calls: the stage
    # figures above are the ones to trust; this says where inside a stage to look).
    profiler = cProfile.Profile(time.process_time)  # CPU time: wall time on a busy machine misleads
    profiler.enable()
    for i, image in enumerate(images[: max(1, min(4, n))]):
        read_page(image, classifier, options, f"p{i}", 1)
    profiler.disable()
    buffer = io.StringIO()
    pstats.Stats(profiler, stream=buffer).sort_stats("tottime").print_stats(18)
    body = [line for line in buffer.getvalue().splitlines() if line.strip()]
    start = next((i for i, line in enumerate(body) if line.lstrip().startswith("ncalls")), 0)
    lines.append("hottest functions (cProfile, own time, first pages):")
    lines.extend("  " + line.strip() for line in body[start:])
    return "\n".join(lines)
