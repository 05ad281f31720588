"""``cscsim sweep`` and ``cscsim merge``: many runs of an experiment, crash-safe, on any backend.

How a sweep keeps its results (docs/sweeps.md has the user's view):

- Before anything is written the experiment is validated in full, every design point included;
  a mistake is a :class:`~sim.config.ConfigError` (exit 2) and the output folder is untouched.
- ``OUT/parts/experiment.json`` records the plan: the resolved experiment, its digest and every
  run ``(run_id, point, replicate, seed)``. ``--resume`` refuses a folder whose digest differs.
- Before the first run, ``--out`` is checked (writable, filesystem, free space) and so is
  ``--scheduler`` (:mod:`sim.workflows.preflight`), and the design's size is within
  ``[design] max_runs``.
- Each finished run's record (its summary outcomes, its annual table, or its error) is written
  once, by the worker, to ``OUT/parts/runs/<run_id>.ok.json`` (or ``.failed.json``): a temporary
  file, fsynced, hard-linked into place, which fails if the file exists. A crash leaves the whole
  record or none; a second process finishing the same run cannot write it twice. Records are
  exact (JSON round-trips floats), so the merged CSVs do not depend on which worker, backend or
  session produced a run. (Part files ``*.jsonl`` of earlier versions are still read.)
- Workers die with their coordinator (PR_SET_PDEATHSIG on Linux, and a watchdog thread).
- At the end every record is read, one per run id (a success beats a recorded failure), sorted,
  and written with :func:`sim.output.staged`: ``runs.csv``, ``annual.csv``, ``failures.csv``,
  ``manifest.json``.

A run that raises is caught in the worker and recorded as data in ``failures.csv``; the sweep goes
on. ``[testing] fail_runs`` in an experiment file makes the listed run ids raise
:class:`InjectedFailureError` instead of running, so the failure path can be tested honestly.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import re
import secrets
import shutil
import socket
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from sim.config import ConfigError, one_line

PARTS = "parts"
PLAN = "experiment.json"
RUNS = "runs"
SESSIONS = "sessions.jsonl"
#: Table formats a sweep can write (``--format``): CSV for anyone, Parquet (pyarrow) for big
#: sweeps, whose annual table is smaller and much faster to read as Parquet.
FORMATS = ("csv", "parquet")
TABLES = ("runs", "annual", "failures")


def output_files(fmt: str = "csv") -> tuple[str, ...]:
    """The files a finished sweep holds in format ``fmt``."""
    return (*(f"{t}.{fmt}" for t in TABLES), "manifest.json")


def check_format(fmt: str) -> None:
    """Refuse an unknown format, or Parquet without pyarrow, before anything is written."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r} is not allowed: {' or '.join(FORMATS)}")
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ConfigError("--format parquet needs pyarrow: pip install 'cscsim[parquet]'")\
                from None


def read_table(folder: str | Path, table: str):
    """One table (runs, annual or failures) of a finished sweep, in whichever format its
    manifest says it was written (CSV when the manifest predates ``--format``)."""
    import pandas as pd

    folder = Path(folder)
    m = json.loads((folder / "manifest.json").read_text())
    fmt = m.get("format", "csv")
    path = folder / f"{table}.{fmt}"
    if not path.exists():
        raise ConfigError(f"{folder} is not a finished sweep: {path.name} is missing")
    return pd.read_parquet(path) if fmt == "parquet" else pd.read_csv(path)


class InjectedFailureError(RuntimeError):
    """Raised instead of running a run listed in ``[testing] fail_runs`` (tests only)."""


