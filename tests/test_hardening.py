"""Issue 16, "never a traceback, never an orphan": each case found by fuzzing, as a specification.

Every mistake in what the user gives (a file, a flag, an output folder, a scheduler address)
ends in one line on stderr naming the problem, exit code 2, and nothing written; workers die
with their coordinator; a run's record is written once however many processes finish it.
Simulations here are tiny (North East, 0.05-0.2% of families, 1 year).
"""

from __future__ import annotations

import errno
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from sim.config import ConfigError
from sim.output import staged
from sim.workflows.cli import main
from sim.workflows.preflight import check_out
from sim.workflows.sweep import PARTS, RUNS, read_records, write_record

ROOT = Path(__file__).resolve().parent.parent

TINY = """
[base]
run.region = "North East"
run.scale = 0.002
run.years = 1

[design]
replications = 2
seed = 4

[factors]
"levers.funding" = [1.0, 1.5]

[outputs]
final_years = 1
"""


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("cscsim: error:"), err
    assert "Traceback" not in err
    return err


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --- 1. valid inputs never crash the model -----------------------------------------------------
@pytest.mark.parametrize("seed", [0, 1, 3])
def test_a_run_in_which_no_child_is_in_care_finishes(tmp_path, seed):
    """North East at the minimum scale: at times nobody is in care (was an IndexError in
    placements.separated), and with seeds 1 and 3 no provider at all (was an IndexError in
    writing placements.csv)."""
    out = tmp_path / "out"
    assert main(["run", "--region", "North East", "--scale", "0.0005", "--years", "2",
                 "--seed", str(seed), "--out", str(out), "--quiet"]) == 0
    assert (out / "annual.csv").exists()


def test_no_sibling_is_separated_when_nobody_is_in_care():
    from types import SimpleNamespace

    import numpy as np

    from sim.placements import separated
    from sim.population import Population

    pop = Population(4, 4)
    pop.families.append(4)
    pop.children.append(4, family=np.arange(4))
    model = SimpleNamespace(pop=pop)
    assert separated(model, np.arange(4)).tolist() == [False] * 4


# --- 2. --out on another filesystem ------------------------------------------------------------
def test_results_are_staged_inside_the_output_folder(tmp_path):
    """Staging beside --out fails across filesystems (--out a mount point); inside it cannot."""
    out = tmp_path / "out"
    with staged(out) as stage:
        assert stage.parent == out
        (stage / "a.csv").write_text("x\n")
    assert tree(out) == {"a.csv"}


