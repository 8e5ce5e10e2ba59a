"""Where page work runs. The batch code only calls ``map``; how the work is spread is chosen here."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        """Results of ``fn`` over ``tasks``, yielded as they finish (order not guaranteed)."""
        ...

    def close(self) -> None: ...


class SerialExecutor:
    """Runs every task in this process, in order. The default, and the reference for the others."""

    def map(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[R]:
        for task in tasks:
            yield fn(task)

    def close(self) -> None:
        pass


def make_executor(workers: int) -> Executor:
    """A serial executor for one worker, else a process pool of ``workers`` processes."""
    if workers <= 1:
        return SerialExecutor()
    from pipeline.process_pool import ProcessExecutor

    return ProcessExecutor(workers)
