"""``deescalate report`` at scale: 10,000 transcript files, end to end, with one and two workers.

The corpus is ``deescalate.report.write_sample_corpus`` (made-up but varied
interactions, about eleven events each), written once to a temporary directory.
Each run is the command itself in a fresh process, ``deescalate report DIR
--format json`` to a discarded output, timed on the wall clock (workers run in
other processes, so this process's CPU time would not see them), the median of
the rounds; runs with one and two workers alternate, so a busy spell of the
shared machine hits both alike.

Rows:

* events per second, ``--jobs 1`` and ``--jobs 2``, against the JSON floor (reading
  the same files and ``json.loads``-ing each line, in one process);
* the time of ``--jobs 2`` over that of ``--jobs 1`` (the median of the rounds'
  ratios): at most 0.625, a speedup of 1.6x or more, on two cores;
* memory: the peak resident size of a ``--jobs 1`` report (everything in one
  process) over 10,000 transcripts, against the same over 1,000: flat, at most
  1.1x, because the report is counts, never a list of interactions.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deescalate.report import write_sample_corpus

from ._report import Row
from ._timing import Effort

_PEAK = (
    "import resource, sys; from deescalate.cli import main; "
    "main(['report', sys.argv[1], '--jobs', '1', '--format', 'json', '--out', '/dev/null']); "
    "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
)


def _note(what: str) -> None:
    print(f"  {what}...", file=sys.stderr, flush=True)


def _command(folder: Path, jobs: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "deescalate",
        "report",
        str(folder),
        "--jobs",
        str(jobs),
        "--format",
        "json",
    ]


def _run(folder: Path, jobs: int) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        _command(folder, jobs), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False
    )
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):
        raise RuntimeError(f"deescalate report failed: {result.stderr.decode()[-500:]}")
    return seconds


def _floor(folder: Path) -> float:
    start = time.perf_counter()
    for path in sorted(folder.iterdir()):
        with open(path, "rb") as handle:
            for raw in handle:
                json.loads(raw.decode())
    return time.perf_counter() - start


def _peak_kib(folder: Path) -> int:
    result = subprocess.run(
        [sys.executable, "-c", _PEAK, str(folder)], capture_output=True, text=True, check=True
    )
    return int(result.stdout.split()[-1])


def _events(folder: Path) -> int:
    total = 0
    for path in folder.iterdir():
        with open(path, "rb") as handle:
            total += sum(1 for line in handle if line.strip())
    return total


def rows(effort: Effort) -> list[Row]:
    """The report's rows of the table."""
    count = effort.scaled(10_000, 300)
    small = count // 10
    rounds = effort.scaled(5, 1)
    root = Path(tempfile.mkdtemp(prefix="deescalate-report-bench-"))
    try:
        _note(f"writing {count:,} transcripts")
        big = write_sample_corpus(root / "big", count, seed=1)
        little = write_sample_corpus(root / "little", small, seed=1)
        events = _events(big)
        _run(big, 1)  # warm-up: the files into the page cache, the modules compiled
        one: list[float] = []
        two: list[float] = []
        floor: list[float] = []
        for _ in range(rounds):
            _note("timing --jobs 1, --jobs 2 and the JSON floor")
            one.append(_run(big, 1))
            two.append(_run(big, 2))
            floor.append(_floor(big))
        t1, t2, tf = statistics.median(one), statistics.median(two), statistics.median(floor)
        # The speedup of each round's pair (run back to back), then their median: a busy
        # spell of the shared machine spoils a pair, not the verdict.
        paired = statistics.median(b / a for a, b in zip(one, two, strict=True))
        _note("peak memory at 1/10 and the full count")
        peak_small, peak_big = _peak_kib(little), _peak_kib(big)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    label = f"report, {count:,} transcript files ({events:,} ev)"
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        Row(
            f"{label}, --jobs 1, end to end",
            f"{events / t1:,.0f} ev/s",
            "JSON floor: read the files + json.loads lines",
            f"{events / tf:,.0f} ev/s",
            t1 / tf,
        ),
        Row(
            f"{label}, --jobs 2, end to end",
            f"{events / t2:,.0f} ev/s",
            "JSON floor: read the files + json.loads lines",
            f"{events / tf:,.0f} ev/s",
            t2 / tf,
        ),
        Row(
            f"report --jobs 2 time, {cores} cores ({1 / paired:.2f}x speedup)",
            f"{t2:.2f} s",
            "report --jobs 1 time, the same rounds",
            f"{t1:.2f} s",
            paired,
            bar=1 / 1.6,
        ),
        Row(
            f"report peak memory, {count:,} transcripts, --jobs 1",
            f"{peak_big / 1024:.1f} MB",
            f"the same, {small:,} transcripts",
            f"{peak_small / 1024:.1f} MB",
            peak_big / peak_small,
            bar=1.1,
        ),
    ]


if __name__ == "__main__":
    from ._report import table

    print(table(rows(Effort(quick="--quick" in sys.argv))))
