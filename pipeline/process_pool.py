"""A process pool executor: each worker loads the model once and keeps numerical libraries to
one thread, so N workers use N cores without oversubscription."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_END = object()
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_THREAD_LIMIT")


def _watch_parent(parent: int) -> None:
    # A worker whose run was killed (SIGKILL, OOM) would otherwise live on: the forkserver, its
    # direct parent, stays alive as long as its children do.
    while True:
        time.sleep(0.5)
        try:
            os.kill(parent, 0)
        except ProcessLookupError:
            os._exit(1)
        except PermissionError:  # the pid exists (reused by another user's process: rare)
            pass


def _start_worker(parent: int, initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    # Ctrl-C reaches the whole process group: only the parent handles it (no worker tracebacks).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()
    for name in THREAD_VARIABLES:  # before numpy/OpenBLAS are imported by the first task
        os.environ[name] = "1"
    import cv2

    cv2.setNumThreads(1)
    if initializer is not None:
        initializer(*initargs)


class ProcessExecutor:
    """Up to ``max_in_flight`` tasks in flight (default 2 per worker), results yielded as they
    finish: the task iterable is consumed lazily, so memory stays bounded whatever its length.

    ``initializer(*initargs)`` runs once in every worker (e.g. to load the model)."""

    def __init__(self, workers: int, initializer: Callable[..., Any] | None = None,
                 initargs: tuple = (), max_in_flight: int | None = None):
        self.workers = workers
        self.max_in_flight = max_in_flight or 2 * workers
        self._initargs = (os.getpid(), initializer, initargs)
        self.pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        # forkserver: workers start from a clean process, not a fork of a threaded parent.
        method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
        return ProcessPoolExecutor(self.workers, mp_context=mp.get_context(method),
                                   initializer=_start_worker, initargs=self._initargs)

    def map(self, fn: Callable[[T], R], tasks: Iterable[T],
            on_crash: Callable[[T], R] | None = None) -> Iterator[R]:
        """``fn`` over ``tasks``. A worker that dies (killed, out of memory, a crash in native
        code) breaks the whole pool: with ``on_crash`` the pool is restarted, the tasks that were
        in flight are run again one at a time, and one that kills its worker even alone gives
        ``on_crash(task)`` instead of a result. Without it, BrokenProcessPool is raised."""
        source = iter(tasks)
        pending: dict[Future, T] = {}
        alone: deque[T] = deque()  # in flight when a worker died: each rerun on its own
        unsent: deque[T] = deque()  # refused by a pool that broke meanwhile: never ran
        while True:
            broken = False
            while len(pending) < (1 if alone else self.max_in_flight):
                queue = alone if alone else (unsent if unsent else None)
                task = queue.popleft() if queue is not None else next(source, _END)
                if task is _END:
                    break
                try:
                    pending[self.pool.submit(fn, task)] = task
                except BrokenProcessPool:
                    # A worker died since the last wait: its task's failure is still to come.
                    if on_crash is None:
                        raise
                    (unsent if queue is None else queue).appendleft(task)  # it never ran
                    broken = True
                    break
            if not pending and not broken:  # nothing left to run
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED) if pending else (set(), set())
            for future in done:
                task = pending.pop(future)
                try:
                    result = future.result()
                except BrokenProcessPool:
                    if on_crash is None:
                        raise
                    if not pending and not broken:  # it ran alone: it is the one that kills
                        yield on_crash(task)
                    else:
                        alone.append(task)
                    broken = True
                    continue
                yield result
            if broken:
                alone.extend(pending.values())  # every other task in flight failed with it
                pending.clear()
                # Not shutdown(wait=True): joining a broken pool can hang for good (its manager
                # thread waiting on a worker it never hears from again; seen in this test suite).
                self._stop_pool()
                self.pool = self._new_pool()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for measurements)."""
        return [p.pid for p in (getattr(self.pool, "_processes", None) or {}).values() if p.is_alive()]

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop now (Ctrl-C): queued tasks are dropped and running ones killed; whatever was
        written so far stays valid (see pipeline.export)."""
        self._stop_pool()

    def _stop_pool(self) -> None:
        """Drop the pool's queued tasks and kill its workers, without waiting on the pool."""
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        results = getattr(self.pool, "_result_queue", None)  # shutdown forgets it
        self.pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:  # no public API before Python 3.14 (terminate_workers)
            if process.is_alive():
                process.terminate()
        for process in processes:
            process.join(timeout=5)
        # A worker killed while sending its result leaves half a message in the result pipe: the
        # pool's manager thread waits for the rest for ever, and so does the interpreter, which
        # joins that thread at exit. With the workers gone, closing this process's write end
        # turns the wait into an end of file (no public API does it).
        writer = getattr(results, "_writer", None)
        if writer is not None and not any(process.is_alive() for process in processes):
            writer.close()
