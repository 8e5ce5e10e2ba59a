"""The executors: same results whichever runs the work, lazy bounded consumption of tasks, one
initializer call per worker, one thread per worker, and a prompt stop."""
from __future__ import annotations

import os
import signal
import time
from concurrent.futures.process import BrokenProcessPool

import pytest

from pipeline.executor import SerialExecutor, available_cores, make_executor
from pipeline.process_pool import ProcessExecutor

_state: dict = {}


def remember(value: int) -> None:
    _state["value"] = value
    _state["calls"] = _state.get("calls", 0) + 1


def square(x: int) -> int:
    return x * x


def whoami(_: int) -> tuple[int, int, int, str]:
    import cv2

    time.sleep(0.05)
    return os.getpid(), _state.get("value", -1), _state.get("calls", 0), \
        f"{cv2.getNumThreads()} {os.environ.get('OMP_NUM_THREADS')}"


def square_or_die(x: int) -> int:
    if x == 3:
        os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's out-of-memory killer would
    return x * x


def sleep_long(_: int) -> int:
    time.sleep(60)
    return 0


@pytest.fixture(scope="module")
def pool():
    executor = ProcessExecutor(2, remember, (7,))
    yield executor
    executor.close()


def test_serial_runs_in_order_and_initializes():
    _state.clear()
    executor = make_executor(1, remember, (3,))
    assert isinstance(executor, SerialExecutor) and _state == {"value": 3, "calls": 1}
    assert list(executor.map(square, range(5))) == [0, 1, 4, 9, 16]


def test_pool_gives_every_result(pool):
    assert sorted(pool.map(square, range(20))) == sorted(x * x for x in range(20))


def test_pool_initializes_each_worker_once_with_one_thread(pool):
    seen = list(pool.map(whoami, range(12)))
    assert {value for _, value, _, _ in seen} == {7}
    assert {calls for _, _, calls, _ in seen} == {1}  # the model would be loaded once per worker
    assert {threads for _, _, _, threads in seen} == {"1 1"}
    assert len({pid for pid, _, _, _ in seen}) <= 2 and os.getpid() not in {pid for pid, *_ in seen}


def test_pool_consumes_tasks_lazily(pool):
    pulled = []

    def tasks():
        for i in range(1000):
            pulled.append(i)
            yield i

    results = pool.map(square, tasks())
    next(results)
    # Only a bounded number of tasks (pages, in a run) is ever held: 2 per worker in flight.
    assert len(pulled) <= pool.max_in_flight + 1
    results.close()


def test_a_task_that_kills_its_worker_is_isolated_and_the_rest_go_on():
    executor = ProcessExecutor(2)
    try:
        results = sorted(executor.map(square_or_die, range(8), on_crash=lambda task: -task))
        assert results == sorted([-3] + [x * x for x in range(8) if x != 3])
        with pytest.raises(BrokenProcessPool):
            list(executor.map(square_or_die, range(8)))
    finally:
        executor.terminate()


def test_a_pool_that_breaks_between_results_refuses_a_task_which_still_runs_once():
    """A worker can die after ``wait`` returned other results: the next submit is refused
    (BrokenProcessPool from ``submit`` itself). The refused task never ran, so it is sent again
    to the new pool, and every task gives exactly one result."""
    executor = ProcessExecutor(2)
    first, calls = executor.pool, []
    submit = first.submit

    def refuse_once(fn, *args):
        calls.append(args)
        if len(calls) == 3:
            raise BrokenProcessPool("a worker died")
        return submit(fn, *args)

    first.submit = refuse_once
    try:
        results = sorted(executor.map(square, range(8), on_crash=lambda task: -task))
        assert results == [x * x for x in range(8)] and executor.pool is not first
    finally:
        executor.terminate()
        first.shutdown(wait=False, cancel_futures=True)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] == "Z"  # a zombie has exited
    except OSError:
        return True


def test_terminate_stops_running_tasks_at_once():
    executor = ProcessExecutor(2)
    futures = [executor.pool.submit(sleep_long, i) for i in range(4)]
    deadline = time.monotonic() + 60
    while len(executor.worker_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    pids = executor.worker_pids()
    assert pids and not any(f.done() for f in futures)
    started = time.monotonic()
    executor.terminate()
    assert time.monotonic() - started < 10
    assert all(_gone(pid) for pid in pids)


def test_terminate_leaves_no_thread_waiting_on_a_half_sent_result():
    """A worker killed while sending its result leaves half a message in the pool's result pipe;
    the pool's manager thread would wait for the rest for ever and the interpreter, which joins
    it at exit, would never exit (the test suite hung so once after its last test)."""
    import struct

    executor = ProcessExecutor(1)
    assert executor.pool.submit(square, 3).result() == 9
    manager = executor.pool._executor_manager_thread
    os.write(executor.pool._result_queue._writer.fileno(), struct.pack("!i", 1000) + b"x" * 10)
    time.sleep(0.2)  # the manager is now reading the rest of the message
    executor.terminate()
    manager.join(timeout=10)
    assert not manager.is_alive()


def test_available_cores():
    assert 1 <= available_cores() <= (os.cpu_count() or 1)
