"""Run history: one SQLite file (WAL) under the user data dir, `DLLAB_HOME` overriding it.

A run row is written when a run starts and metrics are appended as they come, each in its own
transaction, so a process killed mid-run (kill -9, a dropped SSH session) leaves a readable run.
A run still marked `running` whose process is gone is reported as `interrupted`.
Lesson progress (lessons marked done) lives here too.
"""

from __future__ import annotations

import csv
import io
import json
import os
import socket
import sqlite3
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from tui_lab.errors import ConfigError, StoreError
from tui_lab.paths import dllab_home  # re-exported: callers import it from here

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL DEFAULT 'train',
    group_id TEXT,
    status TEXT NOT NULL,
    model TEXT, dataset TEXT, optimizer TEXT, lr REAL,
    batch_size INTEGER, epochs INTEGER, seed INTEGER, device TEXT,
    config TEXT NOT NULL,
    params INTEGER,
    started REAL NOT NULL, ended REAL,
    pid INTEGER, host TEXT,
    message TEXT, checkpoint TEXT
);
CREATE TABLE IF NOT EXISTS epochs (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL,
    train_loss REAL, train_acc REAL, val_loss REAL, val_acc REAL,
    examples_per_sec REAL, seconds REAL,
    PRIMARY KEY (run_id, epoch)
);
CREATE TABLE IF NOT EXISTS steps (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL, epoch INTEGER NOT NULL, loss REAL,
    PRIMARY KEY (run_id, step)
);
CREATE TABLE IF NOT EXISTS lesson_progress (
    lesson_id TEXT PRIMARY KEY,
    done_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_group ON runs(group_id);
"""

FINAL_STATUSES = ("finished", "diverged", "cancelled", "failed", "interrupted")


def default_store_path() -> Path:
    return dllab_home() / "runs.sqlite3"


@dataclass(frozen=True)
class EpochRow:
    epoch: int
    train_loss: float | None
    train_acc: float | None
    val_loss: float | None
    val_acc: float | None
    examples_per_sec: float | None
    seconds: float | None = None


@dataclass(frozen=True)
class RunSummary:
    id: int
    kind: str
    group_id: str | None
    status: str
    model: str
    dataset: str
    optimizer: str
    lr: float
    batch_size: int
    epochs: int
    seed: int
    device: str | None
    started: float
    ended: float | None
    epochs_done: int
    best_val_acc: float | None
    message: str | None
    params: int | None = None
    checkpoint: str | None = None
    config: dict = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["started"] = _iso(self.started)
        d["ended"] = _iso(self.ended) if self.ended else None
        return d


@dataclass(frozen=True)
class RunDetail:
    summary: RunSummary
    epochs: list[EpochRow]
    steps: list[tuple[int, int, float | None]]  # (step, epoch, loss)
    events: list["RunEvent"] = field(default_factory=list)  # run control: changes, pauses, resumes
    lrs: dict[int, float] = field(default_factory=dict)  # epoch -> lr of its first step

    def to_json(self) -> dict[str, Any]:
        d = self.summary.to_json()
        d["epochs"] = [{**asdict(e), "lr": self.lrs.get(e.epoch)} for e in self.epochs]
        d["steps"] = [{"step": s, "epoch": e, "loss": loss} for s, e, loss in self.steps]
        d["events"] = [e.to_json() for e in self.events]
        return d


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(t))


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped) still answers kill(0); it is not running.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


# === run control (issue 15): events of a run (live hyperparameter changes, pauses, resumes) =========
# Kept in its own table and mixin so the store's opening code above stays separate.

RUN_CONTROL_SCHEMA = """
CREATE TABLE IF NOT EXISTS run_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    step INTEGER NOT NULL, epoch INTEGER NOT NULL,
    kind TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS run_events_run ON run_events(run_id, step);
CREATE TABLE IF NOT EXISTS epoch_lr (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    epoch INTEGER NOT NULL, lr REAL,
    PRIMARY KEY (run_id, epoch)
);
"""

# kind: "hyperparameters" (data: {name: {"old": x, "new": y}}), "paused", "resumed" (the user's pause),
# "continued" (`dllab train --resume`: data {"from_epoch": k, "epochs": E})
RUN_EVENT_KINDS = ("hyperparameters", "paused", "resumed", "continued")


@dataclass(frozen=True)
class RunEvent:
    """Something that happened to a run before global step `step` + 1 (during epoch `epoch`)."""

    step: int
    epoch: int
    kind: str
    data: dict = field(default_factory=dict)
    at: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "epoch": self.epoch, "kind": self.kind, "data": self.data, "at": _iso(self.at)}

    def describe(self) -> str:
        """One line: `step 120 (epoch 2): lr 0.01 -> 0.001`."""
        where = f"step {self.step} (epoch {self.epoch})"
        if self.kind == "hyperparameters":
            parts = [f"{name} {_num(v.get('old'))} -> {_num(v.get('new'))}" for name, v in self.data.items()]
            return f"{where}: " + ", ".join(parts)
        if self.kind == "continued":
            return f"{where}: resumed from epoch {self.data.get('from_epoch')} to run {self.data.get('epochs')} epochs"
        return f"{where}: {self.kind}"


def _num(x: Any) -> str:
    return "-" if x is None else f"{x:g}"


class RunControlStore:
    """RunStore's run-control part: a run's events, and reopening a run to continue it."""

    path: Path

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:  # RunStore's
        raise NotImplementedError

    def add_run_event(self, run_id: int, step: int, epoch: int, kind: str, data: dict[str, Any] | None = None) -> None:
        if kind not in RUN_EVENT_KINDS:
            raise ValueError(f"not a run event kind: {kind}")
        self._exec("INSERT INTO run_events (run_id, step, epoch, kind, data, at) VALUES (?, ?, ?, ?, ?, ?)",
                   (run_id, step, epoch, kind, json.dumps(data or {}), time.time()))

    def run_events(self, run_id: int) -> list[RunEvent]:
        rows = self._exec("SELECT * FROM run_events WHERE run_id = ? ORDER BY step, id", (run_id,)).fetchall()
        return [RunEvent(r["step"], r["epoch"], r["kind"], json.loads(r["data"] or "{}"), r["at"]) for r in rows]

    def set_epoch_lr(self, run_id: int, epoch: int, lr: float) -> None:
        """The learning rate of the epoch's first step (a schedule changes it epoch by epoch)."""
        self._exec("INSERT OR REPLACE INTO epoch_lr VALUES (?, ?, ?)", (run_id, epoch, lr))

    def epoch_lrs(self, run_id: int) -> dict[int, float]:
        return {r["epoch"]: r["lr"] for r in self._exec("SELECT * FROM epoch_lr WHERE run_id = ?", (run_id,))}

    def reopen_run(self, run_id: int, completed_epochs: int, epochs: int, config: dict[str, Any]) -> None:
        """Mark a run running again in this process to continue it after `completed_epochs`: what was
        recorded after that epoch (the steps of an epoch cut short) goes, the events stay."""
        self._exec("DELETE FROM steps WHERE run_id = ? AND epoch > ?", (run_id, completed_epochs))
        self._exec("DELETE FROM epochs WHERE run_id = ? AND epoch > ?", (run_id, completed_epochs))
        self._exec("DELETE FROM epoch_lr WHERE run_id = ? AND epoch > ?", (run_id, completed_epochs))
        self._exec("DELETE FROM run_events WHERE run_id = ? AND epoch > ? AND kind != 'continued'",
                   (run_id, completed_epochs))
        self._exec("UPDATE runs SET status = 'running', ended = NULL, message = NULL, epochs = ?, config = ?,"
                   " pid = ?, host = ? WHERE id = ?",
                   (epochs, json.dumps(config), os.getpid(), socket.gethostname(), run_id))

    def state_path(self, run_id: int) -> Path:
        """The run's training state, written at the end of every epoch (see `tui_lab.checkpoints`)."""
        return self.path.parent / "checkpoints" / f"run-{run_id}.state.pt"

# === end of run control ==========================================================================


class RunStore(RunControlStore):
    """The run history. Safe to share between the UI thread and a training worker thread.

    Opening checks the file (`PRAGMA quick_check`). A damaged file is moved aside, never deleted, with
    its -wal/-shm files, and a fresh store starts; `notice` then holds a one-line message naming both
    paths. A store that cannot be opened or written (read-only or missing `DLLAB_HOME`, `DLLAB_HOME`
    pointing at a file) raises StoreError with a one-line message. `RunStore.in_memory()` is a store
    that keeps nothing: the app uses it to keep working without history.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, _memory: bool = False) -> None:
        self.persistent = not _memory
        self.path = Path(":memory:") if _memory else (Path(path) if path else default_store_path())
        self.notice: str | None = None  # what happened to a damaged store, one line
        self._lock = threading.RLock()
        if _memory:
            self._db = self._connect(":memory:")
        else:
            self._open_checked()
        try:
            with self._lock:
                self._db.executescript(SCHEMA)
                self._db.executescript(RUN_CONTROL_SCHEMA)  # run control's own table (block above)
        except sqlite3.Error as exc:
            self._db.close()
            raise _store_error(self.path, exc) from None

    @classmethod
    def in_memory(cls) -> "RunStore":
        """A store that keeps runs only while this process lives."""
        return cls(_memory=True)

    @staticmethod
    def _connect(target: str) -> sqlite3.Connection:
        db = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=30)
        db.row_factory = sqlite3.Row
        return db

    def _open_checked(self) -> None:
        path = self.path
        parent = path.parent
        if parent.exists() and not parent.is_dir():
            raise StoreError(f"run store: {parent} is not a directory (set DLLAB_HOME to a directory)")
        try:
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"run store: cannot create {parent}: {exc.strerror or exc}") from None
        if path.exists() and not path.is_file():
            raise StoreError(f"run store: {path} is not a file")
        problem = None
        try:
            self._db = self._connect(str(path))
            self._db.execute("PRAGMA journal_mode=WAL")
            rows = self._db.execute("PRAGMA quick_check").fetchall()
            if [tuple(r) for r in rows] != [("ok",)]:
                problem = str(rows[0][0]).splitlines()[0] if rows else "no answer to quick_check"
        except sqlite3.DatabaseError as exc:
            if not _is_damage(exc):
                self._close_quietly()
                raise _store_error(path, exc) from None
            problem = str(exc)
        if problem is not None:
            # move the files aside before closing: SQLite deletes the -wal and -shm on its last close
            try:
                aside = self._move_aside(problem)
            finally:
                self._close_quietly()
            self.notice = f"run store {path} was damaged ({problem}); moved it to {aside} and started a fresh one"
            try:
                self._db = self._connect(str(path))
                self._db.execute("PRAGMA journal_mode=WAL")
            except sqlite3.Error as exc:
                self._close_quietly()
                raise _store_error(path, exc) from None
        try:
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            self._close_quietly()
            raise _store_error(path, exc) from None

    def _close_quietly(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            try:
                db.close()
            except sqlite3.Error:
                pass

    def _move_aside(self, problem: str) -> Path:
        """Rename the damaged file (and its -wal/-shm) to `<name>.damaged-<time>`; never delete it."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{self.path.name}.damaged-{stamp}-{n}")
        try:
            os.replace(self.path, aside)
            for suffix in ("-wal", "-shm"):
                side = self.path.with_name(self.path.name + suffix)
                if side.exists():
                    os.replace(side, aside.with_name(aside.name + suffix))
        except OSError as exc:
            raise StoreError(f"run store {self.path} is damaged ({problem}) and cannot be moved aside: "
                             f"{exc.strerror or exc}") from None
        return aside

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _exec(self, sql: str, args: Iterable[Any] = ()) -> sqlite3.Cursor:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(args))
            except sqlite3.Error as exc:  # read-only, disk full, damaged after opening: one line, no traceback
                raise _store_error(self.path, exc) from None

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            try:
                return self._db.execute(sql, tuple(args)).fetchall()
            except sqlite3.Error as exc:
                raise _store_error(self.path, exc) from None

    # --- writing ------------------------------------------------------------------------------

    def create_run(self, config: dict[str, Any], kind: str = "train", group_id: str | None = None) -> int:
        cur = self._exec(
            "INSERT INTO runs (kind, group_id, status, model, dataset, optimizer, lr, batch_size, epochs, seed,"
            " device, config, started, pid, host) VALUES (?, ?, 'running', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, group_id, config.get("model"), config.get("dataset"), config.get("optimizer"), config.get("lr"),
             config.get("batch_size"), config.get("epochs"), config.get("seed"), config.get("device"),
             json.dumps(config), time.time(), os.getpid(), socket.gethostname()),
        )
        if cur.lastrowid is None:
            raise StoreError(f"run store {self.path}: the new run got no id")
        return int(cur.lastrowid)

    def checkpoint_path(self, run_id: int) -> Path:
        if not self.persistent:  # history off: never write beside the current directory
            import tempfile

            return Path(tempfile.gettempdir()) / f"dllab-checkpoints-{os.getpid()}" / f"run-{run_id}.pt"
        return self.path.parent / "checkpoints" / f"run-{run_id}.pt"

    def set_started(self, run_id: int, device: str, params: int) -> None:
        self._exec("UPDATE runs SET device = ?, params = ? WHERE id = ?", (device, params, run_id))

    def add_step(self, run_id: int, step: int, epoch: int, loss: float | None) -> None:
        self._exec("INSERT OR REPLACE INTO steps VALUES (?, ?, ?, ?)", (run_id, step, epoch, _finite(loss)))

    def add_epoch(self, run_id: int, row: EpochRow) -> None:
        self._exec(
            "INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, row.epoch, _finite(row.train_loss), _finite(row.train_acc), _finite(row.val_loss),
             _finite(row.val_acc), row.examples_per_sec, row.seconds),
        )

    def finish(self, run_id: int, status: str, message: str | None = None, checkpoint: str | None = None) -> None:
        if status not in FINAL_STATUSES:
            raise ValueError(f"not a final status: {status}")
        self._exec("UPDATE runs SET status = ?, ended = ?, message = ?, checkpoint = COALESCE(?, checkpoint) WHERE id = ?",
                   (status, time.time(), message, checkpoint, run_id))

    def delete_run(self, run_id: int) -> None:
        self._exec("DELETE FROM runs WHERE id = ?", (run_id,))

    # --- reading ------------------------------------------------------------------------------

    _SUMMARY_SQL = (
        "SELECT r.*, (SELECT COUNT(*) FROM epochs e WHERE e.run_id = r.id) AS epochs_done,"
        " (SELECT MAX(val_acc) FROM epochs e WHERE e.run_id = r.id) AS best_val_acc FROM runs r"
    )

    def _summary(self, row: sqlite3.Row) -> RunSummary:
        status = row["status"]
        if status == "running" and (row["host"] != socket.gethostname() or not _pid_alive(row["pid"])):
            status = "interrupted"
        return RunSummary(
            id=row["id"], kind=row["kind"], group_id=row["group_id"], status=status, model=row["model"],
            dataset=row["dataset"], optimizer=row["optimizer"], lr=row["lr"], batch_size=row["batch_size"],
            epochs=row["epochs"], seed=row["seed"], device=row["device"], started=row["started"], ended=row["ended"],
            epochs_done=row["epochs_done"], best_val_acc=row["best_val_acc"], message=row["message"],
            params=row["params"], checkpoint=row["checkpoint"], config=_config(row["config"]),
        )

    def list_runs(self, limit: int | None = None, group_id: str | None = None) -> list[RunSummary]:
        sql = self._SUMMARY_SQL
        args: list[Any] = []
        if group_id is not None:
            sql += " WHERE r.group_id = ?"
            args.append(group_id)
        sql += " ORDER BY r.started DESC, r.id DESC"
        if limit is not None:
            sql += f" LIMIT {max(0, int(limit))}"
        return [self._summary(r) for r in self._rows(sql, args)]

    def get_run(self, run_id: int) -> RunDetail:
        from tui_lab.limits import INT64_MAX

        if not isinstance(run_id, int) or not 1 <= run_id <= INT64_MAX:
            raise ConfigError("run", f"no run with id {str(run_id)[:40]} in {self.path}")
        rows = self._rows(self._SUMMARY_SQL + " WHERE r.id = ?", (run_id,))
        row = rows[0] if rows else None
        if row is None:
            raise ConfigError("run", f"no run with id {run_id} in {self.path}")
        epochs = [
            EpochRow(r["epoch"], r["train_loss"], r["train_acc"], r["val_loss"], r["val_acc"], r["examples_per_sec"], r["seconds"])
            for r in self._rows("SELECT * FROM epochs WHERE run_id = ? ORDER BY epoch", (run_id,))
        ]
        steps = [(r["step"], r["epoch"], r["loss"]) for r in self._rows("SELECT * FROM steps WHERE run_id = ? ORDER BY step", (run_id,))]
        return RunDetail(self._summary(row), epochs, steps, self.run_events(run_id), self.epoch_lrs(run_id))

    # --- lesson progress ----------------------------------------------------------------------

    def mark_lesson_done(self, lesson_id: str, done: bool = True) -> None:
        if done:
            self._exec("INSERT OR REPLACE INTO lesson_progress VALUES (?, ?)", (lesson_id, time.time()))
        else:
            self._exec("DELETE FROM lesson_progress WHERE lesson_id = ?", (lesson_id,))

    def done_lessons(self) -> set[str]:
        return {r["lesson_id"] for r in self._rows("SELECT lesson_id FROM lesson_progress")}

    # --- solved exercises (their own table, created on first use) ------------------------------

    _EXERCISES_SQL = ("CREATE TABLE IF NOT EXISTS exercise_progress (lesson_id TEXT NOT NULL, "
                      "exercise INTEGER NOT NULL, solved_at REAL NOT NULL, PRIMARY KEY (lesson_id, exercise))")

    def mark_exercise_solved(self, lesson_id: str, exercise: int) -> None:
        """Record that the learner's prediction for exercise `exercise` (1-based) of a lesson was right."""
        self._exec(self._EXERCISES_SQL)
        self._exec("INSERT OR IGNORE INTO exercise_progress VALUES (?, ?, ?)", (lesson_id, int(exercise), time.time()))

    def solved_exercises(self, lesson_id: str) -> set[int]:
        self._exec(self._EXERCISES_SQL)
        rows = self._exec("SELECT exercise FROM exercise_progress WHERE lesson_id = ?", (lesson_id,))
        return {int(r["exercise"]) for r in rows}

    # --- settings (key -> text; their own table, created on first use) --- issue 18 -----------------
    # Small user preferences (the interface language, key "lang"). `read_setting` below reads one
    # without opening (or creating) the store.

    _SETTINGS_SQL = "CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)"

    def set_setting(self, key: str, value: str) -> None:
        self._exec(self._SETTINGS_SQL)
        self._exec("INSERT OR REPLACE INTO settings VALUES (?, ?)", (str(key), str(value)))

    def get_setting(self, key: str, default: str | None = None) -> str | None:
        self._exec(self._SETTINGS_SQL)
        row = self._exec("SELECT value FROM settings WHERE key = ?", (str(key),)).fetchone()
        return default if row is None else str(row["value"])


