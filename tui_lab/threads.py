"""How many intra-op threads torch should use, from the CPUs this process may use and how busy they are.

torch starts with one intra-op thread per CPU. On a box shared with other busy processes that is the
worst case: its OpenMP threads spin at every barrier waiting for a sibling that another process holds
off the CPU (LeNet on digits next to one busy process: ~200 examples/s with the default 2 threads,
~3,400 with one). So in `auto` the engine asks, at the start and after each epoch:

* **CPUs it may use**: `os.sched_getaffinity(0)`, capped by a cgroup CPU quota (v2 `cpu.max`, v1
  `cpu.cfs_quota_us`, rounded up). The thread count is further capped by the physical cores among
  those CPUs (hyperthread siblings share one core's arithmetic units; torch's own default, via MKL,
  counts cores too) and by `OMP_NUM_THREADS` when the user set it.
* **How busy they are, by others**: busy time of those CPUs in `/proc/stat` minus this process's own
  CPU time, over a window. Our own training threads are never "another busy process". The first
  reading samples ~0.1 s; every later one uses the window since the previous reading (e.g. the last
  epoch), so a re-check costs a file read (well under a millisecond) and never sleeps.

threads = clamp(round_half_down(usable - others), 1, usable): a CPU counts as free when other
processes use at most half of it. Too few threads costs at most the missing CPUs; too many costs 10x
and more, so the rule leans to fewer.

API (core, no UI imports):
    parse_threads("auto") -> None; parse_threads("4") -> 4; else ConfigError("threads", ...)
    choose_threads(None) -> ThreadChoice(threads=1, reason="auto: ...")   # cheap after the first call
    apply_threads(1)                                                        # torch.set_num_threads if it differs

Off Linux (no /proc/stat) auto uses every usable CPU and says the load is unknown.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from tui_lab.errors import ConfigError

AUTO = "auto"
MAX_THREADS = 1024
SAMPLE_SECONDS = 0.1  # the first reading's window
MIN_WINDOW = 0.05  # a re-check sooner than this after the last reading reuses the last estimate
_BUSY_FIELDS = (0, 1, 2, 5, 6, 7)  # /proc/stat: user nice system [idle iowait] irq softirq steal


def parse_threads(value: Any) -> int | None:
    """`auto` (or None) -> None; a whole number 1..1024 -> that int; anything else a one-line ConfigError."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() == AUTO:
        return None
    n: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        n = value
    elif isinstance(value, str) and value.strip().isdigit():
        n = int(value.strip())
    if n is None or not 1 <= n <= MAX_THREADS:
        raise ConfigError("threads", f"must be auto or a whole number from 1 to {MAX_THREADS}, got {value!r}")
    return n


@dataclass(frozen=True)
class ThreadChoice:
    threads: int
    reason: str  # one line: what was measured and why this many
    cpus: int = 0  # CPUs this process may use (0: not looked at, for an explicit request)
    others_busy: float | None = None  # CPUs' worth kept busy by other processes over the window; None: unknown

    def to_json(self) -> dict[str, Any]:
        return {"threads": self.threads, "reason": self.reason, "cpus": self.cpus, "others_busy": self.others_busy}


# --- readings -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CpuSample:
    """Cumulative counters at one moment: busy seconds of our CPUs, our own CPU seconds, a clock."""

    busy: float
    own: float
    wall: float


class Probe(Protocol):
    """Where the readings come from; tests pass a fake one."""

    def affinity(self) -> list[int]: ...
    def cores(self, cpus: list[int]) -> int | None: ...
    def quota(self) -> float | None: ...
    def omp_env(self) -> int | None: ...
    def sample(self, cpus: list[int]) -> CpuSample | None: ...
    def sleep(self, seconds: float) -> None: ...


class SystemProbe:
    """The real machine: affinity, cgroup quota, OMP_NUM_THREADS, /proc/stat and this process's CPU time."""

    def __init__(self, root: str = "/", environ: Mapping[str, str] | None = None) -> None:
        self.root = Path(root)
        self.environ = os.environ if environ is None else environ
        self._tick = 1.0 / (os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100)
        self._cores: dict[tuple[int, ...], int | None] = {}

    def affinity(self) -> list[int]:
        if hasattr(os, "sched_getaffinity"):
            return sorted(os.sched_getaffinity(0))
        return list(range(os.cpu_count() or 1))

    def cores(self, cpus: list[int]) -> int | None:
        """Distinct physical cores among `cpus` (sysfs topology, read once per CPU set); None: unknown."""
        key = tuple(cpus)
        if key not in self._cores:
            seen = set()
            try:
                for c in cpus:
                    topo = self.root / f"sys/devices/system/cpu/cpu{c}/topology"
                    seen.add(((topo / "physical_package_id").read_text().strip(), (topo / "core_id").read_text().strip()))
                self._cores[key] = len(seen) or None
            except OSError:
                self._cores[key] = None
        return self._cores[key]

    def quota(self) -> float | None:
        return cgroup_cpu_quota(self.root)

    def omp_env(self) -> int | None:
        text = self.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
        return int(text) if text.isdigit() and int(text) >= 1 else None

    def sample(self, cpus: list[int]) -> CpuSample | None:
        try:
            text = (self.root / "proc/stat").read_text()
        except OSError:
            return None
        wanted = {f"cpu{c}" for c in cpus}
        ticks = 0
        for line in text.splitlines():
            name, _, rest = line.partition(" ")
            if name in wanted:
                fields = rest.split()
                ticks += sum(int(fields[i]) for i in _BUSY_FIELDS if i < len(fields))
        return CpuSample(busy=ticks * self._tick, own=time.process_time(), wall=time.monotonic())

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def cgroup_cpu_quota(root: str | Path = "/") -> float | None:
    """CPUs' worth of CPU time the cgroups of this process allow (the tightest up the tree); None: no limit."""
    root = Path(root)
    try:
        lines = (root / "proc/self/cgroup").read_text().splitlines()
    except OSError:
        lines = []
    limits: list[float] = []
    names: tuple[str, ...]
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # cgroup v2
            base, names = root / "sys/fs/cgroup", ("cpu.max",)
        elif "cpu" in controllers.split(","):  # cgroup v1
            base = root / "sys/fs/cgroup" / controllers
            if not base.exists():
                base = root / "sys/fs/cgroup/cpu"
            names = ("cpu.cfs_quota_us", "cpu.cfs_period_us")
        else:
            continue
        rel = Path(path.lstrip("/"))
        for d in [rel, *rel.parents]:
            limit = _read_quota(base / d, names)
            if limit is not None:
                limits.append(limit)
    return min(limits) if limits else None


