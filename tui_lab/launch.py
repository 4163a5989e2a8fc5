"""A training across processes: DistributedDataParallel under torchrun (torch.distributed.run).

    events = run_training(TrainConfig(model="mlp", nproc=2, device="cpu"), control)  # like training.train

The caller's process is the supervisor: it starts torchrun (PyTorch's own launcher and elastic agent)
in a session of its own, which starts `nproc` ranks running `python -m tui_lab.launch worker DIR`.
Each rank joins the process group (gloo on the CPU, NCCL with one GPU per process) and runs
`training.train` with its `distributed.DataParallel` view; rank 0 streams its events to DIR as JSON
lines, the other ranks stay quiet. The supervisor yields them, so the run store, the CLI's progress
and JSON and the app's train screen treat a DDP run like any other (the CLI records it once).

Ending. A rank that raises writes its message (with the time) to DIR before it exits, so the
supervisor names the first rank that failed, not the ones that then lost their peer; a rank that
hangs makes the others' next collective fail after `timeout` seconds (the process group's timeout);
torchrun then stops every rank (SIGTERM, SIGKILL after 5 s). A cancel (the app's Stop, the CLI's
Ctrl-C) asks the ranks to stop through a file they check at each reporting point, so they stop at
the same step; if they do not within STOP_GRACE seconds torchrun is terminated. Whatever happens,
the supervisor leaves nothing running: it terminates torchrun, then kills any rank still alive, and
torchrun and the ranks die with their parent (Linux PR_SET_PDEATHSIG).

`DLLAB_DDP_FAULT=raise@RANK:STEP` (or hang@RANK:STEP) injects a fault, for tests and drills.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterator

from tui_lab import limits
from tui_lab import training as t
from tui_lab.control import HyperparameterChange, RunControl
from tui_lab.errors import ConfigError

STOP_GRACE = 30.0  # seconds the ranks get to stop together after a cancel before torchrun is terminated
SHUTDOWN_TIMEOUT = 5  # torchrun: seconds between SIGTERM and SIGKILL for the ranks
POLL = 0.05
EVENT_TYPES = {cls.__name__: cls for cls in (t.Started, t.Step, t.EpochEnd, t.HyperparametersChanged, t.Paused,
                                              t.Resumed, t.Finished, t.Diverged, t.Cancelled, t.Failed)}


@dataclass(frozen=True)
class Launch:
    """Where the ranks run: torchrun's node options (one node by default) and the collectives' timeout."""

    nnodes: int = 1
    node_rank: int = 0
    rdzv_endpoint: str | None = None  # host:port of node 0, for several nodes
    timeout: float = 300.0  # seconds a rank waits in a collective for a silent peer before the run fails

    def validated(self) -> "Launch":
        nnodes = limits.parse_int("nnodes", self.nnodes, 1, 4096)
        node_rank = limits.parse_int("node_rank", self.node_rank, 0, 4095)
        if node_rank >= nnodes:
            raise ConfigError("node_rank", f"must be below nnodes ({nnodes}), got {self.node_rank!r}")
        endpoint = (self.rdzv_endpoint or "").strip() or None
        if nnodes > 1 and endpoint is None:
            raise ConfigError("rdzv_endpoint", "is needed with nnodes > 1: host:port of node 0, e.g. node0:29500")
        if endpoint is not None:
            host, _, port = endpoint.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ConfigError("rdzv_endpoint", f"must be host:port, e.g. node0:29500; got {self.rdzv_endpoint!r}")
        timeout = limits.parse_float("timeout", self.timeout, 1.0, 7 * 24 * 3600.0)
        return replace(self, nnodes=nnodes, node_rank=node_rank, rdzv_endpoint=endpoint, timeout=timeout)


def run_training(config: t.TrainConfig, control: RunControl | None = None, checkpoint_path: str | Path | None = None,
                 *, cancel: threading.Event | None = None, launch: Launch | None = None,
                 state_path: str | Path | None = None) -> Iterator[t.Event]:
    """`training.train` for nproc == 1 without a launch, else `train_distributed`: one entry for the faces.
    `state_path`: the per-epoch training state of a single-process run (checkpoints.py; --resume)."""
    if launch is None and limits.parse_int("nproc", config.nproc, 1) == 1 and not config.sync_bn:
        extra: dict[str, Any] = {"cancel": cancel} if cancel is not None else {}
        if checkpoint_path is not None:
            extra["checkpoint_path"] = checkpoint_path
        if state_path is not None:
            extra["state_path"] = state_path
        return t.train(config, control, **extra)  # exactly the call a face made before there was a launcher
    return train_distributed(config, control, checkpoint_path, cancel=cancel, launch=launch)


# --- the supervisor (the caller's process) --------------------------------------------------------


def plan(config: t.TrainConfig, launch: Launch | None = None) -> tuple[t.TrainConfig, Launch, str]:
    """Validated config and launch, and the backend: ConfigError naming the field for what cannot run here."""
    import torch

    from tui_lab.data import dataset_info
    from tui_lab.distributed import backend_for
    from tui_lab.models import build_model

    cfg = config.validated()
    launch = (launch or Launch()).validated()
    wanted = (cfg.device or "auto").strip().lower()
    if wanted == "auto":
        wanted = "cuda" if torch.cuda.is_available() else "cpu"
    if wanted not in ("cpu", "cuda"):
        raise ConfigError("device", f"a run across processes takes auto, cpu (gloo) or cuda (NCCL, one GPU per "
                          f"process), got {cfg.device!r}")
    backend = backend_for(wanted)
    if backend == "nccl":
        gpus = torch.cuda.device_count()
        if gpus == 0:
            raise ConfigError("device", "no CUDA device here; use --device cpu (gloo)")
        if cfg.nproc > gpus:
            raise ConfigError("nproc", f"one GPU per process: this node has {gpus}, got {cfg.nproc}")
    elif cfg.amp != "off":
        raise ConfigError("amp", f"{cfg.amp} mixed precision needs CUDA; this run is on the CPU (use --amp off)")
    if cfg.sync_bn and backend != "nccl":
        raise ConfigError("sync_bn", "SyncBatchNorm runs on CUDA only; on the CPU each rank normalizes its share")
    with torch.device("meta"):
        build_model(cfg.model, dataset_info(cfg.dataset), **cfg.model_options)
    if not dataset_info(cfg.dataset).embedded:
        from tui_lab.data import load_dataset

        load_dataset(cfg.dataset, cfg.data_dir)  # download once here, not in every rank at once
    return replace(cfg, device=wanted), launch, backend


def train_distributed(config: t.TrainConfig, control: RunControl | None = None,
                      checkpoint_path: str | Path | None = None, *, cancel: threading.Event | None = None,
                      launch: Launch | None = None) -> Iterator[t.Event]:
    """Validate (ConfigError at once, as `train` does), start torchrun, and return rank 0's events."""
    cfg, launch, backend = plan(config, launch)
    threads = _threads_per_rank(cfg)
    workdir = Path(tempfile.mkdtemp(prefix="dllab-ddp-"))
    spec = {"config": cfg.to_dict(), "backend": backend, "timeout": launch.timeout, "threads": threads,
            "checkpoint": None if checkpoint_path is None else str(checkpoint_path)}
    (workdir / "spec.json").write_text(json.dumps(spec))
    return _supervise(cfg, launch, backend, workdir, threads, control or RunControl(cancel))


