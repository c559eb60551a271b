"""Events as values, and their JSON form."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import attrs
import pytest

from build import DEFAULTS, ev
from deescalate import (
    EVENT_CLASSES,
    CustomerVented,
    EventError,
    FactsEstablished,
    Fault,
    RemedyProposed,
    dump_event,
    event_from_dict,
    event_to_dict,
    parse_event,
)

AT = "2026-03-02T09:00:00+00:00"


@pytest.mark.parametrize("kind", sorted(EVENT_CLASSES))
def test_every_event_class_is_frozen_slotted_and_typed(kind: str) -> None:
    cls = EVENT_CLASSES[kind]
    assert cls.type == kind
    assert attrs.has(cls)
    assert "__slots__" in cls.__dict__
    event = ev(kind)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.at = datetime.now(UTC)  # type: ignore[misc]


@pytest.mark.parametrize("kind", sorted(EVENT_CLASSES))
def test_json_round_trip(kind: str) -> None:
    event = ev(kind, event_id="e-1")
    assert event_from_dict(event_to_dict(event)) == event
    assert parse_event(dump_event(event)) == event


def test_dumped_json_is_the_contract_form() -> None:
    event = ev("remedy_proposed", at=datetime(2026, 3, 2, 9, tzinfo=UTC), remedy="refund", value=5)
    assert event_to_dict(event) == {"type": "remedy_proposed", "at": AT, "remedy": "refund", "value": 5}


def test_enums_arrive_as_strings() -> None:
    event = event_from_dict({"type": "facts_established", "at": AT, "fault": "third_party", "root_cause": "x"})
    assert isinstance(event, FactsEstablished)
    assert event.fault is Fault.THIRD_PARTY


def test_z_and_other_offsets_are_accepted() -> None:
    event = event_from_dict({"type": "empathy_expressed", "at": "2026-03-02T09:00:00Z"})
    assert event.at == datetime(2026, 3, 2, 9, tzinfo=UTC)
    other = event_from_dict({"type": "empathy_expressed", "at": "2026-03-02T11:00:00+02:00"})
    assert other.at == event.at
    assert other.at.utcoffset() == timedelta(hours=2)


def test_unknown_fields_are_ignored_and_null_optionals_are_absent() -> None:
    event = event_from_dict(
        {"type": "remedy_proposed", "at": AT, "remedy": "x", "value": None, "agent": "Bo", "x": [1]}
    )
    assert event == RemedyProposed(at=datetime(2026, 3, 2, 9, tzinfo=UTC), remedy="x", value=0)


def test_value_defaults_to_zero() -> None:
    assert ev("remedy_proposed", value=0).value == 0
    assert RemedyProposed(at=datetime.now(UTC), remedy="x").value == 0


BAD = [
    ({"at": AT}, "type", "is required"),
    ({"type": "complaint", "at": AT}, "type", "unknown event type"),
    ({"type": ["x"], "at": AT}, "type", "unknown event type"),
    ({"type": "customer_vented", "at": AT}, "intensity", "is required"),
    ({"type": "customer_vented", "intensity": 3}, "at", "is required"),
    ({"type": "customer_vented", "at": AT, "intensity": "5"}, "intensity", "integer"),
    ({"type": "customer_vented", "at": AT, "intensity": 5.0}, "intensity", "integer"),
    ({"type": "customer_vented", "at": AT, "intensity": True}, "intensity", "integer"),
    ({"type": "customer_vented", "at": AT, "intensity": 11}, "intensity", "from 0 to 10"),
    ({"type": "customer_vented", "at": AT, "intensity": -1}, "intensity", "from 0 to 10"),
    ({"type": "customer_vented", "at": "2026-03-02T09:00:00", "intensity": 1}, "at", "UTC offset"),
    ({"type": "customer_vented", "at": "yesterday", "intensity": 1}, "at", "ISO-8601"),
    ({"type": "customer_vented", "at": 1700000000, "intensity": 1}, "at", "ISO-8601"),
    ({"type": "concerns_acknowledged", "at": AT, "summary": "late", "used_name": True}, "summary", "list"),
    ({"type": "concerns_acknowledged", "at": AT, "summary": ["a", 1], "used_name": True}, "summary[1]", "string"),
    ({"type": "concerns_acknowledged", "at": AT, "summary": [], "used_name": "yes"}, "used_name", "true or false"),
    ({"type": "facts_established", "at": AT, "fault": "boss", "root_cause": ""}, "fault", "one of"),
    ({"type": "apology_offered", "at": AT, "scope": "personal", "names_individual": False}, "scope", "one of"),
    ({"type": "remedy_proposed", "at": AT, "remedy": ""}, "remedy", "empty"),
    ({"type": "remedy_proposed", "at": AT, "remedy": "x", "value": -5}, "value", ">= 0"),
    ({"type": "remedy_proposed", "at": AT, "remedy": "x", "value": math.inf}, "value", "finite"),
    ({"type": "remedy_proposed", "at": AT, "remedy": "x", "value": "10"}, "value", "number"),
    ({"type": "interaction_opened", "at": AT, "interaction_id": "T", "authority_limit": True}, "authority_limit", "number"),
    ({"type": "interaction_opened", "at": AT, "interaction_id": 7}, "interaction_id", "string"),
    ({"type": "conversation_ended", "at": AT, "reason": "bored"}, "reason", "one of"),
    ({"type": "escalated", "at": AT}, "to", "is required"),
    ({"type": "fact_recorded", "at": AT, "source": "a", "detail": "b", "event_id": 5}, "event_id", "string"),
    # Pathological values: numbers no float holds, lone surrogates, over-precise times, huge quotes.
    ({"type": "remedy_proposed", "at": AT, "remedy": "x", "value": 10**400}, "value", "too large for a float"),
    ({"type": "interaction_opened", "at": AT, "interaction_id": "T", "authority_limit": -(10**400)}, "authority_limit", "too large"),
    ({"type": "customer_vented", "at": AT, "intensity": 10**400}, "intensity", "from 0 to 10"),
    ({"type": "fact_recorded", "at": AT, "source": "a", "detail": "b\ud800"}, "detail", "lone surrogate"),
    ({"type": "fact_recorded", "at": AT, "source": "a", "detail": "b", "event_id": "\udfff"}, "event_id", "lone surrogate"),
    ({"type": "concerns_acknowledged", "at": AT, "summary": ["a", "\udc00"], "used_name": True}, "summary[1]", "lone surrogate"),
    ({"type": "customer_vented", "at": "2026-03-02T09:00:00.1234567+00:00", "intensity": 1}, "at", "6 fractional digits"),
    ({"type": "x" * 1_000_000, "at": AT}, "type", "unknown event type 'xxx"),
]


@pytest.mark.parametrize(("data", "field", "words"), BAD, ids=[f"{b[1]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_names_the_field(data: dict[str, object], field: str, words: str) -> None:
    with pytest.raises(EventError) as error:
        event_from_dict(data)
    assert error.value.field == field
    assert words in error.value.reason
    assert error.value.line is None
    assert f"field '{field}'" in str(error.value)
    assert len(str(error.value)) < 200  # values are quoted cut short


@pytest.mark.parametrize("data", [[1, 2], "text", 3, None])
def test_a_json_value_that_is_not_an_object_is_bad_input(data: object) -> None:
    with pytest.raises(EventError) as error:
        event_from_dict(data)
    assert error.value.field == "line"


def test_text_that_is_not_json_is_bad_input() -> None:
    with pytest.raises(EventError) as error:
        parse_event("{not json")
    assert error.value.field == "line"


def test_building_a_bad_event_in_python_raises_the_same_error() -> None:
    with pytest.raises(EventError) as error:
        CustomerVented(at=datetime(2026, 1, 1), intensity=3)
    assert error.value.field == "at"
    with pytest.raises(EventError):
        CustomerVented(at=datetime(2026, 1, 1, tzinfo=UTC), intensity=30)


def test_event_errors_are_value_errors_and_can_be_placed_at_a_line() -> None:
    error = EventError("intensity", "must be from 0 to 10, got 11")
    placed = error.at_line(7)
    assert isinstance(placed, ValueError)
    assert (placed.field, placed.line) == ("intensity", 7)
    assert str(placed) == "line 7: field 'intensity': must be from 0 to 10, got 11"


def test_defaults_cover_every_event_type() -> None:
    assert set(DEFAULTS) == set(EVENT_CLASSES)


_LINE = '{"type": "customer_vented", "at": "2026-03-02T09:00:20Z", "intensity": 8}'


@pytest.mark.parametrize(
    "text",
    [
        _LINE,
        _LINE + "\n",
        _LINE + "\r\n",
        _LINE + " \t\n",
        "  " + _LINE,
        _LINE + " x",
        _LINE + "\n{}",
        _LINE[:-1],
        "",
        "\n",
        "[1, 2]\n",
        '"text"',
        '{"type": "customer_vented", "at": "2026-03-02T09:00:20Z", "intensity": NaN}',
        '{"a": "\\ud800"}\n',
    ],
)
def test_parsing_a_line_agrees_with_json_loads(text: str) -> None:
    # parse_event scans the JSON itself and leaves anything unusual to json.loads:
    # the event, or the error and its message, must be what json.loads would give.
    def through_json_loads() -> object:
        try:
            data = json.loads(text)
        except ValueError as error:
            raise EventError("line", f"is not valid JSON ({error})") from None
        return event_from_dict(data)

    try:
        expected: object = through_json_loads()
    except EventError as error:
        expected = str(error)
    try:
        got: object = parse_event(text)
    except EventError as error:
        got = str(error)
    assert got == expected


def test_a_line_given_as_bytes_still_parses() -> None:
    # parse_event takes str, but json.loads took bytes too, and so it still does.
    assert parse_event(_LINE.encode() + b"\n") == parse_event(_LINE)  # type: ignore[arg-type]