def test_a_failed_write_leaves_no_folder_behind(tmp_path):
    with pytest.raises(ConfigError, match="No space left on device; nothing written"), \
            staged(tmp_path / "a" / "b"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(tmp_path.iterdir()) == []


def _mount_point_on_another_device() -> Path | None:
    for mp in (Path("/dev/shm"),):
        try:
            if mp.is_mount() and os.stat(mp).st_dev != os.stat(mp.parent).st_dev \
                    and os.access(mp, os.W_OK):
                return mp
        except OSError:
            pass
    return None


@pytest.mark.skipif(_mount_point_on_another_device() is None,
                    reason="needs a writable mount point on another device (/dev/shm)")
def test_writing_into_a_mount_point_works():
    mp = _mount_point_on_another_device()
    name = f"cscsim-test-{os.getpid()}.txt"
    try:
        with staged(mp) as stage:
            (stage / name).write_text("x\n")
        assert (mp / name).read_text() == "x\n"
    finally:
        (mp / name).unlink(missing_ok=True)


# --- 3. workers die with their coordinator; records are written once ---------------------------
def test_a_run_record_is_written_once_however_many_processes_finish_it(tmp_path):
    rec = {"exp": "d", "run_id": 3, "point": 1, "replicate": 1, "seed": 9, "status": "ok",
           "outcomes": {"cla": 1.0}, "annual": {"year": [1]}, "seconds": 0.1}
    assert write_record(tmp_path, rec) is True
    assert write_record(tmp_path, {**rec, "seconds": 0.2}) is False  # a survivor, later
    assert [p.name for p in (tmp_path / RUNS).iterdir()] == ["3.ok.json"]
    assert read_records(tmp_path, "d")[3]["seconds"] == 0.1


def test_records_missing_fields_are_ignored_not_a_traceback(tmp_path):
    (tmp_path / RUNS).mkdir()
    (tmp_path / RUNS / "1.ok.json").write_text('{"exp": "d", "run_id": 1}')
    (tmp_path / "old.jsonl").write_text('{"exp": "d", "status": "ok"}\n[1, 2]\n')
    assert read_records(tmp_path, "d") == {}


def _records(out: Path) -> int:
    return len(list((out / PARTS / RUNS).glob("*.json"))) if (out / PARTS / RUNS).exists() else 0


@pytest.mark.parametrize("backend", ["process", "dask"])
def test_workers_die_when_their_coordinator_is_killed(tmp_path, backend):
    exp = write(tmp_path / "e.toml", TINY.replace("replications = 2", "replications = 30"))
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim.workflows.cli", "sweep", str(exp), "--out",
                             str(out), "--workers", "2", "--backend", backend, "--quiet"],
                            cwd=ROOT, stderr=subprocess.PIPE, start_new_session=True)
    alive: list[psutil.Process] = []
    try:
        t0 = time.time()
        while _records(out) < 2:
            assert proc.poll() is None and time.time() - t0 < 120
            time.sleep(0.05)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 2
        proc.kill()  # kill -9 of the coordinator alone
        proc.wait()
        _, alive = psutil.wait_procs(children, timeout=5)
        assert alive == [], [p.cmdline() for p in alive]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for p in alive:  # if the test failed, leave no orphan behind
            p.kill()
    # the killed sweep resumes to one row per run
    assert main(["sweep", str(exp), "--out", str(out), "--resume", "--workers", "1",
                 "--quiet"]) == 0
    import pandas as pd

    assert sorted(pd.read_csv(out / "runs.csv").run_id) == list(range(60))


# --- 4. NaN, infinity and huge numbers for whole-number settings -------------------------------
NAN_CASES = {
    "scenario nan": ("scenario", "[run]\nyears = nan\n", "run.years = nan"),
    "scenario inf": ("scenario", "[run]\nyears = inf\n", "run.years = inf"),
    "scenario huge": ("scenario", "[run]\nyears = 99999999999999999999999\n", "run.years"),
    "scenario -inf float": ("scenario", "[levers]\nfunding = -inf\n", "levers.funding = -inf"),
    "factor list": ("experiment", TINY.replace("[1.0, 1.5]", "[1.0, nan]"), "levers.funding"),
    "factor range": ("experiment", TINY.replace('"levers.funding" = [1.0, 1.5]',
                                                '"run.years" = { min = 1, max = inf, steps = 2 }'),
                     "run.years.max: run.years = inf"),
    "base": ("experiment", TINY.replace("run.years = 1", "run.years = nan"), "run.years = nan"),
    "rows": ("experiment", TINY.replace('[factors]\n"levers.funding" = [1.0, 1.5]', "")
             .replace("seed = 4", 'seed = 4\nkind = "rows"\n[[design.rows]]\n"run.years" = inf'),
             "run.years = inf"),
}


@pytest.mark.parametrize("case", list(NAN_CASES))
def test_nan_and_infinity_are_refused_in_one_line(case, tmp_path, capsys):
    kind, text, expected = NAN_CASES[case]
    path = write(tmp_path / "f.toml", text)
    out = tmp_path / "out"
    argv = (["run", str(path), "--out", str(out)] if kind == "scenario"
            else ["sweep", str(path), "--out", str(out)])
    assert main(argv) == 2
    assert expected in one_error_line(capsys)
    assert tree(tmp_path) == {"f.toml"}


def test_nan_on_the_command_line_and_in_the_app_scenario_is_refused(tmp_path, capsys):
    assert main(["run", "--scale", "nan", "--out", str(tmp_path / "o")]) == 2
    assert "run.scale = nan" in one_error_line(capsys)
    bad = write(tmp_path / "s.toml", "[run]\nyears = nan\n")
    assert main(["app", "--scenario", str(bad), "--port", "1"]) == 2
    assert "run.years = nan" in one_error_line(capsys)
    assert tree(tmp_path) == {"s.toml"}