def torchrun_command(nproc: int, launch: Launch, workdir: Path) -> list[str]:
    """The torchrun command line (torch.distributed.run's own options) that starts the ranks."""
    where = (["--standalone"] if launch.nnodes == 1 and launch.rdzv_endpoint is None else
             [f"--node-rank={launch.node_rank}", f"--rdzv-endpoint={launch.rdzv_endpoint}"])
    return [sys.executable, "-m", "tui_lab.launch", "agent", f"--nnodes={launch.nnodes}",
            f"--nproc-per-node={nproc}", *where, "--max-restarts=0", "--monitor-interval=0.1",
            f"--shutdown-timeout={SHUTDOWN_TIMEOUT}", f"--log-dir={workdir / 'logs'}", "--module", "tui_lab.launch", "worker", str(workdir)]


def _threads_per_rank(cfg: t.TrainConfig) -> int:
    from tui_lab.threads import choose_threads

    if cfg.threads != "auto":
        return int(cfg.threads)
    return max(1, choose_threads(None).threads // cfg.nproc)  # the ranks share this node's free CPUs


def _supervise(cfg: t.TrainConfig, launch: Launch, backend: str, workdir: Path, threads: int,
               control: RunControl) -> Iterator[t.Event]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "PYTHONUNBUFFERED": "1"}
    log = open(workdir / "torchrun.log", "wb")
    proc = subprocess.Popen(torchrun_command(cfg.nproc, launch, workdir), stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, env=env, start_new_session=True)
    log.close()
    reader = _EventReader(workdir / "events.jsonl")
    final: Any = None
    last_step = (1, 0)
    started = time.perf_counter()
    stop_asked: float | None = None
    try:
        while True:
            exited = proc.poll() is not None  # before reading: every event written before the exit is read
            for ev in reader.read():
                if isinstance(ev, t.FINAL_EVENTS):
                    final = final or ev  # held until every rank is gone: a failure names its first rank
                    continue
                if isinstance(ev, t.Started):
                    ev = replace(ev, device_name=f"{ev.world_size} ranks x {ev.device_name} ({backend})")
                elif isinstance(ev, t.Step):
                    last_step = (ev.epoch, ev.global_step)
                yield ev
            if exited:
                break
            if control.cancelled and stop_asked is None:
                (workdir / "stop").touch()
                stop_asked = time.monotonic()
            elif stop_asked is not None and time.monotonic() - stop_asked > STOP_GRACE and final is None:
                _signal(proc, signal.SIGTERM)
            time.sleep(POLL)
        yield _final(cfg, launch, final, _errors(workdir), control, proc.returncode, last_step,
                     time.perf_counter() - started, workdir)
    finally:
        _reap(proc, workdir)
        shutil.rmtree(workdir, ignore_errors=True)


