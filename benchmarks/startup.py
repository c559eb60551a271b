"""Wall time of ``deescalate review`` on a short transcript, beside ``python -c pass``.

Each command runs in a fresh process, many times, alternating, and the median is
kept. The processes get a private bytecode cache (``PYTHONPYCACHEPREFIX``, filled
by the warm-up runs) so that, as for any installed package, modules are not
recompiled from source at every start, even where ``PYTHONDONTWRITEBYTECODE`` is set.
Also measured: ``python -c "import attrs, transitions"``, what any program built on
the two dependencies pays before running a line of its own (the bar: the command
within 1.5 times that), and the import of the core modules the review runs on
(``deescalate._review``, ``deescalate._loading``): what is left is the command's own
share (argument parsing, reading, printing).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import attrs

from ._timing import Effort
from ._transcripts import EXAMPLES


@attrs.frozen
class StartupCost:
    """Milliseconds per run."""

    review: float
    python: float
    dependencies: float
    core: float


def _review_command() -> list[str]:
    script = Path(sys.executable).with_name("deescalate")
    if script.exists():
        return [str(script), "review", str(EXAMPLES / "clean.jsonl")]
    return [sys.executable, "-m", "deescalate", "review", str(EXAMPLES / "clean.jsonl")]


def measure(effort: Effort) -> StartupCost:
    commands = {
        "review": _review_command(),
        "python": [sys.executable, "-c", "pass"],
        "dependencies": [sys.executable, "-c", "import attrs, transitions"],
        "core": [sys.executable, "-c", "import deescalate._review, deescalate._loading"],
    }
    cache = tempfile.mkdtemp(prefix="deescalate-bench-pyc-")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = cache
    samples: dict[str, list[float]] = {name: [] for name in commands}
    try:
        for round_ in range(effort.scaled(33, 5)):
            for name, command in commands.items():
                start = time.perf_counter()
                subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=True)
                if round_ >= 3:  # the first rounds fill the bytecode cache: warm-up
                    samples[name].append(time.perf_counter() - start)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return StartupCost(**{name: statistics.median(times) * 1e3 for name, times in samples.items()})
