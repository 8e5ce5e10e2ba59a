"""Where page work runs. The batch code only calls ``map``; how the work is spread is chosen here."""
from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map(self, fn: Callable[[T], R], tasks: Iterable[T],
            on_crash: Callable[[T], R] | None = None) -> Iterator[R]:
        """Results of ``fn`` over ``tasks``, yielded as they finish (order not guaranteed);
        ``on_crash(task)`` stands for the result of a task whose process died reading it."""
        ...

    def close(self) -> None:
        """Finish: wait for the workers to exit."""
        ...

    def terminate(self) -> None:
        """Stop at once (interrupted run): running tasks may be lost."""
        ...


class SerialExecutor:
    """Runs every task in this process, in order: the reference for the others."""

    def __init__(self, initializer: Callable[..., Any] | None = None, initargs: tuple = ()):
        if initializer is not None:
            initializer(*initargs)

    def map(self, fn: Callable[[T], R], tasks: Iterable[T],
            on_crash: Callable[[T], R] | None = None) -> Iterator[R]:
        for task in tasks:  # a crash here ends this process: nothing to stand in for
            yield fn(task)

    def close(self) -> None:
        pass

    def terminate(self) -> None:
        pass


def available_cores() -> int:
    """Cores this process may run on (the CPU affinity where the OS has one, else os.cpu_count())."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def make_executor(workers: int, initializer: Callable[..., Any] | None = None,
                  initargs: tuple = ()) -> Executor:
    """A serial executor for one worker, else a process pool of ``workers`` processes; either
    runs ``initializer(*initargs)`` once per process that reads pages."""
    if workers <= 1:
        return SerialExecutor(initializer, initargs)
    from pipeline.process_pool import ProcessExecutor

    return ProcessExecutor(workers, initializer, initargs)
