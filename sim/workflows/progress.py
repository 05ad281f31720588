"""The progress bar every long command shows (runs, validations, calibrations, sweeps).

One place decides how a bar is drawn, so that every command behaves the same way: on standard
error, and, when standard error is not a terminal (a batch job's log file, a pipe, CI), redrawn
at most every :data:`LOG_INTERVAL` seconds. Why: tqdm redraws ten times a second, and written to
a file each redraw is kept, so a five-minute validation left about two thousand progress lines in
its log (measured 27 November 2026) and buried the table it printed. A terminal still sees the
bar move as usual.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm

#: Seconds between redraws when standard error is not a terminal.
LOG_INTERVAL = 30.0


def progress_bar(**kwargs: Any) -> tqdm:
    """A tqdm bar on standard error (``kwargs`` as tqdm's: total, unit, desc, disable, ...),
    redrawn at most every :data:`LOG_INTERVAL` seconds where no one watches it redraw."""
    stream = kwargs.setdefault("file", sys.stderr)
    if not _is_terminal(stream):
        kwargs.setdefault("mininterval", LOG_INTERVAL)
        kwargs.setdefault("maxinterval", max(LOG_INTERVAL, kwargs["mininterval"]))
    return tqdm(**kwargs)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
