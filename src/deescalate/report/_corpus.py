"""Made-up transcripts to try the complaint log on: varied, valid, and the same for the same seed.

The interactions go every way a real helpdesk's do, in made-up proportions:
resolved cleanly or after a rejected remedy, handed to a manager before or after
the customer asked, ended for abuse, left by the customer, still waiting on a
promised callback, followed up without a fix. Agents slip (an apology before the
facts, a remedy while the customer vents, a late callback), and root causes recur,
spelt with varying case and spacing, as free text is. Used by the docs' picture,
the benchmarks and the tests.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .._errors import ArgumentTypeError, ArgumentValueError, describe

#: Root causes, by fault: a few recur often, as in any complaint log.
_CAUSES: dict[str, tuple[str, ...]] = {
    "company": (
        "Label printer jams on the night shift",
        "Exchanges skip the return-label step",
        "Stock levels not synced with the web shop",
        "Refunds wait for a manual approval",
        "Courier slots booked but never dispatched",
        "Promised delivery dates ignore bank holidays",
    ),
    "third_party": ("Courier lost the parcel", "Payment provider outage", "Supplier shipped the wrong model"),
    "customer": ("Wrong size ordered", "Delivery address mistyped"),
    "none": ("Product works as described",),
    "unknown": ("Could not be determined",),
}
_FAULTS = ("company",) * 6 + ("third_party",) * 2 + ("customer", "none", "unknown")
_OWNERS = ("team lead", "billing supervisor", "store manager")
_SOURCES = ("customer", "warehouse", "courier", "billing", "store")
_START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _respelt(rng: random.Random, text: str) -> str:
    """Free text as people type it: sometimes lower case, an extra space, a trailing one."""
    roll = rng.random()
    if roll < 0.2:
        text = text.lower()
    elif roll < 0.3:
        text = text.replace(" ", "  ", 1)
    elif roll < 0.38:
        text = text.upper()
    return text + (" " if rng.random() < 0.1 else "")


class _Transcript:
    def __init__(self, rng: random.Random, number: int, opened: datetime) -> None:
        self.rng = rng
        self.number = number
        self.at = opened
        self.lines: list[dict[str, Any]] = []

    def add(self, kind: str, after: float = 60.0, **fields: Any) -> None:
        """The next event, ``after`` seconds later on average."""
        if self.lines:
            self.at += timedelta(seconds=round(self.rng.uniform(0.4, 1.6) * after))
        stamp = self.at.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.lines.append(
            {"type": kind, "at": stamp, "event_id": f"s{self.number}-{len(self.lines)}", **fields}
        )


def sample_transcript(number: int, seed: int = 0, weeks: int = 8) -> list[str]:
    """Made-up transcript ``number`` of the corpus of ``seed``, as JSON Lines (about 12 events)."""
    rng = random.Random(f"{seed}-{number}")
    opened = _START + timedelta(seconds=rng.randrange(weeks * 7 * 86_400))
    t = _Transcript(rng, number, opened)
    t.add(
        "interaction_opened",
        interaction_id=f"C-{number:05d}",
        customer_name=rng.choice(("Ines", "Sam Okafor", "Dana Reyes", "Lee", "Priya", "Tomasz")),
        authority_limit=100,
    )
    t.add("customer_vented", 20, intensity=rng.randint(4, 10))
    path = rng.random()
    slip = rng.random()
    if slip < 0.12:  # talks over the customer, apologising for the company before the facts
        t.add("apology_offered", 20, scope="company", names_individual=rng.random() < 0.3)
    if path < 0.05:  # abuse
        t.add("abuse_observed", 40, detail="insults the agent")
        if rng.random() < 0.7:
            t.add("abuse_warning_given", 20)
            t.add("abuse_observed", 40, detail="goes on shouting")
        t.add("conversation_ended", 20, reason="abuse")
        return [json.dumps(line) for line in t.lines]
    t.add("venting_subsided", 120)
    t.add(
        "concerns_acknowledged",
        rng.choice((30, 90, 300)),
        summary=["the order is late"],
        used_name=rng.random() < 0.8,
    )
    if path < 0.11:  # the customer leaves
        t.add("customer_vented", 60, intensity=8)
        t.add("conversation_ended", 30, reason="customer_left")
        return [json.dumps(line) for line in t.lines]
    asked = path < 0.2
    if asked:
        t.add("manager_requested", 60)
    escalate = asked or rng.random() < 0.08
    for source in rng.sample(_SOURCES, rng.choice((1, 2, 2, 3))):
        t.add("fact_recorded", 240, source=source, detail=f"{source} account")
    if escalate:
        late = asked and rng.random() < 0.3
        t.add("escalated", 1_500 if late else 200, to=rng.choice(_OWNERS))
    fault = rng.choice(_FAULTS)
    causes = _CAUSES[fault]
    cause = causes[min(int(rng.expovariate(0.9)), len(causes) - 1)]
    t.add("facts_established", 300, fault=fault, root_cause=_respelt(rng, cause))
    if fault == "company":
        t.add("apology_offered", 30, scope="company", names_individual=False)
    if slip > 0.93:  # a remedy beyond the agent's authority
        t.add("remedy_proposed", 60, remedy="full refund and a voucher", value=250)
    else:
        t.add("remedy_proposed", 60, remedy="replacement by courier", value=rng.choice((0, 20, 40)))
    if rng.random() < 0.15:
        t.add("remedy_rejected", 120, counter_request="a refund instead")
        t.add("remedy_proposed", 300, remedy="refund", value=60)
    if path < 0.28:  # still waiting: a callback promised, maybe not kept yet
        t.add("callback_promised", 60, by=(t.at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        return [json.dumps(line) for line in t.lines]
    t.add("remedy_accepted", 120, restated=rng.random() < 0.9, confirmation_sent=rng.random() < 0.85)
    if path < 0.36:  # the follow-through is under way, with a callback to keep
        t.add("callback_promised", 60, by=(t.at + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"))
        if rng.random() < 0.5:
            t.add("progress_reported", 6 * 3_600 * rng.choice((0.5, 1.5)), detail="parcel with the courier")
        return [json.dumps(line) for line in t.lines]
    for _ in range(rng.choice((0, 1, 1, 2))):
        t.add("progress_reported", 20 * 3_600 * rng.choice((0.6, 1.0, 1.4)), detail="on its way")
    prevention = rng.choice(("", "the step is now on the checklist", "the system checks it now"))
    if fault != "company" and rng.random() < 0.6:
        prevention = ""
    t.add("follow_up_completed", 30 * 3_600, resolved=rng.random() < 0.93, prevention=prevention)
    return [json.dumps(line) for line in t.lines]


def sample_corpus(count: int, seed: int = 0, weeks: int = 8) -> Iterator[tuple[str, list[str]]]:
    """``count`` made-up transcripts: each file's name and its lines."""
    for number in range(1, count + 1):
        yield f"C-{number:05d}.jsonl", sample_transcript(number, seed, weeks)


def write_sample_corpus(
    directory: str | os.PathLike[str], count: int, *, seed: int = 0, weeks: int = 8
) -> Path:
    """Write ``count`` made-up transcripts into ``directory`` (made if missing), to try the report on.

    The same ``seed`` writes the same files. The interactions open over ``weeks``
    weeks from Monday 2 March 2026. Returns the directory.
    """
    if isinstance(count, bool) or not isinstance(count, int):
        raise ArgumentTypeError("count", f"must be a whole number, got {describe(count)}")
    if count < 0:
        raise ArgumentValueError("count", f"must be 0 or more, got {count}")
    if isinstance(weeks, bool) or not isinstance(weeks, int) or weeks < 1:
        raise ArgumentValueError(
            "weeks", f"must be a whole number of weeks, 1 or more, got {describe(weeks)}"
        )
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    for name, lines in sample_corpus(count, seed, weeks):
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
