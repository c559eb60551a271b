"""The store fails closed: any hostile argument gives a typed error (or works), never a crash,
and a hostile payload is journaled as bad input rather than lost."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import deescalate as d
from deescalate.store import Fate, Store, StoreError
from test_hostile_arguments import HOSTILE, _raised

AT = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)


def _store() -> Store:
    store = Store()
    store.deliver("T-1", d.InteractionOpened(at=AT, interaction_id="T-1", event_id="open"))
    return store


def _cases() -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    store = _store()
    vent = d.CustomerVented(at=AT, intensity=3, event_id="v")
    return [
        (
            "Store",
            Store,
            {"url": None, "policies": None, "policy": "facts-first", "mode": "strict", "cache_size": 3},
        ),
        ("deliver", store.deliver, {"interaction_id": "T-1", "event": vent, "mode": None, "policy": None}),
        (
            "ingest",
            store.ingest,
            {"events": [d.InteractionOpened(at=AT, interaction_id="T-2")], "mode": None},
        ),
        ("get", store.get, {"interaction_id": "T-1"}),
        ("policy_of", store.policy_of, {"interaction_id": "T-1"}),
        ("events", store.events, {"interaction_id": "T-1"}),
        ("interaction", store.interaction, {"interaction_id": "T-1"}),
        (
            "interactions",
            store.interactions,
            {"stage": "venting", "owner": "agent", "policy": None, "limit": 5, "after": "A"},
        ),
        ("due", store.due, {"at": AT, "limit": None}),
        (
            "findings",
            store.findings,
            {"since": AT, "until": None, "interaction_id": None, "rule": None, "fate": None, "limit": 3},
        ),
        (
            "deliveries",
            store.deliveries,
            {"since": None, "until": AT, "interaction_id": "T-1", "fate": "applied", "after": 0},
        ),
    ]


CALLS = [
    pytest.param(function, arguments, name, value, id=f"{label}-{name}-{n}")
    for label, function, arguments in _cases()
    for name in arguments
    for n, value in enumerate(HOSTILE)
]


@pytest.mark.parametrize(("function", "arguments", "name", "value"), CALLS)
def test_a_hostile_argument_gives_a_typed_error_or_works(
    function: Callable[..., Any], arguments: dict[str, Any], name: str, value: Any
) -> None:
    error = _raised(function, {**arguments, name: value})
    if error is not None:
        assert isinstance(error, d.DeescalateError), repr(error)
        assert not isinstance(error, StoreError) or isinstance(error, LookupError), error
        assert isinstance(error, TypeError | ValueError | LookupError), repr(error)
        assert "\n" not in str(error) and len(str(error)) < 1_000


def test_a_database_that_cannot_be_reached_is_a_store_error(tmp_path: Path) -> None:
    """Opening a connection fails (the file's directory is gone, a server refuses): the
    delivery raises StoreError, like any other database failure, and writes nothing."""
    home = tmp_path / "home"
    home.mkdir()
    with Store(f"sqlite:///{home}/complaints.db") as store:
        store.deliver("T-1", d.InteractionOpened(at=AT, interaction_id="T-1"))
        store.engine.dispose()
        home.rename(tmp_path / "moved")
        with pytest.raises(StoreError, match="cannot deliver to 'T-1'"):
            store.deliver("T-1", d.CustomerVented(at=AT, intensity=3))
        with pytest.raises(StoreError, match="cannot read the store"):
            store.interactions()


def test_the_baselines_are_valid() -> None:
    for _label, function, arguments in _cases():
        function(**arguments)


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "customer_vented", "at": "2026-04-06T10:01:00Z", "intensity": 3, "event_id": "x" * 600},
        {"type": "customer_vented", "at": "2026-04-06T10:01:00Z", "intensity": 3, "event_id": "a\x00b"},
        {"type": "fact_recorded", "at": "2026-04-06T10:01:00Z", "source": "carrier", "detail": "a\x00"},
        '{"type": "interaction_opened", "at": "2026-04-06T10:01:00Z", "interaction_id": "T-1\\u0000"}',
        '{"type": "fact_recorded", "at": "2026-04-06T10:01:00Z", "source": "carrier", "detail": "a\\u0000"}',
        b'{"type": "fact_recorded", "at": "2026-04-06T10:01:00Z", "source": "carrier", "detail": "\\u0000"}',
        d.FactRecorded(at=AT + timedelta(minutes=1), source="carrier", detail="a\x00b"),
        d.ConcernsAcknowledged(at=AT + timedelta(minutes=1), summary=("late", "b\x00"), used_name=True),
        {"type": "customer_vented", "at": "9999-12-31T23:30:00-01:00", "intensity": 3},
        '{"type": "callback_promised", "at": "2026-04-06T10:01:00Z", "by": "9999-12-31T23:30:00-01:00"}',
        "x" * 1_000_000,
        b"\xff" * 10,
    ],
)
def test_a_payload_the_database_cannot_hold_is_journaled_as_bad_input(payload: Any, store_url: str) -> None:
    with Store(store_url) as store:
        store.deliver("T-1", d.InteractionOpened(at=AT, interaction_id="T-1"))
        delivery = store.deliver("T-1", payload)
        assert delivery.fate is Fate.BAD_INPUT, delivery.record.error
        assert store.deliveries(fate="bad_input")[0].payload == delivery.record.payload
        assert len(store.get("T-1").history) == 1
