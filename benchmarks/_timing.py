"""Timing with warm-up, repeated rounds and the median round, as timeit and pytest-benchmark do."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping

import attrs


@attrs.frozen
class Effort:
    """How hard to measure: ``quick`` is for checking that the suite runs, not for numbers."""

    quick: bool = False

    def scaled(self, full: int, quick: int) -> int:
        return quick if self.quick else full


def median_seconds(
    runs: Mapping[str, Callable[[], object]], *, number: int, rounds: int, warmup: int
) -> dict[str, float]:
    """Seconds per call of each run: the median over ``rounds`` of ``number`` calls, after warm-up.

    Rounds of the contenders alternate, so a slow spell of the machine hits them all
    alike. The median, not the mean or the minimum, so that a stray pause in one
    round neither hides nor flatters the typical cost. The garbage collector stays
    on, as in a real process. The clock is this process's CPU time: the machine may
    be shared, and time spent running someone else's process is not ours.
    """
    for run in runs.values():
        for _ in range(warmup):
            run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(rounds):
        for name, run in runs.items():
            start = time.process_time()
            for _ in range(number):
                run()
            samples[name].append((time.process_time() - start) / number)
    return {name: statistics.median(times) for name, times in samples.items()}
