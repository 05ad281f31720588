"""The progress bar long commands show: readable in a terminal and in a batch job's log."""

from __future__ import annotations

import io
import time

from sim.workflows import progress
from sim.workflows.progress import progress_bar


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _redraws(text: str) -> int:
    return text.count("\r") + text.count("\n")


def test_a_log_file_keeps_a_few_lines_not_one_per_redraw(tmp_path):
    with (open(tmp_path / "job.log", "w") as log,
          progress_bar(total=40, unit="week", desc="validate", file=log) as bar):
        for _ in range(40):  # 1.2 s: tqdm's own interval (0.1 s) would redraw about 12 times
            time.sleep(0.03)
            bar.update(1)
    text = (tmp_path / "job.log").read_text()
    assert "40/40" in text  # the finished bar is written
    assert _redraws(text) <= 4  # the first draw, the last, and the close


def test_a_terminal_sees_the_bar_redraw_as_tqdm_does():
    screen = _Terminal()
    with progress_bar(total=10, file=screen) as bar:
        assert bar.mininterval < progress.LOG_INTERVAL


def test_the_log_interval_applies_where_stderr_is_not_a_terminal():
    with progress_bar(total=1, file=io.StringIO(), disable=True) as bar:
        assert bar.disable
    bar = progress_bar(total=1, file=io.StringIO())
    assert bar.mininterval == progress.LOG_INTERVAL
    bar.close()