def _read_quota(folder: Path, names: tuple[str, ...]) -> float | None:
    try:
        if len(names) == 1:  # v2: "max 100000" or "150000 100000"
            quota, _, period = (folder / names[0]).read_text().strip().partition(" ")
        else:  # v1: quota -1 means none
            quota = (folder / names[0]).read_text().strip()
            period = (folder / names[1]).read_text().strip()
        if quota in ("max", "-1"):
            return None
        q, p = float(quota), float(period or 100000)
        return q / p if q > 0 and p > 0 else None
    except (OSError, ValueError):
        return None


# --- the choice -----------------------------------------------------------------------------------


def decide(requested: int | None, affinity: int, quota: float | None, omp_env: int | None,
           others_busy: float | None, cores: int | None = None) -> ThreadChoice:
    """The rule, on plain readings (no I/O): see the module docstring."""
    affinity = max(1, affinity)
    usable = affinity
    where = f"{affinity} CPU{'s' if affinity != 1 else ''} in affinity"
    if quota is not None and math.ceil(quota) < usable:
        usable = max(1, math.ceil(quota))
        where += f", cgroup quota {quota:g}"
    if requested is not None:
        note = f" (more than the {usable} CPUs this process may use)" if requested > usable else ""
        return ThreadChoice(requested, f"requested {requested}{note}", usable, others_busy)
    cap = usable
    if cores is not None and cores < cap:
        cap = cores
        where += f" on {cores} core{'s' if cores != 1 else ''}"
    if omp_env is not None and omp_env < cap:
        cap = omp_env
        where += f", OMP_NUM_THREADS={omp_env}"
    if others_busy is None:
        return ThreadChoice(cap, f"auto: {where}; load unknown, so all {cap}", usable, None)
    free = usable - others_busy
    n = max(1, min(cap, math.ceil(free - 0.5)))  # round half down: a CPU others use half of is busy
    why = (f"auto: {where}; other processes keep {others_busy:.1f} CPUs busy, "
           f"{max(free, 0.0):.1f} free -> {n} thread{'s' if n != 1 else ''}")
    return ThreadChoice(n, why, usable, others_busy)


class CpuMonitor:
    """Remembers the last reading, so each re-check measures the window since the previous one."""

    def __init__(self, probe: Probe | None = None) -> None:
        self.probe: Probe = probe if probe is not None else SystemProbe()
        self._last: CpuSample | None = None
        self._cpus: tuple[int, ...] = ()
        self._others: float | None = None
        self._lock = threading.Lock()

    def others_busy(self, cpus: list[int]) -> float | None:
        """CPUs' worth of busy time of `cpus` that was not this process's, since the last call."""
        with self._lock:
            now = self.probe.sample(cpus)
            if now is None:
                return None
            if self._last is None or tuple(cpus) != self._cpus:  # first reading, or the CPUs changed
                self.probe.sleep(SAMPLE_SECONDS)
                base, now = now, self.probe.sample(cpus)
                if now is None:
                    return None
            elif now.wall - self._last.wall < MIN_WINDOW:
                return self._others  # too short a window for tick counters: keep the last estimate
            else:
                base = self._last
            self._last, self._cpus = now, tuple(cpus)
            window = now.wall - base.wall
            if window <= 0:
                return self._others
            others = ((now.busy - base.busy) - (now.own - base.own)) / window
            self._others = min(max(others, 0.0), float(len(cpus)))  # tick counters are coarse: clamp
            return self._others

    def choose(self, requested: int | None) -> ThreadChoice:
        cpus = self.probe.affinity()
        quota = self.probe.quota()
        if requested is not None:
            return decide(requested, len(cpus), quota, None, None)
        return decide(None, len(cpus), quota, self.probe.omp_env(), self.others_busy(cpus), self.probe.cores(cpus))


_MONITOR: CpuMonitor | None = None


def choose_threads(requested: int | None, monitor: CpuMonitor | None = None) -> ThreadChoice:
    """The thread count for `requested` (None: auto) and why. The first auto call in a process samples
    ~0.1 s; later ones measure the window since the previous call (no sleep, well under 1 ms)."""
    global _MONITOR
    if monitor is None:
        if _MONITOR is None:
            _MONITOR = CpuMonitor()
        monitor = _MONITOR
    return monitor.choose(requested)


def apply_threads(n: int) -> bool:
    """Set torch's intra-op threads to `n` if it differs; True when it changed. Call it in the thread
    that runs the training step (inside the job's generator does that): with torch's OpenMP backend the
    count is per thread once a thread has done parallel work, so a set in one thread does not reach
    another that already has. Inter-op threads are left alone: torch allows them only before any work."""
    import torch

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ConfigError("threads", f"must be a whole number >= 1, got {n!r}")
    if torch.get_num_threads() == n:
        return False
    torch.set_num_threads(n)
    return True
