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
    """Microseconds per event."""

    review: float
    floor: float
    events: int


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


def _measure(transcripts: list[list[bytes]], effort: Effort, rounds: int) -> ReviewCost:
    events = sum(len(lines) for lines in transcripts)
    reviewer, parser = _reviewer(transcripts), _parser(transcripts)
    assert reviewer() == parser() == events
    seconds = median_seconds(
        {"review": reviewer, "floor": parser},
        number=1,
        rounds=effort.scaled(rounds, 3),
        warmup=effort.scaled(2, 1),
    )
    return ReviewCost(seconds["review"] / events * 1e6, seconds["floor"] / events * 1e6, events)


def long_one(count: int, effort: Effort) -> ReviewCost:
    """One transcript of ``count`` events."""
    return _measure([long_transcript(count)], effort, rounds=max(15, 300_000 // count))


def many_short(count: int, effort: Effort) -> ReviewCost:
    """``count`` short transcripts: examples/clean.jsonl and violations.jsonl in turn, renamed."""
    shapes = [example("clean.jsonl"), example("violations.jsonl")]
    transcripts = [as_bytes(renamed(shapes[n % 2], n)) for n in range(count)]
    return _measure(transcripts, effort, rounds=15)