def _final(cfg: t.TrainConfig, launch: Launch, final: Any, errors: list[dict], control: RunControl, code: int,
           last_step: tuple[int, int], seconds: float, workdir: Path) -> t.Event:
    """The run's one final event, from what rank 0 said, what the failed ranks wrote, and torchrun's exit."""
    if isinstance(final, t.Finished):
        return final
    if control.cancelled:
        return final if isinstance(final, t.Cancelled) else t.Cancelled(*last_step)
    if errors:
        first = errors[0]
        hint = first.get("hint") or "the run was stopped on every rank"
        if "timed out" in first["message"].lower() or "timeout" in first["message"].lower():
            hint = (f"rank {first['rank']} waited {launch.timeout:g} s for a rank that hung or died; "
                    "every rank was stopped")
        message = re.sub(r"\[[^\]]*\.(?:cc|cpp|h|hpp):\d+\]\s*", "", first["message"])  # C++ source locations
        return t.Failed(f"rank {first['rank']}: {message}", hint)
    if final is not None:
        return final
    if code == 0 and launch.node_rank > 0:  # rank 0 runs on node 0: this node's ranks just ended well
        return t.Finished(cfg.epochs, None, math.nan, seconds, None)
    tail = _tail(workdir / "torchrun.log")
    return t.Failed(f"torchrun exited with code {code} before rank 0 finished" + (f": {tail}" if tail else ""),
                    "see `python -m torch.distributed.run --help`; run once with --nproc 1 to check the setup")


class _EventReader:
    """Complete JSON lines appended to rank 0's event file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.partial = path, 0, b""

    def read(self) -> list[t.Event]:
        try:
            with open(self.path, "rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        self.offset += len(chunk)
        lines = (self.partial + chunk).split(b"\n")
        self.partial = lines.pop()
        return [from_wire(json.loads(line)) for line in lines if line.strip()]


def _errors(workdir: Path) -> list[dict]:
    found = []
    for path in workdir.glob("error-*.json"):
        try:
            found.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return sorted(found, key=lambda e: (e.get("time", 0.0), e.get("rank", 0)))


def _tail(path: Path) -> str:
    try:
        lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return ""
    return lines[-1][:300] if lines else ""


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        proc.send_signal(sig)
    except (ProcessLookupError, OSError):
        pass


def _reap(proc: subprocess.Popen, workdir: Path) -> None:
    """Leave nothing running: torchrun first (it stops its ranks), then any rank still alive, by pid."""
    for sig, wait in ((None, 2.0), (signal.SIGTERM, SHUTDOWN_TIMEOUT + 5.0), (signal.SIGKILL, 5.0)):
        if proc.poll() is not None:
            break
        if sig is None:
            (workdir / "stop").touch()  # a stream closed early: ask the ranks to stop together first
        else:
            _signal(proc, sig)
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            continue
        except KeyboardInterrupt:  # a second Ctrl-C: stop waiting politely
            continue
    for pid in _rank_pids(workdir):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def _rank_pids(workdir: Path) -> list[int]:
    """Pids of this run's ranks that are still alive (checked against their command line: no stray kill)."""
    pids = []
    for path in workdir.glob("pid-*"):
        try:
            pid = int(path.read_text())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if str(workdir).encode() in cmdline:
            pids.append(pid)
    return pids


