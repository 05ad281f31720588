"""Run the sector's own tools on a folder of SSDA903 files that cscsim exported.

Runs in .venv-sector (scripts/sector_env.sh makes it: Python 3.11, pandas 1.x), never in
cscsim's environment, because both tools pin old libraries:

    .venv-sector/bin/python scripts/sector_check.py DIR [--authority GSS] [--json FILE]

DIR holds year folders (DIR/2025/header.csv, episodes.csv, ...), named by the year the
collection ends. For each year it runs every rule of DfE's validator (quality-lac-data-validator,
module validator903) with the previous year as "last year" where there is one, and prints the
rules run, passed and failed (with the rows each failure flags). Then it loads the folder in
Social Finance's demand model (cs-demand-model) and prints its projection of children in care
by age band and placement type a year past the data. The postcode reference data are not loaded
(cscsim's postcodes are synthetic, so no real postcode can match them).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QLACREF_PC_INSECURE", "True")  # no key: the reference is not loaded
os.environ.setdefault("QLAC_DISABLE_PC", "1")  # synthetic postcodes: nothing to look up

TABLE_FILES = ("header.csv", "episodes.csv", "uasc.csv", "previous_permanence.csv")


def validate(folder: Path, last: Path | None, authority: str) -> dict:
    """Every configured rule on one year's files; returns rules run, passed and failed."""
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # the validator writes a log file into the working directory
        try:
            from validator903.config import configured_errors
            from validator903.validator import Validator

            files = []
            for when, f in (("This year", folder), ("Prev year", last)):
                if f is None:
                    continue
                for name in TABLE_FILES:
                    path = f / name
                    if path.is_file() and path.stat().st_size > 0:
                        files.append(
                            {"name": name, "description": when, "fileText": path.read_bytes()}
                        )
            year = int(folder.name)
            meta = {"collectionYear": f"{year - 1}/{str(year)[2:]}", "localAuthority": authority}
            v = Validator(meta, files)
            v.dones, v.skips, v.fails = [], [], []  # class attributes: reset per run
            codes = [e.code for e, _ in configured_errors]
            with contextlib.redirect_stdout(io.StringIO()):  # some rules print debug frames
                results = v.validate(codes)
        finally:
            os.chdir(cwd)
    failed: dict[str, dict] = {}
    descriptions = {e.code: e.description for e, _ in configured_errors}
    for table, df in results.items():
        if table == "metadata" or not hasattr(df, "columns"):
            continue
        for col in df.columns:
            if col.startswith("ERR_") and df[col].fillna(False).astype(bool).any():
                code = col[4:]
                entry = failed.setdefault(
                    code, {"description": descriptions.get(code, ""), "rows": {}}
                )
                entry["rows"][table] = int(df[col].fillna(False).astype(bool).sum())
    ran = sorted(set(v.dones))
    return {
        "year": int(folder.name),
        "run": len(ran),
        "skipped": sorted(set(v.skips)),
        "crashed": sorted(set(v.fails)),
        "failed": failed,
        "passed": len([c for c in ran if c not in failed]),
    }


def project(folder: Path) -> str:
    """cs-demand-model on the whole folder: transition rates, then a projection a year on."""
    import pandas as pd
    from cs_demand_model import DemandModellingDataContainer, ModelPredictor, PopulationStats
    from cs_demand_model.config import Config
    from cs_demand_model.datastore import fs_datastore
    from dateutil.relativedelta import relativedelta

    with tempfile.TemporaryDirectory() as tmp:
        # Only the year folders: the demand model reads every CSV it finds.
        staged = Path(tmp) / "data"
        for year in sorted(p for p in folder.iterdir() if p.is_dir()):
            (staged / year.name).mkdir(parents=True)
            for name in ("header.csv", "episodes.csv"):
                (staged / year.name / name).write_bytes((year / name).read_bytes())
        config = Config()
        dc = DemandModellingDataContainer(fs_datastore(str(staged)), config)
        stats = PopulationStats(dc.enriched_view, config)
        end = dc.end_date
        start = end - relativedelta(months=12)
        predictor = ModelPredictor.from_model(stats, start, end)
        predicted = predictor.predict(365, progress=False)
        with pd.option_context("display.width", 200, "display.max_columns", 30):
            last = predicted.tail(1).T
            last.columns = ["children"]
            return (
                f"data {dc.start_date:%Y-%m-%d} to {end:%Y-%m-%d}; rates from "
                f"{start:%Y-%m-%d}; children in care at {end:%Y-%m-%d}: "
                f"{int(stats.stock.loc[:end].tail(1).sum(axis=1).iloc[0])}; projected a year "
                f"on ({predicted.index[-1]:%Y-%m-%d}): "
                f"{predicted.tail(1).sum(axis=1).iloc[0]:.1f}\n" + last.round(1).to_string()
            )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--authority", default="E06000001", help="GSS code for the validator")
    ap.add_argument("--json", type=Path, help="also write the results as JSON")
    args = ap.parse_args()
    years = sorted(p for p in args.dir.iterdir() if p.is_dir() and p.name.isdigit())
    if not years:
        print(f"sector_check: {args.dir}: no year folders", file=sys.stderr)
        return 2
    report = {"validator": [], "demand_model": None}
    for i, folder in enumerate(years):
        r = validate(folder, years[i - 1] if i else None, args.authority)
        report["validator"].append(r)
        print(
            f"DfE 903 validator, {folder.name}: {r['run']} rules run, {r['passed']} passed, "
            f"{len(r['failed'])} failed, {len(r['skipped'])} skipped (tables absent), "
            f"{len(r['crashed'])} could not run"
        )
        for code, f in sorted(r["failed"].items()):
            rows = ", ".join(f"{t} {n} rows" for t, n in f["rows"].items())
            print(f"  failed {code}: {f['description']} ({rows})")
        if r["crashed"]:
            print(f"  could not run: {', '.join(r['crashed'])}")
    try:
        report["demand_model"] = project(args.dir)
        print("cs-demand-model projection:\n" + report["demand_model"])
    except Exception as e:  # report, do not hide: the result is data for the caller
        report["demand_model_error"] = f"{type(e).__name__}: {e}"
        print(f"cs-demand-model failed: {report['demand_model_error']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n")
    return 0 if report["demand_model"] is not None else 1


if __name__ == "__main__":
    sys.exit(main())
