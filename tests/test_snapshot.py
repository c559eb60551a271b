"""Snapshots: save an interaction as versioned JSON and load it back, whole or not at all."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from build import TO_AGREED, TO_REMEDY, ev, run
from deescalate import (
    SNAPSHOT_VERSION,
    Mode,
    SnapshotError,
    apply,
    dump_snapshot,
    load_snapshot,
    replay,
    snapshot_from_dict,
    snapshot_to_dict,
)


def sample() -> Any:
    script = [
        ("customer_vented", {"event_id": "e1"}),
        ("remedy_proposed", {"value": 500}),  # violations, recorded in advisory mode
        *TO_REMEDY[1:],
        "remedy_accepted",
    ]
    return run(script, customer_name=None, authority_limit=150.5)


def test_round_trip_gives_an_equal_interaction() -> None:
    interaction = sample()
    assert interaction.findings
    loaded = load_snapshot(dump_snapshot(interaction))
    assert loaded == interaction
    assert loaded.findings == interaction.findings
    assert dump_snapshot(loaded) == dump_snapshot(interaction)


def test_a_loaded_interaction_keeps_working() -> None:
    loaded = load_snapshot(dump_snapshot(run(TO_AGREED)))
    outcome = apply(loaded, ev("follow_up_completed"), mode=Mode.STRICT)
    assert outcome.applied
    assert replay(outcome.interaction.history) == outcome.interaction


def test_duplicates_are_still_recognised_after_loading() -> None:
    loaded = load_snapshot(dump_snapshot(sample()))
    assert apply(loaded, ev("customer_vented", event_id="e1")).status.value == "duplicate"


def test_the_snapshot_carries_format_and_version() -> None:
    data = snapshot_to_dict(sample())
    assert data["format"] == "deescalate.snapshot"
    assert data["version"] == SNAPSHOT_VERSION == 3
    assert data["policy"]["name"] == "facts-first"
    assert data["history"][0]["event"]["type"] == "interaction_opened"
    json.dumps(data)  # plain JSON values only


def test_a_newer_snapshot_is_refused_clearly() -> None:
    data = snapshot_to_dict(sample())
    data["version"] = SNAPSHOT_VERSION + 1
    with pytest.raises(SnapshotError, match="newer than this deescalate reads") as error:
        snapshot_from_dict(data)
    assert error.value.path == "version"


def mutate(path: str, value: Any) -> dict[str, Any]:
    data = snapshot_to_dict(sample())
    target: Any = data
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[int(last) if last.isdigit() else last]
    elif last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return data


BAD = [
    ("format", "pickle", "format"),
    ("version", "1", "version"),
    ("version", 0, "version"),
    ("interaction", KeyError, "interaction"),
    ("interaction", [], "interaction"),
    ("interaction.stage", "angry", "interaction.stage"),
    ("interaction.stage", KeyError, "interaction.stage"),
    ("interaction.wave_open", "no", "interaction.wave_open"),
    ("interaction.rejections", -1, "interaction.rejections"),
    ("interaction.rejections", True, "interaction.rejections"),
    ("interaction.authority_limit", "lots", "interaction.authority_limit"),
    ("interaction.summary", "text", "interaction.summary"),
    ("interaction.summary", ["a", 2], "interaction.summary"),
    ("interaction.facts", {"fault": "boss", "root_cause": ""}, "interaction.facts"),
    ("interaction.facts", {"fault": "company"}, "interaction.facts"),
    ("interaction.agreed_remedy", {"description": "x", "value": -1}, "interaction.agreed_remedy"),
    ("interaction.interaction_id", "OTHER", "interaction.interaction_id"),
    ("interaction.fact_source_count", 9, "interaction.fact_source_count"),
    ("interaction.wave_open", True, "interaction.wave_open"),
    ("history", [], "history"),
    ("history", {}, "history"),
    ("history.0", KeyError, "history[0].event.type"),
    ("history.1.event.intensity", 99, "history[1].event.intensity"),
    ("history.1.event.at", "2026-03-02T09:00:00", "history[1].event.at"),
    ("history.1.findings", None, "history[1].findings"),
    ("history.2.findings.0.severity", "fatal", "history[2].findings"),
    ("history.2.findings.0", {"rule": "x"}, "history[2].findings"),
    ("history.3.event", {"type": "interaction_opened", "at": "2026-03-02T09:00:00Z", "interaction_id": "T-1"}, "history[3].event.type"),
    ("history.3.event.event_id", "e1", "history[3].event.event_id"),
]


@pytest.mark.parametrize(("path", "value", "where"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_a_bad_snapshot_names_where_it_is_wrong(path: str, value: Any, where: str) -> None:
    data = mutate(path, value)
    with pytest.raises(SnapshotError) as error:
        snapshot_from_dict(copy.deepcopy(data))
    assert error.value.path == where, str(error.value)


def test_a_pending_remedy_must_match_the_stage() -> None:
    data = snapshot_to_dict(run(TO_REMEDY))
    data["interaction"]["pending_remedy"] = None
    with pytest.raises(SnapshotError, match="pending_remedy"):
        snapshot_from_dict(data)
    agreed = snapshot_to_dict(run(TO_AGREED))
    agreed["interaction"]["pending_remedy"] = {"description": "x", "value": 1}
    with pytest.raises(SnapshotError, match="pending_remedy"):
        snapshot_from_dict(agreed)


@pytest.mark.parametrize("text", ["", "{", "[]", "null", '"x"', b"\xff"])
def test_text_that_is_not_a_snapshot(text: str | bytes) -> None:
    with pytest.raises(SnapshotError):
        load_snapshot(text)


def test_snapshots_hold_no_code() -> None:
    text = dump_snapshot(sample())
    assert "pickle" not in text and "__" not in text