# --- the wire: events as JSON lines -----------------------------------------------------------------


def to_wire(ev: t.Event) -> dict[str, Any]:
    return {"event": type(ev).__name__, **asdict(ev)}


def from_wire(data: dict[str, Any]) -> t.Event:
    fields = dict(data)
    cls = EVENT_TYPES[fields.pop("event")]
    if cls is t.HyperparametersChanged:
        fields["changes"] = tuple(HyperparameterChange(**c) for c in fields["changes"])
    if cls is t.Step:
        fields["ranks"] = tuple(tuple(r) for r in fields.get("ranks", ()))
    return cls(**fields)


# --- the processes torchrun runs ----------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: SIGTERM this process when its parent dies (no orphans if the supervisor is killed)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        parent = os.getppid()
        libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        if os.getppid() != parent:  # the parent died before the call
            os.kill(os.getpid(), signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def agent_main(argv: list[str]) -> int:
    """torchrun itself (`torch.distributed.run.main`), dying with the supervisor."""
    _die_with_parent()
    from torch.distributed.run import main

    main(argv)
    return 0


def _write_error(workdir: Path, rank: int, message: str, hint: str) -> None:
    path = workdir / f"error-{rank}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"rank": rank, "message": message, "hint": hint, "time": time.time()}))
    tmp.replace(path)


def worker_main(workdir_text: str) -> int:
    """One rank: join the process group, train on this rank's shares; rank 0 writes the events."""
    _die_with_parent()
    workdir = Path(workdir_text)
    rank = int(os.environ.get("RANK", "0"))
    (workdir / f"pid-{rank}").write_text(str(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())  # Ctrl-C: stop with the others at the next report
    try:
        import datetime

        import torch
        import torch.distributed as dist

        from tui_lab.distributed import DataParallel, Fault
        from tui_lab.threads import apply_threads

        spec = json.loads((workdir / "spec.json").read_text())
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        world = int(os.environ.get("WORLD_SIZE", "1"))
        backend = spec["backend"]
        device = f"cuda:{local_rank}" if backend == "nccl" else "cpu"
        if backend == "nccl":
            torch.cuda.set_device(local_rank)
        apply_threads(int(spec["threads"]))
        fault = Fault.parse(os.environ.get("DLLAB_DDP_FAULT"))
        dist.init_process_group(backend, timeout=datetime.timedelta(seconds=float(spec["timeout"])))
        cfg = replace(t.TrainConfig(**spec["config"]), device=device, threads=int(spec["threads"]))
        ranks = DataParallel(rank, world, local_rank, device, cfg.sync_bn,
                             stop_requested=lambda: stop.is_set() or (workdir / "stop").exists(), fault=fault)
        out = open(workdir / "events.jsonl", "a", encoding="utf-8") if rank == 0 else None
        for ev in t.train(cfg, RunControl(), spec["checkpoint"] if rank == 0 else None, ranks=ranks):
            if isinstance(ev, t.Failed):
                _write_error(workdir, rank, ev.message, ev.hint)  # before the peers can notice this rank is gone
            if out is not None:
                out.write(json.dumps(to_wire(ev)) + "\n")
                out.flush()
            if isinstance(ev, t.Failed):
                os._exit(1)  # at once: no waiting on peers in a process group's teardown
        dist.destroy_process_group()
    except BaseException as exc:  # noqa: B036 - a rank must report whatever stopped it, then go
        text = str(exc).splitlines()[0] if str(exc) else ""
        _write_error(workdir, rank, f"{type(exc).__name__}: {text}", "the run was stopped on every rank")
        os._exit(1)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["agent"]:
        return agent_main(argv[1:])
    if argv[:1] == ["worker"] and len(argv) == 2:
        return worker_main(argv[1])
    sys.stderr.write("usage: python -m tui_lab.launch agent TORCHRUN_ARGS... | worker DIR\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
