"""Checks made before any simulation starts, so a run or sweep cannot fail at the end.

:func:`check_out` makes sure an output folder can be written (not a file or device, names not
too long for the filesystem, a real probe write, enough free space for the expected output) and
:func:`check_scheduler` that a Dask scheduler address is well formed and answers. Each raises
:class:`~sim.config.ConfigError` with one line naming the problem (exit code 2, nothing
written) or returns a short description for the one-line "checked" message the commands print.
"""

from __future__ import annotations

import errno
import os
import shutil
import socket
import stat
import tempfile
from pathlib import Path

from sim.config import ConfigError, shown

#: Bytes a run writes beyond its CSV rows (the figure and the manifest), and per row kind;
#: measured on North West runs (benchmarks: ``cscsim run`` at scale 0.05 for 3 years).
RUN_FIXED_BYTES = 400_000
BYTES_PER_LA_YEAR = 600
BYTES_PER_PERSON_YEAR = 0.1
#: A sweep keeps each run's record in parts/ and its rows in annual.csv and runs.csv.
SWEEP_BYTES_PER_RUN = 4_000
SWEEP_BYTES_PER_RUN_YEAR = 4_000
#: Free space demanded beyond the estimate (the estimate is rough).
SAFETY = 2


def human(n: float) -> str:
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if abs(n) < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} TB"  # pragma: no cover


def run_bytes(scenario) -> int:
    """About how many bytes ``cscsim run`` writes for ``scenario``."""
    from sim.region import load_authorities

    p = scenario.run
    rows = [r for r in load_authorities() if p.region in ("England", r["region"])]
    people = sum(float(r["population_2020"]) for r in rows) * p.scale
    years = p.years + getattr(p, "burn_in_years", 0)
    return int(RUN_FIXED_BYTES + BYTES_PER_LA_YEAR * len(rows) * p.years
               + BYTES_PER_PERSON_YEAR * people * years)


def sweep_bytes(n_runs: int, years: int) -> int:
    """About how many bytes a sweep of ``n_runs`` runs of ``years`` years writes."""
    return int(n_runs * (SWEEP_BYTES_PER_RUN + SWEEP_BYTES_PER_RUN_YEAR * years))


