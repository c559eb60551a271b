"""Transcripts to measure with: the repository's examples, and long ones generated here.

Every transcript is valid input (non-decreasing timestamps, one opening event), held
as the ``bytes`` lines a file opened in binary mode yields, as the CLI reads them.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

_SOURCES = ("customer", "production", "sales", "courier", "billing", "warehouse")


def example(name: str) -> list[str]:
    """The non-blank lines of ``examples/<name>``."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line.strip()]


def clean_14() -> list[str]:
    """examples/clean.jsonl with a second progress report: a 14-event clean interaction."""
    lines = example("clean.jsonl")
    again = json.loads(lines[11])
    again.update(at="2026-03-03T18:00:00Z", event_id="evt-012b", detail="courier collected the parcel")
    return [*lines[:12], json.dumps(again), *lines[12:]]


def renamed(lines: list[str], n: int) -> list[str]:
    """``lines`` as interaction number ``n``: its own interaction id and event ids."""
    return [
        line.replace('"T-10', f'"T-{n}-').replace('"evt-', f'"{n}-evt-') for line in lines
    ]


def as_bytes(lines: list[str]) -> list[bytes]:
    return [line.encode() + b"\n" for line in lines]


def long_transcript(count: int, tag: str = "L") -> list[bytes]:
    """A valid, clean transcript of exactly ``count`` events (20 at least).

    The customer vents in many waves while facts come in from several sources (45%
    of the events); then the concerns are acknowledged, the facts established, an
    apology and a remedy agreed; then progress is reported until the follow-up.
    """
    if count < 20:
        raise ValueError("a long transcript needs 20 events at least")
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    events: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        at = start + timedelta(seconds=7 * len(events))
        events.append(
            {"type": kind, "at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "event_id": f"{tag}-{len(events):06d}"}
            | fields
        )

    add("interaction_opened", interaction_id=f"{tag}-1", customer_name="Dana Reyes", authority_limit=150)
    sources = itertools.cycle(_SOURCES)
    while len(events) < count * 0.45:
        add("customer_vented", intensity=3 + len(events) % 7)
        add("venting_subsided")
        source = next(sources)
        add("fact_recorded", source=source, detail=f"{source} confirms the order was delayed by a day")
        add("empathy_expressed")
    add(
        "concerns_acknowledged",
        summary=["the order is late", "nobody called back"],
        used_name=True,
    )
    add("facts_established", fault="company", root_cause="the press outage was not fed into the schedule")
    add("apology_offered", scope="company", names_individual=False)
    add("remedy_proposed", remedy="courier the order on Saturday at our cost", value=80)
    add("remedy_accepted", restated=True, confirmation_sent=True)
    while len(events) < count - 1:
        add("progress_reported", detail=f"step {len(events)}: printed, packed and handed to the courier")
    add("follow_up_completed", resolved=True, prevention="outages now trigger a reschedule and a notice")
    return as_bytes([json.dumps(event) for event in events])
