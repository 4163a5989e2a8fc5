"""Check lessons in processes of their own: `python -m tui_lab.lesson_check LESSON.md RESULTS TIMEOUT`.

`check_all` (hence `dllab lessons --check`) runs `run_isolated`, which starts one such
process per lesson, in a new session (its own process group) and an empty temporary directory, with
its stdout and stderr going to files. The child runs the lesson's cells and exercise checks and
reports, one JSON line per event, into the RESULTS file: {"start": [kind, n]} before each item,
{"failure": {...}} for each failure, {"done": true} at the end. The parent watches that file:

- an item still running `timeout` + `grace` seconds after it started is killed with its whole
  process group (a cell in C code holding the GIL cannot ignore that, nor can its child processes);
- a process that ends without {"done": true} (os._exit(0), a segfault, a kill) is a failed lesson;
- nothing a cell prints reaches the parent's stdout, so `--check --json` prints pure JSON;
- each lesson starts from a fresh interpreter: torch.set_default_dtype, monkey-patching or
  sys.modules changes in one lesson cannot affect another.

The child imports nothing from the directory `dllab` was started in: it runs with `-P` (Python's
"safe path": no script or cwd on sys.path) in a temporary directory.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_lab.lessons import CheckReport, load_lessons

POLL_SECONDS = 0.05


# --------------------------------------------------------------------------------------- the child


def _child(lesson_path: str, results_path: str, timeout: float) -> int:
    from tui_lab.lessons import CellFailure, ExerciseFailure, LessonError, check_lesson, read_lesson

    with open(results_path, "a", encoding="utf-8") as out:

        def emit(obj: dict[str, Any]) -> None:
            out.write(json.dumps(obj) + "\n")
            out.flush()

        lesson = read_lesson(Path(lesson_path))
        if isinstance(lesson, LessonError):
            emit({"error": str(lesson)})
        else:
            failures = check_lesson(lesson, timeout=timeout, on_start=lambda kind, n: emit({"start": [kind, n]}))
            for f in failures:
                if isinstance(f, CellFailure):
                    emit({"failure": {"kind": "cell", "n": f.index, "expected": f.expected, "output": f.output,
                                      "error": f.error}})
                elif isinstance(f, ExerciseFailure):
                    emit({"failure": {"kind": "exercise", "n": f.number, "answer": f.answer, "output": f.output,
                                      "error": f.error}})
        emit({"done": True})
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # do not wait for a cell's stray non-daemon threads


def _zygote() -> None:
    """Import torch once, then fork one checker per request: each lesson still starts from a state no
    other lesson touched (a forked copy of this process), without paying torch's import each time.

    Requests arrive on stdin, one JSON line each: {"lesson", "results", "stderr", "workdir", "timeout"}.
    Answers go to stdout: {"pid": N} once forked, {"exit": N, "code": C} once reaped (C as
    Popen.returncode: negative for a signal). Safe to fork: this process imports but never computes,
    so torch has started no thread pool (and no CUDA) here.
    """
    import torch  # noqa: F401  (the point: imported once, inherited by every fork)

    import tui_lab.lessons  # noqa: F401

    out = sys.stdout

    def answer(obj: dict[str, Any]) -> None:
        out.write(json.dumps(obj) + "\n")
        out.flush()

    import selectors

    children: set[int] = set()
    select = selectors.DefaultSelector()
    select.register(sys.stdin, selectors.EVENT_READ)
    while True:
        ready = select.select(timeout=POLL_SECONDS)
        for pid in list(children):  # reap whatever ended
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                answer({"exit": pid, "code": os.waitstatus_to_exitcode(status)})
        if not ready:
            continue
        line = sys.stdin.readline()
        if not line:  # the parent is gone: so is the zygote (its children have their own groups)
            os._exit(0)
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the checker: a session of its own, an empty folder, output to files
            try:
                os.setsid()
                os.chdir(request["workdir"])
                devnull = os.open(os.devnull, os.O_RDWR)
                err = os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_APPEND)
                os.dup2(devnull, 0)
                os.dup2(devnull, 1)
                os.dup2(err, 2)
                sys.stdin = open(os.devnull)  # noqa: SIM115
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115
                sys.stderr = open(err, "w", closefd=False)  # noqa: SIM115
                _child(request["lesson"], request["results"], float(request["timeout"]))
            finally:
                os._exit(1)
        children.add(pid)
        answer({"pid": pid})


# -------------------------------------------------------------------------------------- the parent


class _Forked:
    """A checker forked by the zygote, with the part of Popen's interface `run_isolated` uses."""

    def __init__(self, zygote: "_Zygote", pid: int) -> None:
        self.zygote, self.pid = zygote, pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.zygote.exit_code(self.pid)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout or 0)
            time.sleep(POLL_SECONDS)
        assert self.returncode is not None
        return self.returncode