@dataclass(frozen=True)
class RunTask:
    """Everything a worker needs for one run; plain data, so it pickles to any backend."""

    run_id: int
    point: int
    replicate: int
    seed: int
    factors: dict[str, Any]
    base: dict[str, Any]  # Scenario.to_dict() of the base scenario
    final_years: int
    outcomes: tuple[str, ...]
    digest: str
    part_dir: str
    session: str
    fail: bool = False
    crash: bool = False


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _append_line(path: Path, record: dict[str, Any]) -> None:
    """Append one record as a single write + fsync, so a crash leaves at most a torn last line."""
    line = (json.dumps(record, separators=(",", ":")) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        os.write(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


_CODE: str | None = None


def code_fingerprint() -> str:
    """A hash of the model's source (sim/, agents/, policies/) as this process first saw it.

    Stored with every run, so a sweep whose code changed between runs (an edit in the middle of
    a long sweep, or a resume after an upgrade) says so in its manifest instead of silently
    mixing two models. The experiment digest covers parameters, not code.
    """
    global _CODE
    if _CODE is None:
        h = hashlib.sha256()
        root = Path(__file__).resolve().parents[2]
        for pkg in ("sim", "agents", "policies"):
            for f in sorted((root / pkg).rglob("*")):
                if f.suffix in (".py", ".csv", ".toml") and "__pycache__" not in f.parts:
                    h.update(str(f.relative_to(root)).encode())
                    h.update(f.read_bytes())
        _CODE = h.hexdigest()[:12]
    return _CODE


def _record_path(part_dir: Path, run_id: int, status: str) -> Path:
    return part_dir / RUNS / f"{run_id}.{'ok' if status == 'ok' else 'failed'}.json"


def write_record(part_dir: Path, record: dict[str, Any]) -> bool:
    """Write a run's record once: ``parts/runs/<run_id>.<ok|failed>.json``, created exclusively.

    The record is written to a temporary file, fsynced and hard-linked into place, which fails
    if the file already exists: a second process finishing the same run (a worker that outlived
    a killed coordinator while a resume ran it again) cannot write it twice, and a crash leaves
    either the whole record or none. Returns whether this call wrote it.
    """
    folder = part_dir / RUNS
    folder.mkdir(parents=True, exist_ok=True)
    final = _record_path(part_dir, record["run_id"], record["status"])
    if final.exists():
        return False
    fd, tmp = tempfile.mkstemp(prefix=f".{record['run_id']}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(record, separators=(",", ":")).encode())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, final)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(tmp)


def _watch_parent(parent: int) -> None:
    """Make this worker die with the coordinator that started it.

    On Linux the kernel sends SIGKILL when the parent dies (prctl PR_SET_PDEATHSIG); everywhere
    a daemon thread also checks once a second that the parent is still this process's parent,
    and exits if it is not (covering other systems and a parent that died before prctl ran).
    """
    import signal
    import threading

    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="cscsim-parent-watch", daemon=True).start()


def run_one(task: RunTask) -> dict[str, Any]:
    """Run one simulation, append its record to this worker's part file, return a short status.

    Any exception from the model becomes a ``failed`` record (error type, message, traceback);
    KeyboardInterrupt and other BaseExceptions propagate, because an interrupted run is not a
    result and must be run again on ``--resume``.
    """
    from sim.config import Scenario
    from sim.model import CareSystem

    t0 = time.perf_counter()
    record: dict[str, Any] = {"exp": task.digest, "run_id": task.run_id, "point": task.point,
                              "replicate": task.replicate, "seed": task.seed}
    try:
        if task.crash:  # [testing] crash_runs: the worker dies, as in a segfault or OOM kill
            import signal

            os.kill(os.getpid(), signal.SIGKILL)
        if task.fail:
            raise InjectedFailureError(f"run {task.run_id} listed in [testing] fail_runs")
        base = task.base
        scenario = Scenario.from_dict(base, where=f"run {task.run_id}")
        scenario = scenario.with_overrides({**task.factors, "run.seed": task.seed},
                                           where=f"run {task.run_id}")
        record["code"] = code_fingerprint()
        model = CareSystem(scenario)
        model.run()
        annual = model.annual_frame()
        tail = annual.tail(task.final_years)
        record["status"] = "ok"
        record["outcomes"] = {o: float(tail[o].mean()) for o in task.outcomes}
        record["annual"] = {c: annual[c].tolist() for c in annual.columns}
    except Exception as e:
        record["status"] = "failed"
        record["error_type"] = type(e).__name__
        record["error"] = str(e)
        record["traceback"] = "".join(traceback.format_exception(e, limit=-4)).strip()
    record["seconds"] = round(time.perf_counter() - t0, 3)
    record["session"] = task.session
    write_record(Path(task.part_dir), record)
    return {"run_id": task.run_id, "status": record["status"], "seconds": record["seconds"]}


# --- reading what has been done ------------------------------------------------------------
def _valid(rec: Any, digest: str) -> bool:
    """A record of this experiment with every field the CSVs are built from."""
    if not isinstance(rec, dict) or rec.get("exp") != digest:
        return False
    if not all(isinstance(rec.get(k), int) and not isinstance(rec.get(k), bool)
               for k in ("run_id", "point", "replicate", "seed")):
        return False
    if not isinstance(rec.get("seconds"), int | float):
        return False
    if rec.get("status") == "ok":
        return isinstance(rec.get("outcomes"), dict) and isinstance(rec.get("annual"), dict)
    return rec.get("status") == "failed" and all(
        isinstance(rec.get(k), str) for k in ("error_type", "error", "traceback"))


def read_records(part_dir: Path, digest: str) -> dict[int, dict[str, Any]]:
    """Every complete record in ``part_dir``, one per run id (success beats failure).

    Reads ``runs/*.json`` (one file per run and status) and the ``*.jsonl`` part files that
    earlier versions appended to. Records that do not parse or lack a field (a torn line, a
    file damaged by hand) are ignored, so that run is simply run again on ``--resume``.
    """
    best: dict[int, dict[str, Any]] = {}

    def take(rec: Any) -> None:
        if not _valid(rec, digest):
            return
        old = best.get(rec["run_id"])
        if old is None or (old["status"] != "ok" and rec["status"] == "ok"):
            best[rec["run_id"]] = rec

    for path in sorted((part_dir / RUNS).glob("*.json")):
        with contextlib.suppress(OSError, ValueError):
            take(json.loads(path.read_bytes()))
    for path in sorted(part_dir.glob("*.jsonl")):
        if path.name == SESSIONS:
            continue
        with contextlib.suppress(OSError), open(path, "rb") as fh:
            for raw in fh:
                if not raw.endswith(b"\n"):
                    continue  # torn by a crash: that run is not done
                with contextlib.suppress(ValueError):
                    take(json.loads(raw))
    return best


def read_sessions(part_dir: Path) -> list[dict[str, Any]]:
    path = part_dir / SESSIONS
    if not path.exists():
        return []
    out = []
    with contextlib.suppress(OSError):
        for raw in path.read_bytes().splitlines():
            with contextlib.suppress(ValueError):
                rec = json.loads(raw)
                if isinstance(rec, dict):
                    out.append(rec)
    return out


# --- writing the results -------------------------------------------------------------------
def finalize(plan: dict[str, Any], records: dict[int, dict[str, Any]], out: Path,
             sessions: list[dict[str, Any]], shard: list[int] | None,
             extra: dict[str, Any] | None = None, fmt: str = "csv") -> dict[str, Any]:
    """Write runs, annual and failures tables and manifest.json from the records, atomically.

    The annual table carries each run's ids and factor values beside its years, so it can be
    grouped by design point without a join. A factor that is already a column of the run's own
    annual table (every schedulable input, e.g. ``levers.early_help_capacity``, which holds the
    factor's value in force) is not written twice."""
    import numpy as np
    import pandas as pd

    from sim.indicators import COLUMNS, INPUTS
    from sim.output import cscsim_version, git_commit, staged, write_csv

    exp = plan["experiment"]
    factors = [f["name"] for f in exp["factors"]]
    points = exp["points"]
    expected = [r for r in plan["runs"] if shard is None or r[0] % shard[1] == shard[0] - 1]
    ok = [records[r[0]] for r in expected if r[0] in records and records[r[0]]["status"] == "ok"]
    failed = [records[r[0]] for r in expected
              if r[0] in records and records[r[0]]["status"] != "ok"]
    missing = [r[0] for r in expected if r[0] not in records]

    def ids(rec: dict[str, Any]) -> dict[str, Any]:
        return {"run_id": rec["run_id"], "point": rec["point"], "replicate": rec["replicate"],
                "seed": rec["seed"], **{f: points[rec["point"]][f] for f in factors}}

    outcomes = exp["outcomes"]
    runs = pd.DataFrame([{**ids(r), **r["outcomes"]} for r in ok],
                        columns=["run_id", "point", "replicate", "seed", *factors, *outcomes])
    if ok:
        parts = []
        for r in ok:
            a = pd.DataFrame(r["annual"])
            keys = {k: v for k, v in ids(r).items() if k not in a.columns}
            parts.append(pd.concat([pd.DataFrame(keys, index=a.index), a], axis=1))
        annual = pd.concat(parts, ignore_index=True)
    else:
        annual = pd.DataFrame(columns=["run_id", "point", "replicate", "seed",
                                       *[f for f in factors if f not in INPUTS], "year",
                                       *COLUMNS])
    failures = pd.DataFrame(
        [{**ids(r), "error_type": r["error_type"], "error": r["error"],
          "traceback": r["traceback"]} for r in failed],
        columns=["run_id", "point", "replicate", "seed", *factors, "error_type", "error",
                 "traceback"])
    seconds = np.array([records[r[0]]["seconds"] for r in expected if r[0] in records])
    codes = sorted({r.get("code", "?") for r in ok})

    manifest = {
        "kind": "cscsim sweep",
        "complete": not missing,
        "experiment": {k: exp[k] for k in ("name", "kind", "replications", "seed", "seeds",
                                           "samples", "levels", "second_order", "factors",
                                           "final_years", "outcomes", "fail_runs")},
        "description": plan.get("description", ""),
        "source": plan.get("source"),
        "digest": plan["digest"],
        "file": plan.get("raw"),
        "design_points": points,
        "base_scenario": exp["base"],
        "shard": shard,
        "runs": {"planned": len(expected), "ok": len(ok), "failed": len(failed),
                 "missing": len(missing)},
        "missing_run_ids": missing[:1000],
        "seed_scheme": ("run seed = first uint32 of numpy SeedSequence(seed, spawn_key="
                        + ("(replicate,))" if exp["seeds"] == "common"
                           else "(point, replicate))")),
        "summary_outcomes": f"mean over the final {exp['final_years']} simulated years",
        "failure_types": {t: sum(r["error_type"] == t for r in failed)
                          for t in sorted({r["error_type"] for r in failed})},
        "code_fingerprints": codes,
        "mixed_code": len(codes) > 1,
        "cscsim_version": cscsim_version(),
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "packages": _versions(),
        "sessions": sessions,
        "timings_seconds": {
            "wall": round(sum(s.get("wall_seconds", 0.0) for s in sessions), 3),
            "run_total": round(float(seconds.sum()), 3) if seconds.size else 0.0,
            "run_mean": round(float(seconds.mean()), 3) if seconds.size else None,
            "run_max": round(float(seconds.max()), 3) if seconds.size else None,
        },
        **(extra or {}),
        "format": fmt,
        "files": list(output_files(fmt)),
    }
    tables = {"runs": runs.sort_values("run_id"),
              "annual": annual.sort_values(["run_id", "year"], kind="stable"),
              "failures": failures.sort_values("run_id")}
    with staged(out) as stage:
        for name, df in tables.items():
            if fmt == "parquet":
                df.reset_index(drop=True).to_parquet(stage / f"{name}.parquet", index=False)
            else:
                write_csv(df, stage / f"{name}.csv")
        (stage / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n")
    for other in FORMATS:  # a resumed or re-merged sweep in another format: no stale tables
        if other != fmt:
            for name in TABLES:
                (out / f"{name}.{other}").unlink(missing_ok=True)
    return manifest


def _versions() -> dict[str, str]:
    out = {}
    for p in ("mesa", "numpy", "pandas", "SALib", "dask", "distributed"):
        with contextlib.suppress(PackageNotFoundError):
            out[p] = version(p)
    return out


# --- the sweep -----------------------------------------------------------------------------
def parse_shard(text: str | None) -> list[int] | None:
    """``"I/N"`` (1 <= I <= N) -> ``[I, N]``; this shard runs the run ids with id % N == I - 1."""
    if text is None:
        return None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or not 1 <= int(m[1]) <= int(m[2]):
        raise ConfigError(f"--shard {text!r} is not allowed: I/N with 1 <= I <= N, e.g. 3/10")
    return [int(m[1]), int(m[2])]


def make_plan(exp, shard: list[int] | None) -> dict[str, Any]:
    return {"digest": exp.digest(), "experiment": exp.resolved(), "description": exp.description,
            "source": exp.source, "raw": exp.raw, "shard": shard,
            "runs": [list(r) for r in exp.runs()], "created": _now()}


def read_plan(path: Path, advice: str) -> dict[str, Any]:
    """``parts/experiment.json``, or a ConfigError if it is empty, damaged or not a plan."""
    try:
        plan = json.loads(path.read_bytes())
    except (OSError, ValueError) as e:
        why = "empty" if isinstance(e, ValueError) and not path.stat().st_size else "unreadable"
        raise ConfigError(f"{path} is {why} (not a sweep plan); {advice}") from None
    ok = (isinstance(plan, dict) and isinstance(plan.get("digest"), str)
          and isinstance(plan.get("runs"), list) and isinstance(plan.get("experiment"), dict)
          and all(isinstance(r, list) and len(r) == 4 for r in plan["runs"]))
    if ok:
        exp = plan["experiment"]
        ok = (isinstance(exp.get("factors"), list) and isinstance(exp.get("points"), list)
              and isinstance(exp.get("outcomes"), list))
    if not ok:
        raise ConfigError(f"{path} is damaged (not a sweep plan); {advice}")
    return plan


def prepare_out(out: Path, plan: dict[str, Any], resume: bool) -> None:
    """Check ``out`` can take this sweep (raise ConfigError if not) before writing anything."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a folder")
    old_plan = out / PARTS / PLAN
    if old_plan.exists():
        old = read_plan(old_plan, f"remove {out} or choose another --out")
        if not resume:
            raise ConfigError(f"{out} already holds a sweep ({old.get('source')}); add --resume "
                              f"to complete it, or choose another --out")
        if old.get("digest") != plan["digest"]:
            raise ConfigError(f"{out} holds a sweep of a different experiment (digest "
                              f"{old.get('digest')}, now {plan['digest']}): the experiment file "
                              f"changed since it started; restore it or choose another --out")
        if old.get("shard") != plan["shard"]:
            raise ConfigError(f"{out} holds shard {old.get('shard')}, not {plan['shard']}; "
                              f"use the same --shard to resume it")
        return
    if any(out.iterdir()):
        raise ConfigError(f"--out {out} exists and does not hold a sweep; choose a new or empty "
                          f"folder")


def run_sweep(experiment_path: str | Path, out: str | Path, workers: int = 1,
              backend: str = "process", scheduler: str | None = None,
              shard: list[int] | None = None, resume: bool = False, retry_failed: bool = False,
              quiet: bool = False, check: bool = False,
              fmt: str = "csv") -> dict[str, Any]:
    """Run (or complete) a sweep; returns the manifest. Raises ConfigError on bad input."""
    from sim.workflows.experiment import load_experiment

    check_format(fmt)
    exp = load_experiment(experiment_path)
    if workers < 1:
        raise ConfigError(f"--workers {workers} is not allowed: 1 or more")
    if backend not in ("process", "dask"):
        raise ConfigError(f"--backend {backend!r} is not allowed: process or dask")
    if scheduler and backend != "dask":
        raise ConfigError("--scheduler needs --backend dask")
    from sim.workflows.preflight import check_out, check_scheduler, sweep_bytes

    plan = make_plan(exp, shard)
    n_mine = sum(1 for r in plan["runs"] if shard is None or r[0] % shard[1] == shard[0] - 1)
    checked = [check_out(out, sweep_bytes(n_mine, exp.base.run.years))]
    out = Path(out)
    prepare_out(out, plan, resume)
    if scheduler:
        checked.append(check_scheduler(scheduler))
    if check or not quiet:
        print(f"cscsim: checked {'; '.join(checked)}"
              + ("; the experiment is valid (--check: nothing run)" if check else ""),
              file=sys.stderr)
    if check:
        return {}

    fresh = not out.exists()
    part_dir = out / PARTS
    try:
        part_dir.mkdir(parents=True, exist_ok=True)
        if not (part_dir / PLAN).exists():
            _write_json_atomic(part_dir / PLAN, plan)
    except OSError as e:
        raise ConfigError(f"cannot write {part_dir}: {e.strerror or e}") from None
    done = read_records(part_dir, plan["digest"])
    if retry_failed:
        done = {k: v for k, v in done.items() if v["status"] == "ok"}
    mine = [r for r in exp.runs() if shard is None or r[0] % shard[1] == shard[0] - 1]
    session = secrets.token_hex(4)
    base = exp.base.to_dict()
    fail = set(exp.fail_runs)
    tasks = [RunTask(rid, p, rep, seed, exp.points[p], base, exp.final_years, exp.outcomes,
                     plan["digest"], str(part_dir), session, rid in fail,
                     rid in exp.crash_runs and workers > 1 and backend == "process")
             for rid, p, rep, seed in mine if rid not in done]

    info = {"session": session, "started": _now(), "backend": backend, "workers": workers,
            "scheduler": scheduler, "host": socket.gethostname(), "to_run": len(tasks),
            "already_done": len(mine) - len(tasks)}
    t0 = time.perf_counter()
    executed = 0
    failures = 0
    interrupted = False
    removed = False
    from sim.workflows.progress import progress_bar

    desc = exp.name + (f" [shard {shard[0]}/{shard[1]}]" if shard else "")
    bar = progress_bar(total=len(tasks), desc=desc, unit="run", disable=quiet,
                       dynamic_ncols=True)
    if resume and info["already_done"] and not quiet:
        bar.write(f"resuming: {info['already_done']} of {len(mine)} runs already done",
                  file=sys.stderr)

    def finished(status: dict[str, Any]) -> None:
        nonlocal executed, failures
        executed += 1
        failures += status["status"] != "ok"
        bar.update(1)
        if failures:
            bar.set_postfix(failed=failures, refresh=False)

    try:
        if not tasks:
            pass
        elif backend == "dask":
            try:
                _run_dask(tasks, workers, scheduler, finished)
            except SchedulerUnreachableError as e:
                if executed == 0 and fresh:  # nothing done: leave no folder behind
                    bar.close()
                    removed = True
                    shutil.rmtree(out, ignore_errors=True)
                    raise ConfigError(f"--scheduler {scheduler}: cannot connect "
                                      f"({one_line(str(e))[:200]}); nothing written") from None
                raise
        elif workers == 1:
            for t in tasks:
                finished(run_one(t))
        else:
            _run_processes(tasks, workers, finished)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        info.update(finished=_now(), wall_seconds=round(time.perf_counter() - t0, 3),
                    executed=executed, interrupted=interrupted)
        if not removed:
            _append_line(part_dir / SESSIONS, info)
    if interrupted:
        raise KeyboardInterrupt
    records = read_records(part_dir, plan["digest"])
    return finalize(plan, records, out, read_sessions(part_dir), shard,
                    extra={"backend": backend, "workers": workers}, fmt=fmt)


def _worker_init(parent: int) -> None:
    """Workers leave Ctrl-C to the coordinator, which stops them in order, and die with it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _watch_parent(parent)


class WorkerDiedError(RuntimeError):
    """The worker process running a run died (a signal, the out-of-memory killer, a crash in
    native code) while running that run alone, so the run itself is the cause."""


class _PoolBrokenError(Exception):
    def __init__(self, in_flight: list[RunTask]) -> None:
        super().__init__(f"a worker died with {len(in_flight)} runs in flight")
        self.in_flight = in_flight


def _run_processes(tasks: list[RunTask], workers: int, finished) -> None:
    """Run ``tasks`` on a spawn-context process pool of ``workers`` processes.

    When a worker dies, the pool breaks and every run in flight is lost; those runs are put
    aside and, once the others are done, each is run alone in a pool of one: one that still
    kills its worker is recorded as a :class:`WorkerDiedError` failure (rerunning it would kill
    a worker every time), the others simply finish. So one bad run neither stops the sweep nor
    takes the runs beside it down with it.
    """
    from collections import deque

    queue = deque(tasks)
    aside: list[RunTask] = []
    while queue:
        try:
            _pool_run(queue, workers, finished)
        except _PoolBrokenError as e:
            aside += e.in_flight
    for task in sorted(aside, key=lambda t: t.run_id):
        try:
            _pool_run(deque([task]), 1, finished)
        except _PoolBrokenError:
            finished(_coordinator_failure(task, WorkerDiedError(
                "the worker process died while running this run alone (killed by a signal, "
                "out of memory, or a crash in native code)")))


def _pool_run(queue, workers: int, finished) -> None:
    """Run runs from ``queue`` (popped as they are submitted) until it is empty, at most 2 runs
    queued per worker (Ctrl-C stays prompt); raise _PoolBrokenError if a worker dies."""
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                               initializer=_worker_init, initargs=(os.getpid(),))
    pending: dict = {}

    def submit() -> None:
        task = queue.popleft()
        try:
            pending[pool.submit(run_one, task)] = task
        except BrokenProcessPool:  # a worker died since the last look: not this run's fault
            queue.appendleft(task)
            raise

    def stop() -> None:
        for fut in pending:
            fut.cancel()
        for proc in list((pool._processes or {}).values()):  # the workers this pool started
            proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    try:
        while queue and len(pending) < 2 * workers:
            submit()
        while pending:
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                try:
                    status = fut.result()
                except BrokenProcessPool:
                    broken = True
                    continue
                finished(status)
                del pending[fut]
            if broken:
                raise BrokenProcessPool
            while queue and len(pending) < 2 * workers:
                submit()
    except BrokenProcessPool:
        lost = list(pending.values())  # in flight when a worker died
        pending.clear()
        stop()
        raise _PoolBrokenError(lost) from None
    except BaseException:
        stop()
        raise
    pool.shutdown(wait=True)


class SchedulerUnreachableError(RuntimeError):
    """No Dask scheduler could be reached at the address given with ``--scheduler``."""


def connect(address: str, timeout: str = "30s"):
    """A Dask Client of the scheduler at ``address``; any failure to reach or speak to it (not
    only network errors: a server that is not a Dask scheduler can answer with garbage) is a
    :class:`SchedulerUnreachableError`."""
    from dask.distributed import Client

    try:
        return Client(address, timeout=timeout)
    except Exception as e:
        raise SchedulerUnreachableError(f"{type(e).__name__}: {e}") from None


def _run_dask(tasks: list[RunTask], workers: int, scheduler: str | None, finished) -> None:
    """Dask distributed: an existing scheduler, or a LocalCluster of processes on loopback.

    A run whose worker dies repeatedly (Dask gives up with KilledWorker) is recorded as a failure
    by the coordinator, so one pathological run does not stop the sweep.
    """
    import logging

    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = connect(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
    try:
        slots = max(1, sum(client.nthreads().values())) * 2
        queue = iter(tasks)
        by_key = {}

        def submit(t: RunTask):
            fut = client.submit(run_one, t, key=f"cscsim-run-{t.digest}-{t.session}-{t.run_id}",
                                pure=False)
            by_key[fut.key] = t
            return fut

        first = [submit(t) for _, t in zip(range(slots), queue, strict=False)]
        stream = as_completed(first)
        for fut in stream:
            task = by_key.pop(fut.key)
            if fut.status == "finished":
                finished(fut.result())
            else:
                exc = fut.exception()
                finished(_coordinator_failure(task, exc))
            fut.release()
            nxt = next(queue, None)
            if nxt is not None:
                stream.add(submit(nxt))
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _coordinator_failure(task: RunTask, exc: BaseException) -> dict[str, Any]:
    record = {"exp": task.digest, "run_id": task.run_id, "point": task.point,
              "replicate": task.replicate, "seed": task.seed, "status": "failed",
              "error_type": type(exc).__name__, "error": str(exc),
              "traceback": "the worker process running this run died (seen by the "
                           "coordinator; no Python traceback)",
              "seconds": 0.0}
    write_record(Path(task.part_dir), record)
    return {"run_id": task.run_id, "status": "failed", "seconds": 0.0}


# --- merge ---------------------------------------------------------------------------------
def merge(dirs: list[str | Path], out: str | Path, partial: bool = False,
          fmt: str = "csv") -> dict[str, Any]:
    """Merge sweep folders (shards of one experiment) into ``out``; raise ConfigError if unsafe."""
    check_format(fmt)
    if not dirs:
        raise ConfigError("merge: give at least one sweep folder")
    plans = []
    for d in dirs:
        p = Path(d) / PARTS / PLAN
        if not p.exists():
            raise ConfigError(f"merge: {d} is not a sweep folder (no {PARTS}/{PLAN})")
        plans.append(read_plan(p, f"merge cannot use {d}"))
    digests = {p["digest"] for p in plans}
    if len(digests) > 1:
        raise ConfigError(f"merge: the folders hold different experiments (digests "
                          f"{', '.join(sorted(digests))}); only shards of one experiment merge")
    from sim.workflows.preflight import check_out, sweep_bytes

    check_out(out, sweep_bytes(len(plans[0]["runs"]), 1))
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"merge: --out {out} exists and is not empty; choose a new folder")
    plan = plans[0]
    records: dict[int, dict[str, Any]] = {}
    sessions = []
    for d in dirs:
        recs = read_records(Path(d) / PARTS, plan["digest"])
        for rid, rec in recs.items():
            old = records.get(rid)
            if old is None or (old["status"] != "ok" and rec["status"] == "ok"):
                records[rid] = rec
        sessions += read_sessions(Path(d) / PARTS)
    missing = [r[0] for r in plan["runs"] if r[0] not in records]
    if missing and not partial:
        shards = sorted({tuple(p["shard"]) for p in plans if p.get("shard")})
        raise ConfigError(f"merge: {len(missing)} of {len(plan['runs'])} runs are missing "
                          f"(first: {missing[:5]}); shards given: {shards or 'none'}. Complete "
                          f"them with `cscsim sweep ... --shard I/N --resume`, or pass --partial")
    return finalize(plan, records, out, sessions, None,
                    extra={"merged_from": [str(d) for d in dirs]}, fmt=fmt)


# --- CLI -----------------------------------------------------------------------------------
def cmd_sweep(args: argparse.Namespace) -> int:
    from concurrent.futures.process import BrokenProcessPool

    out = Path(args.out)
    try:
        m = run_sweep(args.experiment, args.out, workers=args.workers, backend=args.backend,
                      scheduler=args.scheduler, shard=parse_shard(args.shard),
                      resume=args.resume, retry_failed=args.retry_failed, quiet=args.quiet,
                      check=args.check, fmt=args.format)
        if args.check:
            return 0
    except KeyboardInterrupt:
        print(f"cscsim: interrupted; finished runs are kept in {out}/{PARTS}/; run the same "
              f"command with --resume to complete the sweep", file=sys.stderr)
        return 130
    except BrokenProcessPool:
        print(f"cscsim: error: a worker process died (out of memory?); finished runs are kept "
              f"in {out}/{PARTS}/; run the same command with --resume (and fewer --workers)",
              file=sys.stderr)
        return 1
    r = m["runs"]
    if not args.quiet:
        print(f"wrote {out}/: {', '.join(m['files'])}: {r['ok']} runs ok, {r['failed']} "
              f"failed, {r['missing']} missing ({m['timings_seconds']['wall']:.1f} s wall)")
    if r["failed"]:
        kinds = m.get("failure_types", {})
        what = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "see the file"
        print(f"cscsim: {r['failed']} run(s) raised ({what}); see {out}/failures.{m['format']}. "
              f"A run raises again with the same seed: --resume --retry-failed helps only once "
              f"the cause is fixed (or if a worker ran out of memory)", file=sys.stderr)
    if m["mixed_code"]:
        print(f"cscsim: warning: runs were made by {len(m['code_fingerprints'])} different "
              f"versions of the model code (edited during the sweep?); see code_fingerprints in "
              f"{out}/manifest.json", file=sys.stderr)
    return 0 if m["complete"] else 1


def cmd_merge(args: argparse.Namespace) -> int:
    m = merge(args.dirs, args.out, partial=args.partial, fmt=args.format)
    r = m["runs"]
    print(f"wrote {args.out}/: {r['ok']} runs ok, {r['failed']} failed, {r['missing']} missing "
          f"from {len(args.dirs)} folder(s)")
    return 0


def cmd_plan(args: argparse.Namespace) -> int:
    from sim.workflows.experiment import load_experiment

    exp = load_experiment(args.experiment)
    print(f"{exp.name}: {exp.kind} design, {len(exp.points)} points x {exp.replications} "
          f"replications = {exp.n_runs} runs; root seed {exp.seed} ({exp.seeds} seeds)")
    for f in exp.factors:
        vals = list(map(str, f.values)) if f.values is not None else None
        if vals is not None and len(vals) > 8:
            vals = [*vals[:3], f"... ({len(vals)} values) ...", *vals[-2:]]
        what = ", ".join(vals) if vals is not None else f"[{f.lo:g}, {f.hi:g}]"
        print(f"  {f.name}: {what}")
    if args.runs:
        print("run_id,point,replicate,seed," + ",".join(exp.factor_names))
        for rid, p, rep, seed in exp.runs():
            vals = ",".join(str(exp.points[p][n]) for n in exp.factor_names)
            print(f"{rid},{p},{rep},{seed}" + (f",{vals}" if vals else ""))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    sw = sub.add_parser("sweep", help="run every run of an experiment file (a parameter sweep)")
    sw.add_argument("experiment", help="experiment file (TOML); see docs/sweeps.md")
    sw.add_argument("--out", required=True, help="output folder (new, or a sweep to --resume)")
    sw.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                    help="worker processes (default: the number of CPUs)")
    sw.add_argument("--backend", choices=("process", "dask"), default="process",
                    help="process pool on this machine, or Dask distributed")
    sw.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. "
                    "tcp://10.0.0.1:8786 (default: a LocalCluster on 127.0.0.1)")
    sw.add_argument("--shard", help="run only shard I of N (I/N, 1-based) for job arrays; "
                    "combine the shards' folders with cscsim merge")
    sw.add_argument("--resume", action="store_true",
                    help="complete a sweep in --out without rerunning finished runs")
    sw.add_argument("--retry-failed", action="store_true",
                    help="with --resume, also rerun runs recorded in failures.csv")
    sw.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    sw.add_argument("--format", default="csv", help="tables as csv (default) or parquet "
                    "(needs pyarrow: pip install 'cscsim[parquet]')")
    sw.add_argument("--check", action="store_true", help="validate the experiment and check "
                    "--out (and --scheduler), then stop; nothing written")
    sw.set_defaults(func=cmd_sweep)

    mg = sub.add_parser("merge", help="merge the folders of a sharded sweep into one")
    mg.add_argument("dirs", nargs="+", help="sweep folders (one per shard)")
    mg.add_argument("--out", required=True, help="folder for the merged CSVs and manifest")
    mg.add_argument("--partial", action="store_true", help="merge even if runs are missing")
    mg.add_argument("--format", default="csv", help="tables as csv (default) or parquet")
    mg.set_defaults(func=cmd_merge)

    pl = sub.add_parser("plan", help="validate an experiment file and list its design")
    pl.add_argument("experiment", help="experiment file (TOML)")
    pl.add_argument("--runs", action="store_true", help="also list every run with its seed")
    pl.set_defaults(func=cmd_plan)