def _stat(path: Path, flag: str, out: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise ConfigError(f"{flag} {shown(out)}: a part of the path is a file, not a folder")\
            from None
    except OSError as e:
        raise ConfigError(f"{flag} {shown(out)}: {e.strerror}") from None


def filesystem(path: Path) -> str:
    """``"ext4 on /"``: the type and mount point of the filesystem holding ``path``."""
    try:
        import psutil

        real = os.path.realpath(path)
        best = None
        for part in psutil.disk_partitions(all=True):
            mp = part.mountpoint
            if (real == mp or real.startswith(mp.rstrip("/") + "/")) and (
                    best is None or len(mp) > len(best.mountpoint)):
                best = part
        if best is not None:
            return f"{best.fstype} on {best.mountpoint}"
    except Exception:  # psutil missing or /proc unreadable: the type is only informative
        pass
    return "filesystem of unknown type"


def check_out(out: str | Path, needed: int, flag: str = "--out") -> str:
    """Check that folder ``out`` can be created (or exists) and take ``needed`` bytes.

    Writes nothing that outlives the call (the probe folder is removed). Returns a description
    such as ``"results/run: writable, ext4 on /, 77.0 GB free, about 1.2 MB needed"``.
    """
    text = str(out)
    if not text.strip():
        raise ConfigError(f"{flag} is empty: give a folder, e.g. {flag} results/run")
    if "\0" in text:
        raise ConfigError(f"{flag} {shown(text)}: a folder name cannot contain a NUL character")
    path = Path(text).absolute()
    st = _stat(path, flag, text)
    if st is not None and not stat.S_ISDIR(st.st_mode):
        what = "a file" if stat.S_ISREG(st.st_mode) else "a device or special file"
        raise ConfigError(f"{flag} {shown(text)} is {what}, not a folder; choose a folder")
    anc, missing = path, []
    while (st_anc := _stat(anc, flag, text)) is None:
        missing.append(anc.name)
        anc = anc.parent
    if not stat.S_ISDIR(st_anc.st_mode):
        raise ConfigError(f"{flag} {shown(text)}: {anc} is a file, so the folder cannot be made")
    try:
        name_max = os.pathconf(anc, "PC_NAME_MAX")
        path_max = os.pathconf(anc, "PC_PATH_MAX")
    except (OSError, ValueError):
        name_max, path_max = 255, 4096
    for name in missing:
        if len(os.fsencode(name)) > name_max:
            raise ConfigError(f"{flag}: the folder name {shown(name, 40)} is "
                              f"{len(os.fsencode(name))} bytes long; this filesystem allows "
                              f"{name_max}")
    if len(os.fsencode(str(path))) + 64 > path_max:  # room for the files written inside
        raise ConfigError(f"{flag} {shown(text)}: the path is too long for this filesystem "
                          f"(at most {path_max - 64} bytes)")
    probe_in = path if st is not None else anc
    try:
        probe = tempfile.mkdtemp(prefix=".cscsim-check-", dir=probe_in)
    except OSError as e:
        why = "read-only filesystem" if e.errno == errno.EROFS else e.strerror
        raise ConfigError(f"{flag} {shown(text)}: cannot write in {probe_in} ({why})") from None
    try:
        with open(os.path.join(probe, "probe"), "wb") as fh:
            fh.write(b"cscsim")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as e:
        raise ConfigError(f"{flag} {shown(text)}: cannot write in {probe_in} ({e.strerror})")\
            from None
    finally:
        shutil.rmtree(probe, ignore_errors=True)
    free = shutil.disk_usage(probe_in).free
    fs = filesystem(probe_in)
    if free < SAFETY * needed:
        raise ConfigError(f"{flag} {shown(text)}: about {human(needed)} will be written but only "
                          f"{human(free)} is free on {fs}; free some space or choose another "
                          f"folder")
    return f"{text}: writable, {fs}, {human(free)} free, about {human(needed)} needed"


def check_scheduler(address: str, timeout: float = 5.0) -> str:
    """Check a Dask scheduler address is well formed and something answers at it."""
    from distributed.comm.addressing import parse_address, parse_host_port

    example = "an address like tcp://10.0.0.1:8786"
    try:
        protocol, location = parse_address(address)
        host, port = parse_host_port(location)
    except (ValueError, TypeError):
        raise ConfigError(f"--scheduler {shown(address)} is not allowed: {example}") from None
    if not 0 < port < 65536:
        raise ConfigError(f"--scheduler {shown(address)}: port {port} is not allowed: 1 to "
                          f"65535")
    if protocol not in ("tcp", "tls"):
        return f"scheduler {address}: {protocol} address, not checked"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except (OSError, UnicodeError) as e:
        why = "no answer" if isinstance(e, TimeoutError) else (
            getattr(e, "strerror", None) or str(e))
        raise ConfigError(f"--scheduler {shown(address)}: no scheduler answers there ({why} "
                          f"within {timeout:g} s); start it, or leave out --scheduler for a "
                          f"local cluster") from None
    import asyncio

    try:
        info = asyncio.run(asyncio.wait_for(_identity(address, timeout), timeout))
    except Exception as e:
        raise ConfigError(f"--scheduler {shown(address)}: something answers there but not as a "
                          f"Dask scheduler ({shown(f'{type(e).__name__}: {e}', 100)})") from None
    if not isinstance(info, dict) or info.get("type") != "Scheduler":
        raise ConfigError(f"--scheduler {shown(address)}: something answers there but it is not "
                          f"a Dask scheduler")
    workers = len(info.get("workers") or {})
    return f"scheduler {address} answers ({workers} worker{'s' * (workers != 1)})"


async def _identity(address: str, timeout: float):
    """The scheduler's answer to Dask's ``identity`` request."""
    from distributed.comm import connect

    comm = await connect(address, timeout=timeout)
    try:
        await comm.write({"op": "identity", "reply": True})
        return await comm.read()
    finally:
        comm.abort()
