"""Reviewing transcripts as the CLI does, beside reading and ``json.loads``-ing the same lines.

Reviewing is ``review(read_transcript(handle))`` in advisory mode under facts-first,
with the file opened in binary mode as the CLI opens it: reading, parsing,
validating and applying every event. The floor reads the same file the same way
and ``json.loads`` each line, decoded first (quicker than handing ``json.loads``
bytes, whose encoding it sniffs in Python). The files are in the page cache after
the warm-up.

The same is also measured with the lines already in memory on both sides, which
leaves out the file system (and, for short transcripts, opening a file each): a
stricter ratio, shown for information.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

import attrs

import deescalate as d

from ._timing import Effort, median_seconds
from ._transcripts import as_bytes, example, long_transcript, renamed


@attrs.frozen
class Pair:
    """Microseconds per event reviewing, and for the floor, timed in the same rounds."""

    review: float
    floor: float
    events: int


@attrs.frozen
class ReviewCost:
    long_files: Pair
    short_files: Pair
    long_memory: Pair
    short_memory: Pair
    #: Per event, the long transcript and one a tenth as long (reviewed ten times per
    #: round, for the same work), the two alone in their rounds.
    long_alone: float
    tenth: float
    tenth_events: int


Source = Callable[[], Iterable[Iterable[bytes]]]


def _reviewer(transcripts: Source) -> Callable[[], object]:
    policy, advisory = d.FACTS_FIRST, d.Mode.ADVISORY

    def review_all() -> int:
        total = 0
        for lines in transcripts():
            total += d.review(d.read_transcript(lines), policy, advisory).events
        return total

    return review_all


def _parser(transcripts: Source) -> Callable[[], object]:
    loads = json.loads

    def parse_all() -> int:
        total = 0
        for lines in transcripts():
            for raw in lines:
                loads(raw.decode())
                total += 1
        return total

    return parse_all


def _in_memory(transcripts: list[list[bytes]]) -> Source:
    return lambda: transcripts


def _from_files(paths: list[Path]) -> Source:
    def files() -> Iterable[Iterable[bytes]]:
        for path in paths:
            with open(path, "rb") as handle:
                yield handle

    return files


def measure(effort: Effort, long: int = 20_000, short: int = 1_000) -> ReviewCost:
    """One transcript of ``long`` events and ``short`` short ones (examples/clean.jsonl and
    violations.jsonl in turn, each with its own ids), from files and from memory; and
    the per-event cost at ``long`` and a tenth of it."""
    shapes = [example("clean.jsonl"), example("violations.jsonl")]
    sets = {
        "long": [long_transcript(long)],
        "short": [as_bytes(renamed(shapes[n % 2], n)) for n in range(short)],
        "tenth": [long_transcript(long // 10)] * 10,
    }
    events = {name: sum(len(lines) for lines in transcripts) for name, transcripts in sets.items()}
    folder = Path(tempfile.mkdtemp(prefix="deescalate-bench-"))
    try:
        paths: dict[str, list[Path]] = {}
        for name in ("long", "short"):
            paths[name] = []
            for n, lines in enumerate(sets[name]):
                path = folder / f"{name}-{n}.jsonl"
                path.write_bytes(b"".join(lines))
                paths[name].append(path)
        runs: dict[str, tuple[Callable[[], object], int]] = {}
        for name in ("long", "short"):
            files, memory = _from_files(paths[name]), _in_memory(sets[name])
            runs[f"{name}_files"] = (_reviewer(files), events[name])
            runs[f"{name}_files_floor"] = (_parser(files), events[name])
            runs[f"{name}_memory"] = (_reviewer(memory), events[name])
            runs[f"{name}_memory_floor"] = (_parser(memory), events[name])
        runs["long_alone"] = (_reviewer(_in_memory(sets["long"])), events["long"])
        runs["tenth"] = (_reviewer(_in_memory(sets["tenth"])), events["tenth"])
        for name, (run, count) in runs.items():
            assert run() == count, name
        rounds = effort.scaled(31, 3)

        def micros(names: list[str]) -> dict[str, float]:
            """Per event, the named runs timed in the same rounds (and no other)."""
            chosen = {name: runs[name][0] for name in names}
            seconds = median_seconds(chosen, number=1, rounds=rounds, warmup=1)
            return {name: seconds[name] / runs[name][1] * 1e6 for name in names}

        paired = micros([name for name in runs if name not in ("long_alone", "tenth")])
        flatness = micros(["long_alone", "tenth"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    def pair(name: str) -> Pair:
        return Pair(paired[name], paired[f"{name}_floor"], events[name.split("_")[0]])

    return ReviewCost(
        long_files=pair("long_files"),
        short_files=pair("short_files"),
        long_memory=pair("long_memory"),
        short_memory=pair("short_memory"),
        long_alone=flatness["long_alone"],
        tenth=flatness["tenth"],
        tenth_events=events["tenth"] // 10,
    )
