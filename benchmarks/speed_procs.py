"""Watching a command's process tree from /proc (Linux): CPU seconds, peak and current memory of
every process, the machine's load, and how many pages the run has written so far.

Pool workers are grandchildren of the command (forkserver), so the command's own rusage misses
them; sampling the tree sees them all.
"""
from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds used) of a live process."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICKS


def _memory_mb(pid: int) -> tuple[float, float]:
    """(resident now, peak resident) in MB."""
    now = peak = 0.0
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    now = int(line.split()[1]) / 1024
                elif line.startswith("VmHWM:"):
                    peak = int(line.split()[1]) / 1024
    except OSError:
        pass
    return now, peak


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def machine_load() -> str:
    """Load averages and CPU pressure (share of time some task waited for a CPU)."""
    one, five, _ = os.getloadavg()
    pressure = ""
    try:
        some = Path("/proc/pressure/cpu").read_text().split("\n")[0]
        pressure = f", CPU pressure {some.split()[1].split('=')[1]}% (10 s)"
    except (OSError, IndexError):
        pass
    return f"load {one:.1f}/{five:.1f} (1/5 min) on {os.cpu_count()} cores{pressure}"


@dataclass
class Proc:
    role: str
    cpu: float = 0.0
    rss: float = 0.0
    peak: float = 0.0


@dataclass
class TreeSampler:
    """Samples every process under ``root`` each ``interval`` seconds, in a thread."""

    root: int
    interval: float = 0.2
    procs: dict[int, Proc] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _tree(self) -> dict[int, int]:
        parents = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                stat = _stat(int(entry))
                if stat:
                    parents[int(entry)] = stat[0]
        members, frontier = {self.root: 0}, [self.root]
        while frontier:
            parent = frontier.pop()
            for pid, ppid in parents.items():
                if ppid == parent and pid not in members:
                    members[pid] = parent
                    frontier.append(pid)
        return members

    def _role(self, pid: int, parent: int, members: dict[int, int]) -> str:
        if pid == self.root:
            return "main"
        command = _cmdline(pid)
        if "forkserver" in command or "spawn_main" in command:
            return "worker" if parent != self.root or "spawn_main" in command else "forkserver"
        return "tracker" if "resource_tracker" in command else os.path.basename(command.split(" ")[0])

    def sample(self) -> None:
        members = self._tree()
        with self._lock:
            for pid, parent in members.items():
                stat = _stat(pid)
                if stat is None:
                    continue
                proc = self.procs.get(pid) or Proc(self._role(pid, parent, members))
                proc.cpu = stat[1]
                proc.rss, peak = _memory_mb(pid)
                proc.peak = max(proc.peak, peak)
                self.procs[pid] = proc

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def cpu(self) -> float:
        with self._lock:
            return sum(p.cpu for p in self.procs.values())

    def by_role(self, role: str) -> list[Proc]:
        with self._lock:
            return [p for p in self.procs.values() if p.role == role]


def count_rows(path: Path) -> int:
    try:
        with open(path, "rb") as handle:
            return max(0, handle.read().count(b"\n") - 1)
    except OSError:
        return 0


@dataclass
class Watched:
    """A finished command: wall time, when each page row appeared, CPU and memory of its tree."""

    returncode: int
    wall: float
    first_page: float  # seconds from start to the first page written
    page_times: list[float]
    cpu: float
    procs: list[Proc]
    output: str

    @property
    def pages(self) -> int:
        return len(self.page_times)

    @property
    def steady_rate(self) -> float:
        """Pages per second between the first and the last page (start-up excluded)."""
        if self.pages < 2 or self.page_times[-1] <= self.page_times[0]:
            return float("nan")
        return (self.pages - 1) / (self.page_times[-1] - self.page_times[0])


def watch(command: list[str], pages_csv: Path, env: dict | None = None, marks: dict[int, callable] | None = None,
          cwd: Path | None = None) -> Watched:
    """Run ``command``, sampling its process tree and the rows of ``pages_csv``; ``marks`` maps a
    page count to a callback called (with the sampler) once that many pages are written."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               env=env, cwd=cwd)
    sampler = TreeSampler(process.pid)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    times: list[float] = []
    pending = dict(sorted((marks or {}).items()))
    while process.poll() is None:
        rows = count_rows(pages_csv)
        now = time.perf_counter() - started
        times.extend([now] * max(0, rows - len(times)))
        for mark in [m for m in pending if rows >= m]:
            sampler.sample()
            pending.pop(mark)(sampler)
        time.sleep(0.05)
    reader.join()
    sampler.stop()
    wall = time.perf_counter() - started
    rows = count_rows(pages_csv)
    times.extend([wall] * max(0, rows - len(times)))
    return Watched(process.returncode, wall, times[0] if times else float("nan"), times, sampler.cpu(),
                   list(sampler.procs.values()), "".join(output))