# --- 5. design size ----------------------------------------------------------------------------
def test_a_huge_design_is_refused_at_once_naming_the_override(tmp_path, capsys):
    factors = "\n".join(f'"levers.{k}" = {{ min = 0.5, max = 1.5, steps = 1000 }}'
                        for k in ("funding", "poverty", "early_help_capacity",
                                  "health_visitor_fte", "local_sufficiency"))
    path = write(tmp_path / "big.toml", f"[factors]\n{factors}\n")
    t0 = time.process_time()
    assert main(["plan", str(path)]) == 2
    assert time.process_time() - t0 < 5
    assert "1,000,000,000,000,000 runs" in one_error_line(capsys)


def test_the_run_limit_can_be_raised_by_a_user_who_means_it(tmp_path, capsys):
    path = write(tmp_path / "e.toml", TINY.replace("seed = 4", "seed = 4\nmax_runs = 3"))
    assert main(["plan", str(path)]) == 2
    assert "the design has 4 runs" in (err := one_error_line(capsys))
    assert "max_runs = 4" in err
    path.write_text(TINY.replace("seed = 4", "seed = 4\nmax_runs = 4"))
    assert main(["plan", str(path)]) == 0


def test_a_million_run_design_needs_the_override(tmp_path, capsys):
    path = write(tmp_path / "e.toml", TINY.replace("replications = 2", "replications = 100000")
                 .replace("[1.0, 1.5]", "[1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9]"))
    assert main(["plan", str(path)]) == 2
    assert "1,000,000 runs" in one_error_line(capsys)


# --- 6. silent loss ----------------------------------------------------------------------------
def test_a_factor_set_twice_in_one_table_is_refused(tmp_path, capsys):
    path = write(tmp_path / "e.toml", TINY.replace('"levers.funding" = [1.0, 1.5]',
                                                   '"levers.funding" = [1.0]\n'
                                                   'levers.funding = [2.0]'))
    assert main(["plan", str(path)]) == 2
    assert "levers.funding is set twice" in one_error_line(capsys)


# --- 7. the app ----------------------------------------------------------------------------
@pytest.fixture
def fake_server(monkeypatch):
    """cmd_app up to the point where it would serve: uvicorn.run is recorded, not run."""
    import solara.server.settings
    import uvicorn

    from sim.workflows.app import NO_BASELINE_ENV, START_BASELINE_ENV
    from sim.workflows.mapview import AppConfig

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda *a, **k: calls.append(k))
    monkeypatch.setattr(solara.server.settings.kernel, "cull_timeout",
                        solara.server.settings.kernel.cull_timeout)
    # cmd_app sets these; each is set then deleted here, so monkeypatch restores it afterwards
    for key in ("SOLARA_KERNEL_CULL_TIMEOUT", "SOLARA_APP", "SOLARA_TELEMETRY_MIXPANEL_ENABLE",
                "SOLARA_THEME_SHOW_BANNER", *AppConfig.ENV.values(), START_BASELINE_ENV,
                NO_BASELINE_ENV):
        monkeypatch.setenv(key, os.environ.get(key, "x"))
        monkeypatch.delenv(key)
    return calls


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_app_sessions_are_freed_minutes_not_a_day_after_the_page_goes(fake_server, capsys):
    import solara.server.settings

    from sim.workflows.app import SESSION_TIMEOUT

    assert main(["app", "--port", str(_free_port())]) == 0
    assert solara.server.settings.kernel.cull_timeout == SESSION_TIMEOUT == "45s"
    assert "warning" not in capsys.readouterr().err


def test_app_on_every_interface_warns_in_one_line(fake_server, capsys):
    assert main(["app", "--host", "0.0.0.0", "--port", str(_free_port())]) == 0
    warning = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert len(warning) == 1 and "--host 0.0.0.0" in warning[0]
    assert fake_server and fake_server[0]["host"] == "0.0.0.0"


def test_app_on_a_busy_port_is_refused_in_one_line(capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["app", "--port", str(s.getsockname()[1])]) == 2
    assert "cannot listen there" in one_error_line(capsys)


# --- 8. damaged sweep folders ------------------------------------------------------------------
@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    exp = write(folder / "e.toml", TINY)
    assert main(["sweep", str(exp), "--out", str(folder / "done"), "--workers", "1",
                 "--quiet"]) == 0
    return folder / "done"