def check_store(path: str | os.PathLike | None = None) -> dict[str, Any]:
    """What `dllab doctor` reports about the run store, changing nothing: integrity (quick_check on a
    read-only connection), journal mode, whether it can be written; `usable` False says why in `problem`."""
    import tempfile

    p = Path(path) if path else default_store_path()
    out: dict[str, Any] = {"path": str(p), "exists": p.is_file(), "integrity": None, "journal_mode": None,
                           "writable": False, "usable": False, "problem": None}
    ancestor = p.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        out["problem"] = f"{ancestor} is not a directory (set DLLAB_HOME to a directory)"
        return out
    if p.exists() and not p.is_file():
        out["problem"] = f"{p} is not a file"
        return out
    try:  # can a file be created next to it (the -wal and -shm files need that too)?
        with tempfile.NamedTemporaryFile(dir=ancestor, prefix=".dllab-doctor-"):
            pass
        if p.exists():
            with open(p, "r+b"):
                pass
        out["writable"] = True
    except OSError as exc:
        out["problem"] = f"not writable: {exc.strerror or exc}"
    if p.exists():
        try:
            db = sqlite3.connect(f"{p.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
            try:
                rows = db.execute("PRAGMA quick_check").fetchall()
                out["integrity"] = "; ".join(str(r[0]) for r in rows[:3]) or "no answer"
                out["journal_mode"] = str(db.execute("PRAGMA journal_mode").fetchone()[0])
            finally:
                db.close()
        except sqlite3.Error as exc:
            out["integrity"] = f"damaged ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})"
        if out["integrity"] != "ok" and out["problem"] is None:
            out["problem"] = (f"integrity check failed: {out['integrity']}; the next dllab command moves it aside "
                              "and starts a fresh store")
        elif out["journal_mode"] not in (None, "wal") and out["problem"] is None:
            out["problem"] = f"journal mode is {out['journal_mode']}, not wal; the next dllab command sets it"
    else:
        out["integrity"] = "not created yet"
    out["usable"] = out["writable"] and out["integrity"] in ("ok", "not created yet")
    return out


def _config(text: Any) -> dict:
    """A run's stored config; text that is not a JSON object (edited or damaged by hand) reads as {}."""
    try:
        value = json.loads(text or "{}")
    except (TypeError, ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _is_damage(exc: sqlite3.DatabaseError) -> bool:
    text = str(exc).lower()
    return any(w in text for w in ("not a database", "malformed", "corrupt", "disk image"))


def _store_error(path: Path, exc: BaseException) -> StoreError:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "readonly" in text or "read-only" in text or "unable to open" in text:
        return StoreError(f"run store {path} is not writable ({text}); check DLLAB_HOME and its permissions")
    return StoreError(f"run store {path}: {text}")


def read_setting(key: str, path: str | os.PathLike | None = None) -> str | None:
    """A saved setting, read-only: None when there is no store, no settings table or no such key.

    Used at start-up (the language) by every command, so it never creates the store's file
    (mode=rw: an existing file only; WAL databases cannot always be opened read-only).
    """
    target = Path(path) if path else default_store_path()
    if not target.exists():
        return None
    try:
        db = sqlite3.connect(f"{target.resolve().as_uri()}?mode=rw", uri=True, timeout=5)
        try:
            row = db.execute("SELECT value FROM settings WHERE key = ?", (str(key),)).fetchone()
        finally:
            db.close()
    except sqlite3.Error:
        return None
    return None if row is None else str(row[0])
# --- end of settings (issue 18) ---------------------------------------------------------------------


def _finite(x: float | None) -> float | None:
    import math

    return x if x is not None and math.isfinite(x) else None


def export_run(detail: RunDetail, fmt: str) -> str:
    """A run as CSV (one row per epoch) or JSON (the whole run with its steps)."""
    if fmt == "json":
        return json.dumps(detail.to_json(), indent=2)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(["run_id", "epoch", "train_loss", "train_acc", "val_loss", "val_acc", "examples_per_sec", "seconds"])
        for e in detail.epochs:
            writer.writerow([detail.summary.id, e.epoch, e.train_loss, e.train_acc, e.val_loss, e.val_acc, e.examples_per_sec, e.seconds])
        return buf.getvalue()
    raise ConfigError("format", f"unknown format {fmt!r}; allowed: csv, json")
