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


# -------------------------------------------------------------------------------------- the parent


@dataclass
class _Job:
    lesson: Any
    proc: subprocess.Popen
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


def _launch(lesson: Any, timeout: float) -> _Job:
    workdir = tempfile.mkdtemp(prefix="dllab-check-")
    results = Path(workdir) / ".results.jsonl"
    stderr = Path(workdir) / ".stderr"
    results.touch()
    with open(os.devnull, "wb") as devnull, open(stderr, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "tui_lab.lesson_check", str(Path(lesson.path).resolve()),
             str(results), repr(float(timeout))],
            cwd=workdir, env=_child_env(), stdin=subprocess.DEVNULL, stdout=devnull, stderr=err,
            start_new_session=True,
        )
    return _Job(lesson, proc, workdir, results, stderr, time.monotonic())


def _kill_group(proc: subprocess.Popen) -> None:
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
    try:
        while pending or running:
            while pending and len(running) < max(1, jobs):
                running.append(_launch(pending.pop(0), timeout))
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
            job.proc.wait()
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
    if len(sys.argv) != 4:
        sys.stderr.write("usage: python -m tui_lab.lesson_check LESSON.md RESULTS TIMEOUT\n")
        raise SystemExit(2)
    _child(sys.argv[1], sys.argv[2], float(sys.argv[3]))