def _copy(src: Path, dst: Path) -> Path:
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_merge_refuses_an_empty_plan(finished, tmp_path, capsys):
    d = _copy(finished, tmp_path / "d")
    (d / PARTS / "experiment.json").write_text("")
    assert main(["merge", str(d), "--out", str(tmp_path / "m")]) == 2
    assert "experiment.json is empty" in one_error_line(capsys)
    assert not (tmp_path / "m").exists()


def test_merge_refuses_a_plan_that_is_not_one(finished, tmp_path, capsys):
    d = _copy(finished, tmp_path / "d")
    (d / PARTS / "experiment.json").write_text('{"digest": 3}')
    assert main(["merge", str(d), "--out", str(tmp_path / "m")]) == 2
    assert "damaged" in one_error_line(capsys)


@pytest.mark.parametrize("damage, expected", [
    (lambda d: (d / "runs.csv").write_text(""), "runs.csv is empty"),
    (lambda d: (d / "runs.csv").write_text("run_id,point,replicate\n0,0,0\n"),
     "lacks the column(s) levers.funding"),
    (lambda d: (d / "manifest.json").write_text("{"), "manifest.json is empty or damaged"),
    (lambda d: (d / "manifest.json").write_text('{"kind": "cscsim sweep"}'), "incomplete"),
])
def test_analyse_refuses_a_damaged_sweep_in_one_line(finished, tmp_path, capsys, damage,
                                                     expected):
    d = _copy(finished, tmp_path / "d")
    damage(d)
    before = tree(d)
    assert main(["analyse", str(d)]) == 2
    assert expected in one_error_line(capsys)
    assert tree(d) == before


# --- 9. --out problems, found before anything runs ---------------------------------------------
def _outs(tmp_path: Path) -> dict[str, tuple[str, str]]:
    (tmp_path / "a_file").write_text("x")
    return {
        "existing file": (str(tmp_path / "a_file"), "is a file, not a folder"),
        "/dev/null": ("/dev/null", "is a device or special file"),
        "300-character name": (str(tmp_path / ("x" * 300)), "File name too long"),
        "empty": ("", "--out is empty"),
        "under a file": (str(tmp_path / "a_file" / "sub"), "is a file, not a folder"),
    }


@pytest.mark.parametrize("command", ["run", "sweep"])
@pytest.mark.parametrize("case", ["existing file", "/dev/null", "300-character name", "empty",
                                  "under a file"])
def test_a_bad_output_folder_is_refused_before_anything_runs(case, command, tmp_path, capsys):
    out, expected = _outs(tmp_path)[case]
    before = tree(tmp_path)
    exp = write(tmp_path.parent / f"{tmp_path.name}-e.toml", TINY)
    argv = (["run", "--region", "North East", "--scale", "0.002", "--years", "1"]
            if command == "run" else ["sweep", str(exp)])
    t0 = time.process_time()
    assert main([*argv, "--out", out]) == 2
    assert time.process_time() - t0 < 5  # refused before simulating
    assert expected in one_error_line(capsys)
    assert tree(tmp_path) == before


def test_an_unwritable_output_folder_is_refused(tmp_path, capsys):
    target = "/sys/fs/cscsim-test"  # sysfs: not writable even by root
    if os.access("/sys/fs", os.W_OK) and not os.path.ismount("/sys"):
        pytest.skip("no unwritable folder to try")
    assert main(["run", "--out", target, "--check"]) == 2
    assert "cannot write in /sys/fs" in one_error_line(capsys)


def test_too_little_free_space_is_refused_before_running(tmp_path):
    with pytest.raises(ConfigError, match=r"only .* is free on"):
        check_out(tmp_path / "out", needed=10**18)
    assert list(tmp_path.iterdir()) == []


