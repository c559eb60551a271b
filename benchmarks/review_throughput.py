"""Reviewing transcripts as the CLI does, beside reading and ``json.loads``-ing the same lines.

Both sides get the transcript's lines as the ``bytes`` a file opened in binary mode
yields, already in memory: the file system is left out of both, which makes the
ratio stricter, not kinder. For the same reason the floor decodes each line before
``json.loads``: that is quicker than handing it bytes, whose encoding it sniffs in
Python. Reviewing is ``review(read_transcript(lines))`` in
advisory mode under facts-first: parsing, validating and applying every event.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import attrs

import deescalate as d

from ._timing import Effort, median_seconds
from ._transcripts import as_bytes, example, long_transcript, renamed


@attrs.frozen
class ReviewCost:
    """Microseconds per event; every figure comes from the same interleaved rounds."""

    long_review: float
    long_floor: float
    long_events: int
    short_review: float
    short_floor: float
    short_events: int
    #: Reviewing a transcript a tenth as long (ten times per round, for the same work),
    #: and the long one again, the two alone in their rounds.
    small_review: float
    small_long_review: float
    small_events: int


def _reviewer(transcripts: list[list[bytes]]) -> Callable[[], object]:
    policy, advisory = d.FACTS_FIRST, d.Mode.ADVISORY

    def review_all() -> int:
        total = 0
        for lines in transcripts:
            total += d.review(d.read_transcript(lines), policy, advisory).events
        return total

    return review_all


def _parser(transcripts: list[list[bytes]]) -> Callable[[], object]:
    loads = json.loads

    def parse_all() -> int:
        total = 0
        for lines in transcripts:
            for raw in lines:
                loads(raw.decode())  # faster than json.loads(bytes), which sniffs the encoding
                total += 1
        return total

    return parse_all


def measure(effort: Effort, long: int = 20_000, short: int = 1_000) -> ReviewCost:
    """One transcript of ``long`` events; ``short`` short ones (examples/clean.jsonl and
    violations.jsonl in turn, renamed); and one a tenth as long as the long one, for
    the per-event cost at both lengths."""
    shapes = [example("clean.jsonl"), example("violations.jsonl")]
    sets = {
        "long": [long_transcript(long)],
        "short": [as_bytes(renamed(shapes[n % 2], n)) for n in range(short)],
        "small": [long_transcript(long // 10)] * 10,
    }
    events = {name: sum(len(lines) for lines in transcripts) for name, transcripts in sets.items()}
    runs = {
        "long": _reviewer(sets["long"]),
        "long_floor": _parser(sets["long"]),
        "short": _reviewer(sets["short"]),
        "short_floor": _parser(sets["short"]),
        "small": _reviewer(sets["small"]),
    }
    for name, run in runs.items():
        assert run() == events[name.removesuffix("_floor")]
    rounds = effort.scaled(31, 3)

    def micros(names: list[str]) -> dict[str, float]:
        """Per event, the named runs timed in the same rounds (and no other)."""
        seconds = median_seconds({name: runs[name] for name in names}, number=1, rounds=rounds, warmup=1)
        return {name: seconds[name] / events[name.removesuffix("_floor")] * 1e6 for name in names}

    throughput = micros(["long", "long_floor", "short", "short_floor"])
    flatness = micros(["long", "small"])
    return ReviewCost(
        long_review=throughput["long"],
        long_floor=throughput["long_floor"],
        long_events=events["long"],
        short_review=throughput["short"],
        short_floor=throughput["short_floor"],
        short_events=events["short"],
        small_review=flatness["small"],
        small_long_review=flatness["long"],
        small_events=events["small"] // 10,
    )
