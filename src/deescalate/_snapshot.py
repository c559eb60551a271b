"""Snapshots: an interaction saved as versioned JSON, and loaded back whole or not at all.

A snapshot holds the interaction's state *and* its history with each event's
findings, so loading needs no policy and no replay. Everything is validated before
an interaction is built, and the first problem raises
:class:`~deescalate.SnapshotError` naming its path (``history[3].event.at``): no
half-loaded interaction can escape. A snapshot written by a newer version of the
format is refused with a message saying so. Plain JSON only: no pickle, no eval.

Format version 1::

    {"format": "deescalate.snapshot", "version": 1,
     "interaction": {"interaction_id": "T-1", "stage": "venting", ...},
     "history": [{"event": {<contract JSON>}, "findings": [{"rule": ..., "severity": ...,
                  "message": ...}]}, ...]}
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any, TypeVar

from ._codec import compact_json, event_from_dict, event_to_dict
from ._errors import EventError, SnapshotError
from ._events import Event, Fault, InteractionOpened
from ._findings import Finding, Severity
from ._history import History
from ._interaction import Facts, Interaction, Remedy
from ._stages import Stage

FORMAT = "deescalate.snapshot"
#: The snapshot format version this library writes, and the newest it reads.
SNAPSHOT_VERSION = 1

T = TypeVar("T")


def _remedy_dict(remedy: Remedy | None) -> dict[str, Any] | None:
    return None if remedy is None else {"description": remedy.description, "value": remedy.value}


def snapshot_to_dict(interaction: Interaction) -> dict[str, Any]:
    """The snapshot of ``interaction`` as a JSON-ready dict."""
    facts = interaction.facts
    state = {
        "interaction_id": interaction.interaction_id,
        "customer_name": interaction.customer_name,
        "stage": interaction.stage.value,
        "wave_open": interaction.wave_open,
        "owner": interaction.owner,
        "authority_limit": interaction.authority_limit,
        "rejections": interaction.rejections,
        "summary": None if interaction.summary is None else list(interaction.summary),
        "facts": None
        if facts is None
        else {"fault": facts.fault.value, "root_cause": facts.root_cause},
        "fact_source_count": interaction.fact_source_count,
        "pending_remedy": _remedy_dict(interaction.pending_remedy),
        "agreed_remedy": _remedy_dict(interaction.agreed_remedy),
        "apologized": interaction.apologized,
        "progress_reported": interaction.progress_reported,
        "manager_requested": interaction.manager_requested,
        "abuse_observed": interaction.abuse_observed,
        "abuse_warnings": interaction.abuse_warnings,
    }
    history = [
        {
            "event": event_to_dict(event),
            "findings": [
                {"rule": f.rule, "severity": f.severity.value, "message": f.message}
                for f in findings
            ],
        }
        for event, findings in interaction.history.entries()
    ]
    return {"format": FORMAT, "version": SNAPSHOT_VERSION, "interaction": state, "history": history}


def dump_snapshot(interaction: Interaction) -> str:
    """The snapshot of ``interaction`` as JSON text."""
    return compact_json(snapshot_to_dict(interaction))


# -- reading ---------------------------------------------------------------------------


def _get(data: dict[str, Any], key: str, path: str) -> Any:
    """``data[key]``, where ``data`` is at ``path`` ("" at the top); paths are built only to fail."""
    if key not in data:
        raise SnapshotError(f"{path}.{key}" if path else key, "is missing")
    return data[key]


def _object(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SnapshotError(path, f"must be an object, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise SnapshotError(path, f"must be a list, got {type(value).__name__}")
    return value


def _text(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise SnapshotError(path, f"must be a string, got {value!r}")
    return value


def _flag(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise SnapshotError(path, f"must be true or false, got {value!r}")
    return value


def _count(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SnapshotError(path, f"must be an integer >= 0, got {value!r}")
    return value


def _amount(value: Any, path: str) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise SnapshotError(path, f"must be a finite number >= 0, got {value!r}")
    return value


def _choice(kind: Callable[[str], T], value: Any, path: str) -> T:
    try:
        return kind(value)
    except (ValueError, TypeError):
        raise SnapshotError(path, f"is not a valid value: {value!r}") from None


def _maybe(read: Callable[[Any, str], T]) -> Callable[[Any, str], T | None]:
    """A reader that also accepts null, for optional fields."""

    def read_optional(value: Any, path: str) -> T | None:
        return None if value is None else read(value, path)

    return read_optional


def _stage(value: Any, path: str) -> Stage:
    return _choice(Stage, value, path)


def _remedy(value: Any, path: str) -> Remedy:
    data = _object(value, path)
    return Remedy(
        _text(_get(data, "description", path), path + ".description"),
        _amount(_get(data, "value", path), path + ".value"),
    )


def _facts(value: Any, path: str) -> Facts:
    data = _object(value, path)
    return Facts(
        _choice(Fault, _get(data, "fault", path), path + ".fault"),
        _text(_get(data, "root_cause", path), path + ".root_cause"),
    )


def _summary(value: Any, path: str) -> tuple[str, ...]:
    return tuple(_text(item, f"{path}[{i}]") for i, item in enumerate(_list(value, path)))


def _event(value: Any, entry: str) -> Event:
    """The event of the history entry at path ``entry``."""
    if not isinstance(value, dict):
        _object(value, f"{entry}.event")  # raises, naming the path
    try:
        return event_from_dict(value)
    except EventError as error:
        raise SnapshotError(f"{entry}.event.{error.field}", error.reason) from None


def _findings(value: Any, entry: str, event: Event) -> tuple[Finding, ...]:
    """The findings of the history entry at path ``entry`` (most entries have none)."""
    if not isinstance(value, list):
        _list(value, f"{entry}.findings")  # raises, naming the path
    findings = []
    for i, item in enumerate(value):
        where = f"{entry}.findings[{i}]"
        data = _object(item, where)
        findings.append(
            Finding(
                _text(_get(data, "rule", where), where + ".rule"),
                _choice(Severity, _get(data, "severity", where), where + ".severity"),
                _text(_get(data, "message", where), where + ".message"),
                event.type,
            )
        )
    return tuple(findings)


_optional_text = _maybe(_text)
_optional_summary = _maybe(_summary)
_optional_facts = _maybe(_facts)
_optional_remedy = _maybe(_remedy)


def _history(value: Any) -> History:
    entries: list[tuple[Event, tuple[Finding, ...]]] = []
    ids: set[str] = set()
    for i, item in enumerate(_list(value, "history")):
        where = f"history[{i}]"
        data = _object(item, where)
        event = _event(_get(data, "event", where), where)
        if (i == 0) != isinstance(event, InteractionOpened):
            raise SnapshotError(
                f"{where}.event.type",
                "the history must start with interaction_opened, and only there",
            )
        if event.event_id is not None:
            if event.event_id in ids:
                raise SnapshotError(f"{where}.event.event_id", "appears twice in the history")
            ids.add(event.event_id)
        findings = _findings(_get(data, "findings", where), where, event)
        entries.append((event, findings))
    if not entries:
        raise SnapshotError("history", "must hold the interaction_opened event at least")
    return History.of(entries)


def snapshot_from_dict(data: Any) -> Interaction:
    """Load the interaction that a decoded snapshot describes, validating all of it."""
    top = _object(data, "snapshot")
    if top.get("format") != FORMAT:
        raise SnapshotError("format", f"must be {FORMAT!r}, got {top.get('format')!r}")
    version = _get(top, "version", "")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SnapshotError("version", f"must be a positive integer, got {version!r}")
    if version > SNAPSHOT_VERSION:
        raise SnapshotError(
            "version",
            f"snapshot format {version} is newer than this deescalate reads "
            f"({SNAPSHOT_VERSION}); upgrade deescalate to load it",
        )
    state = _object(_get(top, "interaction", ""), "interaction")
    history = _history(_get(top, "history", ""))

    def field(name: str, read: Callable[[Any, str], T]) -> T:
        return read(_get(state, name, "interaction"), f"interaction.{name}")

    interaction = Interaction(
        interaction_id=field("interaction_id", _text),
        customer_name=field("customer_name", _optional_text),
        stage=field("stage", _stage),
        wave_open=field("wave_open", _flag),
        owner=field("owner", _text),
        authority_limit=field("authority_limit", _amount),
        rejections=field("rejections", _count),
        summary=field("summary", _optional_summary),
        facts=field("facts", _optional_facts),
        fact_source_count=field("fact_source_count", _count),
        pending_remedy=field("pending_remedy", _optional_remedy),
        agreed_remedy=field("agreed_remedy", _optional_remedy),
        apologized=field("apologized", _flag),
        progress_reported=field("progress_reported", _flag),
        manager_requested=field("manager_requested", _flag),
        abuse_observed=field("abuse_observed", _flag),
        abuse_warnings=field("abuse_warnings", _count),
        history=history,
    )
    _check_consistent(interaction)
    return interaction


def _check_consistent(interaction: Interaction) -> None:
    opened = interaction.history[0]
    assert isinstance(opened, InteractionOpened)
    if interaction.interaction_id != opened.interaction_id:
        raise SnapshotError(
            "interaction.interaction_id", "differs from the interaction_opened event's"
        )
    if interaction.wave_open and interaction.stage is not Stage.VENTING:
        raise SnapshotError("interaction.wave_open", "a wave can only be open in venting")
    if interaction.fact_source_count != len(interaction.fact_sources):
        raise SnapshotError(
            "interaction.fact_source_count", "differs from the sources recorded in the history"
        )
    pending = interaction.pending_remedy is not None
    if interaction.stage is Stage.REMEDY_PROPOSED and not pending:
        raise SnapshotError("interaction.pending_remedy", "stage remedy_proposed needs one")
    if pending and interaction.stage not in (Stage.REMEDY_PROPOSED, Stage.ENDED):
        raise SnapshotError(
            "interaction.pending_remedy", f"no remedy can be pending at stage {interaction.stage}"
        )


def load_snapshot(text: str | bytes) -> Interaction:
    """Load an interaction from snapshot JSON text (see :func:`dump_snapshot`)."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SnapshotError("snapshot", f"is not valid JSON ({error})") from None
    return snapshot_from_dict(data)