class _Zygote:
    """One `python -m tui_lab.lesson_check --zygote` process that forks the lesson checkers."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "tui_lab.lesson_check", "--zygote"],
            cwd=tempfile.gettempdir(), env=_child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True, bufsize=1, start_new_session=True,
        )
        self.exits: dict[int, int] = {}
        self._pids: list[int] = []
        self._lock = threading.Lock()
        self._forked = threading.Condition(self._lock)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            with self._lock:
                if "pid" in msg:
                    self._pids.append(int(msg["pid"]))
                    self._forked.notify_all()
                elif "exit" in msg:
                    self.exits[int(msg["exit"])] = int(msg["code"])
        with self._lock:  # the zygote ended: nothing more will fork
            self._forked.notify_all()

    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self, lesson_path: str, results: Path, stderr: Path, workdir: str, timeout: float,
             wait: float) -> _Forked | None:
        """Ask for a checker; None if the zygote is gone or does not answer within `wait` s."""
        request = {"lesson": lesson_path, "results": str(results), "stderr": str(stderr), "workdir": workdir,
                   "timeout": timeout}
        with self._lock:
            known = len(self._pids)
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write(json.dumps(request) + "\n")
                self.proc.stdin.flush()
            except (BrokenPipeError, OSError):
                return None
            deadline = time.monotonic() + wait
            while len(self._pids) == known and self.alive() and time.monotonic() < deadline:
                self._forked.wait(0.1)
            return _Forked(self, self._pids[known]) if len(self._pids) > known else None

    def exit_code(self, pid: int) -> int | None:
        with self._lock:
            if pid in self.exits:
                return self.exits[pid]
        if not self.alive():  # the zygote died: its orphans are reaped by init; look at /proc
            return None if Path(f"/proc/{pid}").exists() else -signal.SIGKILL
        return None

    def close(self) -> None:
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            _kill_group(self.proc)
            self.proc.wait()


@dataclass
class _Job:
    lesson: Any
    proc: Any  # subprocess.Popen, or a _Forked checker
    workdir: str
    results: Path
    stderr: Path
    launched: float
    read_upto: int = 0
    current: tuple[str, int] | None = None
    current_since: float = 0.0
    done: bool = False
    failures: list = field(default_factory=list)
    killed: str | None = None


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    # the child runs in a temporary directory: keep relative PYTHONPATH entries meaning what they meant
    if env.get("PYTHONPATH"):
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep) if p
        )
    env.setdefault("OMP_NUM_THREADS", "1")  # lesson cells use tiny tensors; see lessons._one_torch_thread
    return env


def _launch(lesson: Any, timeout: float, zygote: _Zygote | None = None, startup: float = 60.0) -> _Job:
    workdir = tempfile.mkdtemp(prefix="dllab-check-")
    results = Path(workdir) / ".results.jsonl"
    stderr = Path(workdir) / ".stderr"
    results.touch()
    stderr.touch()
    if zygote is not None and zygote.alive():
        forked = zygote.fork(str(Path(lesson.path).resolve()), results, stderr, workdir, timeout, wait=startup)
        if forked is not None:
            return _Job(lesson, forked, workdir, results, stderr, time.monotonic())
    with open(os.devnull, "wb") as devnull, open(stderr, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "tui_lab.lesson_check", str(Path(lesson.path).resolve()),
             str(results), repr(float(timeout))],
            cwd=workdir, env=_child_env(), stdin=subprocess.DEVNULL, stdout=devnull, stderr=err,
            start_new_session=True,
        )
    return _Job(lesson, proc, workdir, results, stderr, time.monotonic())


def _kill_group(proc: Any) -> None:
    try:
        if hasattr(os, "killpg"):
            os.killpg(proc.pid, signal.SIGKILL)  # the child and everything it started
        else:  # pragma: no cover - Windows
            proc.kill()
    except (ProcessLookupError, PermissionError):
        pass


def _read(job: _Job) -> None:
    try:
        with open(job.results, "rb") as f:
            f.seek(job.read_upto)
            data = f.read()
    except OSError:
        return
    end = data.rfind(b"\n") + 1  # only whole lines
    job.read_upto += end
    for line in data[:end].decode("utf-8", "replace").splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if "start" in event:
            job.current = (str(event["start"][0]), int(event["start"][1]))
            job.current_since = time.monotonic()
        elif "failure" in event:
            job.failures.append(_failure(job.lesson, event["failure"]))
        elif "error" in event:
            from tui_lab.lessons import LessonCrash

            job.failures.append(LessonCrash(job.lesson.id, job.lesson.path, f"changed while checking: {event['error']}"))
        elif event.get("done"):
            job.done = True


def _failure(lesson: Any, raw: dict[str, Any]):
    from tui_lab.lessons import CellFailure, ExerciseFailure

    if raw.get("kind") == "exercise":
        return ExerciseFailure(lesson.id, lesson.path, int(raw["n"]), str(raw["answer"]), str(raw["output"]),
                               raw.get("error"))
    return CellFailure(lesson.id, lesson.path, int(raw["n"]), raw.get("expected"), str(raw["output"]), raw.get("error"))


def _where(job: _Job) -> str:
    if job.current is None:
        return "before its first cell"
    kind, n = job.current
    return f"in {kind} {n}"


def _finish(job: _Job) -> list:
    from tui_lab.lessons import LessonCrash

    _read(job)
    _kill_group(job.proc)  # anything a cell left running in the background
    failures = list(job.failures)
    if job.killed is not None:
        failures.append(LessonCrash(job.lesson.id, job.lesson.path, job.killed))
    elif not job.done:
        code = job.proc.returncode
        how = f"exit code {code}" if code is not None and code >= 0 else f"signal {-(code or 0)}"
        last = ""
        try:
            lines = job.stderr.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            last = f" ({lines[-1].strip()[:200]})" if lines else ""
        except OSError:
            pass
        failures.append(LessonCrash(job.lesson.id, job.lesson.path,
                                    f"its check ended {_where(job)} without a result ({how}){last}; "
                                    "later cells were not run"))
    try:
        for p in (job.results, job.stderr):
            p.unlink(missing_ok=True)
        import shutil

        shutil.rmtree(job.workdir, ignore_errors=True)
    except OSError:  # pragma: no cover
        pass
    return failures


def run_isolated(lessons: list, timeout: float, jobs: int = 1, startup: float = 60.0,
                 grace: float = 1.0) -> dict[str, list]:
    """Check each lesson in its own process, `jobs` at a time; {lesson id: failures}, order-free."""
    pending = list(lessons)
    running: list[_Job] = []
    out: dict[str, list] = {}
    # a zygote imports torch once for all the lessons (POSIX); without fork, one fresh process each
    zygote = _Zygote() if hasattr(os, "fork") and len(pending) > 1 else None
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                running.append(_launch(pending.pop(0), timeout, zygote, startup))
            time.sleep(POLL_SECONDS)
            now = time.monotonic()
            for job in list(running):
                _read(job)
                if job.proc.poll() is None:
                    if job.current is None and now - job.launched > startup + timeout:
                        job.killed = f"its check did not start a cell within {startup + timeout:g} s; killed"
                    elif job.current is not None and not job.done and now - job.current_since > timeout + grace:
                        job.killed = (f"{_where(job)[3:]}: still running after {timeout:g} s; killed it and its "
                                      "child processes (later cells were not run)")
                    if job.killed is None:
                        continue
                    _kill_group(job.proc)
                    job.proc.wait()
                out[job.lesson.id] = _finish(job)
                running.remove(job)
    finally:
        for job in running:  # interrupted (Ctrl-C): leave nothing behind
            _kill_group(job.proc)
            try:
                job.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        if zygote is not None:
            zygote.close()
    return out


# How long a lesson's process may take to start (import torch) before its first cell, on a busy machine.
STARTUP_SECONDS = 60.0
KILL_GRACE_SECONDS = 1.0  # a cell gets `timeout` plus this before its process group is killed


def check_all(directory: Path | None = None, timeout: float = 60, jobs: int | None = None) -> CheckReport:
    """Load and check every lesson, each in a fresh process of its own (see the module's docstring).

    A process that runs a cell past `timeout` (even one holding the GIL) is killed with its whole
    process group; one that ends before reporting every item (os._exit, a crash) counts as failed.
    Whatever the cells print goes nowhere near this process's stdout. Lessons run `jobs` at a time
    (default: the CPU count, at most 4); the report is in lesson order whatever finishes first.
    """
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
    lessons, errors = load_lessons(directory)
    if jobs is None:
        jobs = max(1, min(4, os.cpu_count() or 1))
    per_lesson = run_isolated(lessons, timeout=timeout, jobs=jobs,
                              startup=STARTUP_SECONDS, grace=KILL_GRACE_SECONDS)
    failures = [failure for lesson in lessons for failure in per_lesson[lesson.id]]
    return CheckReport(
        lessons=len(lessons),
        cells=sum(len(lesson.cells) for lesson in lessons),
        checked_cells=sum(1 for lesson in lessons for cell in lesson.cells if cell.checked),
        failures=tuple(failures),
        errors=tuple(errors),
        exercises=sum(len(lesson.exercises) for lesson in lessons),
    )


if __name__ == "__main__":  # pragma: no cover - run as a child by run_isolated
    if sys.argv[1:] == ["--zygote"]:
        _zygote()
    if len(sys.argv) != 4:
        sys.stderr.write("usage: python -m tui_lab.lesson_check LESSON.md RESULTS TIMEOUT\n")
        raise SystemExit(2)
    _child(sys.argv[1], sys.argv[2], float(sys.argv[3]))