def test_a_disk_that_fills_during_the_write_leaves_nothing(tmp_path, capsys, monkeypatch):
    import sim.output

    def full(df, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sim.output, "write_csv", full)
    out = tmp_path / "out"
    assert main(["run", "--region", "North East", "--scale", "0.0005", "--years", "1",
                 "--out", str(out), "--quiet"]) == 2
    assert "No space left on device" in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_the_checks_are_reported_in_one_line(tmp_path, capsys):
    assert main(["run", "--region", "North East", "--scale", "0.002", "--out",
                 str(tmp_path / "o"), "--check"]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "writable" in err[0] and "free" in err[0] and "needed" in err[0]
    assert list(tmp_path.iterdir()) == []


# --- 10. schedulers, odd files, retry advice ---------------------------------------------------
def test_a_malformed_scheduler_address_is_refused(tmp_path, capsys):
    exp = write(tmp_path / "e.toml", TINY)
    assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--backend", "dask",
                 "--scheduler", "nonsense"]) == 2
    assert "--scheduler 'nonsense' is not allowed" in one_error_line(capsys)
    assert tree(tmp_path) == {"e.toml"}


def test_an_unreachable_scheduler_is_refused_quickly_with_nothing_written(tmp_path, capsys):
    exp = write(tmp_path / "e.toml", TINY)
    t0 = time.monotonic()
    assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--backend", "dask",
                 "--scheduler", f"tcp://127.0.0.1:{_free_port()}"]) == 2
    assert time.monotonic() - t0 < 10
    assert "no scheduler answers there" in one_error_line(capsys)
    assert tree(tmp_path) == {"e.toml"}


def test_a_listening_server_that_is_not_a_scheduler_is_refused(tmp_path, capsys):
    exp = write(tmp_path / "e.toml", TINY)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--backend", "dask",
                     "--scheduler", f"tcp://127.0.0.1:{s.getsockname()[1]}"]) == 2
    assert "not as a Dask scheduler" in one_error_line(capsys)
    assert tree(tmp_path) == {"e.toml"}


@pytest.mark.parametrize("text, expected", [
    ("a = " + "[" * 3000 + "]" * 3000, "nested too deeply"),
    ("a = " + "{b=" * 2000 + "1" + "}" * 2000, "nested too deeply"),
])
def test_deeply_nested_toml_is_refused(tmp_path, capsys, text, expected):
    path = write(tmp_path / "s.toml", text)
    assert main(["run", str(path), "--out", str(tmp_path / "o")]) == 2
    assert expected in one_error_line(capsys)


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_replay_from_after_year_1_is_refused_before_anything_is_written(tmp_path, capsys,
                                                                          command):
    path = write(tmp_path / "s.toml", "[run]\nstart_year = 2010\nreplay_from = 2012\n")
    args = [str(path)] if command == "run" else [str(path), str(path), "--reps", "2"]
    assert main([command, *args, "--out", str(tmp_path / "o")]) == 2
    line = one_error_line(capsys)
    assert "run.replay_from = 2012 is not allowed" in line and "(2010)" in line
    assert tree(tmp_path) == {"s.toml"}


def test_an_endless_file_is_refused_without_reading_it_all(tmp_path, capsys):
    assert main(["run", "/dev/zero", "--out", str(tmp_path / "o")]) == 2
    assert "larger than" in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_raised_is_not_blindly_sent_back_to_retry(tmp_path, capsys):
    exp = write(tmp_path / "e.toml", TINY + "\n[testing]\nfail_runs = [1]\n")
    assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "1 InjectedFailureError" in err and "raises again with the same seed" in err
    assert json.loads((tmp_path / "o" / "manifest.json").read_text())["failure_types"] == {
        "InjectedFailureError": 1}


def test_a_run_that_kills_its_worker_is_recorded_and_the_rest_finish(tmp_path, capsys):
    """A run whose worker dies every time (segfault, out of memory) used to stop the sweep, and
    --resume then died the same way; now it is isolated, recorded once, and the sweep ends."""
    exp = write(tmp_path / "e.toml", TINY.replace("replications = 2", "replications = 4")
                + "\n[testing]\ncrash_runs = [2]\n")
    assert main(["sweep", str(exp), "--out", str(tmp_path / "o"), "--workers", "2",
                 "--quiet"]) == 0
    import pandas as pd

    failures = pd.read_csv(tmp_path / "o" / "failures.csv")
    assert list(failures.run_id) == [2] and failures.error_type[0] == "WorkerDiedError"
    assert "died while running this run alone" in failures.error[0]
    assert sorted(pd.read_csv(tmp_path / "o" / "runs.csv").run_id) == [0, 1, 3, 4, 5, 6, 7]
    assert "1 WorkerDiedError" in capsys.readouterr().err
