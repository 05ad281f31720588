"""Property-based tests (hypothesis): whatever scenario file, experiment file or command line a
user gives, cscsim answers with exit 0 or 2, never a traceback; on exit 2 with one line on
stderr naming the problem; and it writes nothing (``run`` and ``sweep`` take ``--check``, which
validates everything and checks ``--out`` without running, so no simulation is needed).

The CI profile tries a few hundred cases in all (under a minute of CPU). For a longer hunt:

    CSCSIM_FUZZ=long .venv/bin/python -m pytest tests/test_fuzz.py --hypothesis-show-statistics
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.parameters import BY_NAME, SECTIONS
from sim.workflows.cli import main

settings.register_profile("ci", max_examples=120, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=5000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("long" if os.environ.get("CSCSIM_FUZZ") == "long" else "ci")

NAMES = sorted(BY_NAME)
#: Whole-number and choice parameters: where a float, NaN or a huge number is most likely to
#: slip through a conversion.
WHOLE = [n for n, p in sorted(BY_NAME.items())
         if p.choices is not None or isinstance(p.default, int)]


def snapshot(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): p.stat().st_size for p in folder.rglob("*")}


def call(argv: list[str]) -> tuple[int, str]:
    """Run ``cscsim argv`` in this process; return its exit code and stderr. Any exception that
    escapes is a traceback the user would have seen, and fails the test."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as e:  # argparse's usage errors
            code = e.code
    return code, err.getvalue()


def assert_answered_properly(code: int, err: str) -> None:
    event(f"exit {code}")
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in (0, 2), (code, err)
    if code == 2:
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith("cscsim: error:"), err
        assert len(lines[0]) > len("cscsim: error: ") + 5


# --- building TOML text ------------------------------------------------------------------------
def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k)} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def toml_key(k: str) -> str:
    return '"' + k.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


#: The values fuzzing found trouble with, drawn as often as all other numbers together.
SPECIAL = [math.nan, math.inf, -math.inf, 10**30, -(10**30), 2**63, 1e300, 1e-300, -0.0, 0,
           1, 2.5, 0.0005, 0.002]
numbers = st.one_of(
    st.sampled_from(SPECIAL),
    st.one_of(st.integers(min_value=-(10**30), max_value=10**30),
              st.integers(min_value=-3, max_value=120),
              st.floats(allow_nan=True, allow_infinity=True),
              st.floats(min_value=0, max_value=2)),
)
scalars = st.one_of(numbers, st.booleans(), st.text(max_size=12),
                    st.sampled_from(["North East", "England", "North Wast", "grid", "sobol"]))
values = st.one_of(scalars, st.lists(scalars, max_size=4),
                   st.dictionaries(st.sampled_from(["min", "max", "steps", "x"]), numbers,
                                   max_size=3))
keys = st.one_of(st.sampled_from(NAMES), st.sampled_from(WHOLE),
                 st.text(min_size=1, max_size=20),
                 st.sampled_from([n.replace("_", "") for n in NAMES[:20]]))


#: (key, value) pairs: half of them a real parameter with a number, the rest anything.
entries = st.one_of(st.tuples(st.sampled_from(WHOLE + NAMES), numbers), st.tuples(keys, values))


def dotted(name: str) -> tuple[str, str]:
    section, _, key = name.partition(".")
    return section, key or "x"


@st.composite
def scenario_texts(draw) -> str:
    lines = []
    if draw(st.booleans()):
        lines.append(f"name = {toml_value(draw(scalars))}")
    tables: dict[str, list[str]] = {}
    for name, value in draw(st.lists(entries, max_size=4)):
        section, key = dotted(name)
        if section not in SECTIONS and draw(st.booleans()):
            section = draw(st.sampled_from(SECTIONS))
        tables.setdefault(section, []).append(f"{toml_key(key)} = {toml_value(value)}")
    for section, body in tables.items():
        lines += [f"[{toml_key(section)}]", *body]
    text = "\n".join(lines) + "\n"
    if draw(st.integers(0, 9)) == 0:  # now and then, damage it
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(st.text(max_size=5)) + text[i:]
    return text


@st.composite
def experiment_texts(draw) -> str:
    kind = draw(st.sampled_from(["grid", "grid", "rows", "lhs", "sobol", "morris", "gird", 3]))
    base = {"run.region": "North East", "run.scale": 0.002, "run.years": 1}
    for name, value in draw(st.lists(entries, max_size=2)):
        base[name] = value
    design = {"kind": kind}
    for key in draw(st.lists(st.sampled_from(["replications", "seed", "seeds", "samples",
                                              "levels", "second_order", "max_runs", "nope"]),
                             max_size=3, unique=True)):
        design[key] = draw(st.one_of(numbers, st.integers(1, 64), scalars))
    factors = {}
    for name in draw(st.lists(st.one_of(st.sampled_from(NAMES), st.sampled_from(WHOLE), keys),
                              max_size=3)):
        factors[name] = draw(st.one_of(
            st.lists(st.one_of(st.floats(0, 3), numbers, scalars), max_size=4),
            st.fixed_dictionaries({"min": numbers, "max": numbers},
                                  optional={"steps": st.one_of(st.integers(-1, 2000),
                                                               numbers)}),
            values))
    lines = ["[base]", *(f"{toml_key(k)} = {toml_value(v)}" for k, v in base.items()),
             "[design]", *(f"{toml_key(k)} = {toml_value(v)}" for k, v in design.items())]
    if kind == "rows" and draw(st.booleans()):
        for _ in range(draw(st.integers(0, 3))):
            lines.append("[[design.rows]]")
            for name in draw(st.lists(st.sampled_from(NAMES[:30]), max_size=2)):
                lines.append(f"{toml_key(name)} = {toml_value(draw(values))}")
    lines.append("[factors]")
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in factors.items()]
    if draw(st.booleans()):
        outcomes = draw(st.lists(st.sampled_from(["cla", "nope"]), max_size=2))
        lines += ["[outputs]", f"final_years = {toml_value(draw(numbers))}",
                  f"outcomes = {toml_value(outcomes)}"]
    return "\n".join(lines) + "\n"


