"""``--export DIR``: the rows behind a report, as JSON Lines tables a data warehouse loads.

Three files, one JSON object per line, their keys listed here (and in
docs/how-to/complaint-log.md): ``interactions.jsonl`` (one row per interaction),
``findings.jsonl`` (one row per finding, refused attempts included) and
``deliveries.jsonl`` (one row per event delivered, with what became of it). Times
are ISO-8601 text in UTC.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any

from ._errors import ReportError

if TYPE_CHECKING:
    from ._aggregate import Walk

#: The tables, in the order they are written.
TABLES: tuple[str, ...] = ("interactions", "findings", "deliveries")

#: The keys of each table's rows, in order. A key that does not apply is null.
COLUMNS: dict[str, tuple[str, ...]] = {
    "interactions": (
        "interaction_id",
        "source",
        "policy",
        "stage",
        "outcome",
        "owner",
        "opened_at",
        "last_at",
        "events",
        "violations",
        "warnings",
        "refused",
        "acknowledgement_seconds",
        "agreement_seconds",
        "follow_up_seconds",
        "fault",
        "root_cause",
        "prevention",
        "escalations",
        "rejections",
    ),
    "findings": (
        "interaction_id",
        "source",
        "index",
        "at",
        "event_type",
        "rule",
        "severity",
        "status",
        "owner",
        "message",
        "delivery_id",
    ),
    "deliveries": (
        "interaction_id",
        "source",
        "index",
        "at",
        "event_type",
        "event_id",
        "status",
        "delivery_id",
        "received_at",
    ),
}


def utc(moment: datetime | None) -> str | None:
    """``moment`` as ISO-8601 text in UTC, or None."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def interaction_row(
    walked: Walk,
    *,
    interaction_id: str,
    source: str,
    policy: str,
    stage: str,
    owner: str,
    opened_at: datetime | None,
    last_at: datetime | None,
    events: int,
    violations: int,
    warnings: int,
    refused: int,
) -> dict[str, Any]:
    """One row of the ``interactions`` table, from a transcript or a store alike: what the
    source counted, and what walking its events found."""
    durations = dict(walked.durations())
    return {
        "interaction_id": interaction_id,
        "source": source,
        "policy": policy,
        "stage": stage,
        "outcome": walked.outcome(stage),
        "owner": owner,
        "opened_at": utc(opened_at),
        "last_at": utc(last_at),
        "events": events,
        "violations": violations,
        "warnings": warnings,
        "refused": refused,
        "acknowledgement_seconds": durations.get("acknowledgement"),
        "agreement_seconds": durations.get("agreement"),
        "follow_up_seconds": durations.get("follow_up"),
        "fault": walked.facts[0] if walked.facts else None,
        "root_cause": walked.facts[1] if walked.facts else None,
        "prevention": walked.prevention if walked.resolved is not None else None,
        "escalations": len(walked.escalations),
        "rejections": walked.rejections,
    }


class Exporter:
    """Writes the three tables into a directory, one row at a time (a context manager)."""

    def __init__(self, directory: str | os.PathLike[str], suffix: str = "") -> None:
        self.directory = Path(directory)
        self.suffix = suffix
        self._files: dict[str, IO[str]] = {}

    def path(self, table: str) -> Path:
        """Where ``table`` is written."""
        return self.directory / f"{table}{self.suffix}.jsonl"

    def __enter__(self) -> Exporter:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for table in TABLES:
                self._files[table] = open(self.path(table), "w", encoding="utf-8", newline="\n")
        except OSError as error:
            self.close()
            raise ReportError(f"cannot write to {self.directory}: {error.strerror or error}") from None
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close every file written."""
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def write(self, table: str, row: dict[str, Any]) -> None:
        """Append one row to ``table``."""
        self._files[table].write(json.dumps(row, ensure_ascii=False) + "\n")

    def append_file(self, table: str, part: Path) -> None:
        """Append a part written elsewhere (by a worker process) to ``table``, then delete the part."""
        handle = self._files[table]
        handle.flush()
        with open(part, encoding="utf-8") as source:
            while chunk := source.read(1 << 20):
                handle.write(chunk)
        part.unlink()