# --- the properties --------------------------------------------------------------------------
@contextlib.contextmanager
def sandbox():
    folder = Path(tempfile.mkdtemp(prefix="cscsim-fuzz-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@given(scenario_texts())
def test_any_scenario_file_is_run_or_refused_in_one_line(text):
    with sandbox() as tmp:
        path = tmp / "s.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        before = snapshot(tmp)
        code, err = call(["run", str(path), "--out", str(tmp / "out"), "--check", "--quiet"])
        assert_answered_properly(code, err)
        assert snapshot(tmp) == before


@given(experiment_texts())
def test_any_experiment_file_is_planned_or_refused_in_one_line(text):
    with sandbox() as tmp:
        path = tmp / "e.toml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        before = snapshot(tmp)
        code, err = call(["sweep", str(path), "--out", str(tmp / "out"), "--check", "--quiet"])
        assert_answered_properly(code, err)
        assert snapshot(tmp) == before


OUTS = ["out", "", "a_file", "a_file/sub", "/dev/null", "x" * 300, "new/deeper/out", ".",
        "bad\x00name"]
FLAG_VALUES = {
    "--years": st.one_of(st.integers(-5, 200).map(str), st.sampled_from(["nan", "inf", "1e400",
                                                                         "", "ten", "2.5"])),
    "--scale": st.one_of(st.floats(allow_nan=True).map(repr), st.sampled_from(
        ["nan", "inf", "-0", "0.0005", "0.002", "1", "2", "", "x"])),
    "--seed": st.one_of(st.integers(-10, 2**70).map(str), st.just("nan")),
    "--region": st.sampled_from(["North East", "north east", "England", "", "Narnia", "synthetic"]),
    "--workers": st.sampled_from(["0", "1", "2", "-1", "99999999999", "x"]),
    "--backend": st.sampled_from(["process", "dask", "threads", ""]),
    "--scheduler": st.sampled_from(["nonsense", "tcp://", "tcp://127.0.0.1:1", "tcp://h:99999",
                                    "inproc://x", ""]),
    "--shard": st.sampled_from(["1/2", "0/2", "3/2", "a/b", "", "1/0"]),
    "--outcomes": st.sampled_from(["cla", "nope", "", ","]),
}


@st.composite
def command_lines(draw) -> list[str]:
    command = draw(st.sampled_from(["run", "sweep", "plan", "merge", "analyse", "params",
                                    "frobnicate"]))
    argv = [command]
    if command in ("sweep", "plan"):
        argv.append(draw(st.sampled_from(["EXP", "MISSING", "DIR", "/dev/zero", ""])))
    elif command == "run" and draw(st.booleans()):
        argv.append(draw(st.sampled_from(["SCEN", "MISSING", "DIR", "/dev/null"])))
    elif command in ("merge", "analyse"):
        argv += draw(st.lists(st.sampled_from(["DIR", "MISSING", "a_file", ""]), min_size=1,
                              max_size=2))
    flags = draw(st.lists(st.sampled_from(list(FLAG_VALUES)), max_size=4, unique=True))
    for flag in flags:
        argv += [flag, draw(FLAG_VALUES[flag])]
    if command in ("run", "sweep", "merge") or draw(st.booleans()):
        argv += ["--out", draw(st.sampled_from(OUTS))]
    if command in ("run", "sweep"):
        argv.append("--check")  # validate and check, never simulate
    if draw(st.booleans()):
        argv.append(draw(st.sampled_from(["--quiet", "--resume", "--partial", "--bogus"])))
    return argv


@given(command_lines())
def test_any_command_line_is_answered_with_exit_0_or_2_in_one_line(argv):
    with sandbox() as tmp:
        (tmp / "a_file").write_text("x")
        (tmp / "DIR").mkdir()
        (tmp / "EXP").write_text('[base]\nrun.region = "North East"\nrun.scale = 0.002\n'
                                 'run.years = 1\n[factors]\n"levers.funding" = [1.0, 1.5]\n')
        (tmp / "SCEN").write_text("[run]\nyears = 1\n")
        before = snapshot(tmp)
        cwd = os.getcwd()
        os.chdir(tmp)  # relative paths (and --out '') land in the sandbox
        try:
            code, err = call(argv)
        finally:
            os.chdir(cwd)
        assert_answered_properly(code, err)
        assert snapshot(tmp) == before
