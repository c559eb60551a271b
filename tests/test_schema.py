"""The JSON Schema of events agrees with the parser, and the shipped file is current.

The property: for generated valid events and mutations of them (fields dropped,
nulled or replaced by wrong values, bad timestamps, unknown types, extra fields),
the schema accepts exactly what ``event_from_dict`` accepts. What JSON Schema
cannot state is left out by construction and pinned by its own tests below: a
``callback_promised`` whose ``by`` is earlier than its ``at``, lone surrogates
(Hypothesis draws no surrogates), an intensity written as an integral float (5.0),
and the ISO-8601 spellings beyond RFC 3339 that the parser also reads.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import datetime
from importlib.resources import files
from typing import Any, ClassVar

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

import deescalate as d
from build import ev
from deescalate import _events, _schema
from deescalate.testing import events, openings

SCHEMA = d.json_schema()
VALIDATOR = Draft202012Validator(SCHEMA)
TIMESTAMP_VALIDATOR = Draft202012Validator(SCHEMA["$defs"][_schema.TIMESTAMP])
EVENT_VALIDATORS = {kind: Draft202012Validator(d.event_schema(kind)) for kind in d.EVENT_CLASSES}
FIELDS = sorted({field.name for cls in d.EVENT_CLASSES.values() for field in attrs.fields(cls)})


def parser_accepts(data: object) -> bool:
    try:
        d.event_from_dict(data)
    except d.EventError:
        return False
    return True


def _json_text(data: object) -> str | None:
    try:
        return json.dumps(data, allow_nan=False)
    except ValueError:  # an infinity: "1e400" in JSON text reads as one, but none writes back
        return None


# -- the schema itself ------------------------------------------------------------------------


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    for kind in d.EVENT_CLASSES:
        Draft202012Validator.check_schema(d.event_schema(kind))


def test_the_shipped_file_is_the_generated_schema() -> None:
    shipped = files("deescalate") / "transcript-line.schema.json"
    assert json.loads(shipped.read_text(encoding="utf-8")) == d.json_schema(), (
        "run: python tools/schema.py  (src/deescalate/transcript-line.schema.json is stale)"
    )


def test_there_is_one_definition_per_event_type_and_a_line_is_one_of_them() -> None:
    assert set(SCHEMA["$defs"]) == {*d.EVENT_CLASSES, _schema.TIMESTAMP}
    assert SCHEMA["oneOf"] == [{"$ref": f"#/$defs/{kind}"} for kind in d.EVENT_CLASSES]
    for kind, cls in d.EVENT_CLASSES.items():
        definition = SCHEMA["$defs"][kind]
        assert definition["properties"]["type"] == {"const": kind}
        assert set(definition["properties"]) == {"type"} | {f.name for f in attrs.fields(cls)}


def test_each_event_schema_stands_alone() -> None:
    for kind in d.EVENT_CLASSES:
        alone = d.event_schema(kind)
        assert alone["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert alone["properties"] == SCHEMA["$defs"][kind]["properties"]
        assert alone["$defs"] == {_schema.TIMESTAMP: SCHEMA["$defs"][_schema.TIMESTAMP]}


def test_json_schema_gives_a_new_dict_every_call() -> None:
    first = d.json_schema()
    first["$defs"].clear()
    assert d.json_schema() == SCHEMA


def test_event_schema_refuses_what_is_not_an_event_type() -> None:
    with pytest.raises(d.ArgumentValueError, match="unknown event type 'complaint'"):
        d.event_schema("complaint")
    with pytest.raises(d.ArgumentTypeError, match="must be an event type"):
        d.event_schema(None)  # type: ignore[arg-type]


def test_required_and_optional_fields_follow_the_defaults() -> None:
    remedy = SCHEMA["$defs"]["remedy_proposed"]
    assert remedy["required"] == ["type", "at", "remedy"]
    assert remedy["properties"]["value"]["type"] == ["number", "null"]  # default 0: null means 0
    opened = SCHEMA["$defs"]["interaction_opened"]
    assert opened["required"] == ["type", "at", "interaction_id"]
    assert opened["properties"]["customer_name"] == {"type": ["string", "null"]}


def test_whitespace_is_what_str_strip_removes() -> None:
    spaces = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert spaces == _schema.WHITESPACE
    assert all((c * 2).strip() == "" for c in spaces)


# -- a new event class needs no schema edit, unless a validator is new ---------------------------


def test_a_new_event_class_is_described_from_its_fields() -> None:
    @attrs.frozen(kw_only=True)
    class Invented(d.Event):
        """Something invented, with ``mood``."""

        type: ClassVar[str] = "invented"
        mood: str = attrs.field(validator=_events._is_nonblank_text)
        level: float | None = attrs.field(default=None, validator=_events._is_optional_amount)
        scope: d.ApologyScope = attrs.field(default=d.ApologyScope.COMPANY, validator=_events._choice(d.ApologyScope))

    definition = _schema.definition(Invented)

    assert definition["description"] == "Something invented, with `mood`."
    assert definition["required"] == ["type", "at", "mood"]
    assert definition["properties"]["level"]["type"] == ["number", "null"]
    assert definition["properties"]["scope"]["enum"] == ["inconvenience", "company", None]


def test_a_field_with_an_unknown_validator_stops_the_schema() -> None:
    def _is_cheerful(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        pass

    @attrs.frozen(kw_only=True)
    class Cheerful(d.Event):
        type: ClassVar[str] = "cheerful"
        mood: str = attrs.field(validator=_is_cheerful)

    with pytest.raises(TypeError, match=r"Cheerful\.mood: no JSON Schema for its validator"):
        _schema.definition(Cheerful)


def test_a_field_whose_none_default_its_validator_refuses_is_required() -> None:
    @attrs.frozen(kw_only=True)
    class Strict(d.Event):
        type: ClassVar[str] = "strict"
        note: str = attrs.field(default=None, validator=_events._is_text)

    # The parser passes None on for an absent note, and the validator refuses it.
    assert _schema.definition(Strict)["required"] == ["type", "at", "note"]


# -- timestamps -------------------------------------------------------------------------------

AGREED_TIMESTAMPS = [
    ("2026-03-02T09:00:00Z", True),
    ("2026-03-02T09:00:00+00:00", True),
    ("2026-03-02 09:00:00-05:30", True),
    ("2026-03-02T09:00Z", True),
    ("2026-03-02T09:00:00.5Z", True),
    ("2026-03-02T09:00:00.123456+01:00", True),
    ("2026-03-02T09:00:00+05:30:15", True),
    ("2026-03-02T09:00:00+05:30:15.123456", True),
    ("2024-02-29T00:00Z", True),
    ("2000-02-29T00:00Z", True),
    ("0001-01-01T00:00+23:59", True),
    ("9999-12-31T23:59:59.999999-23:59", True),
    ("2026-03-02T09:00:00", False),  # no offset
    ("2026-03-02", False),
    ("2026-03-02T09:00:00.1234567Z", False),  # 7 fractional digits
    ("2026-03-02T09:00:00+05:30:15.1234567", False),
    ("2026-02-29T09:00Z", False),
    ("1900-02-29T09:00Z", False),
    ("2026-04-31T09:00Z", False),
    ("2026-13-01T09:00Z", False),
    ("2026-00-01T09:00Z", False),
    ("0000-01-01T00:00Z", False),
    ("2026-03-02T25:00Z", False),
    ("2026-03-02T09:60Z", False),
    ("2026-03-02T09:00:60Z", False),
    ("2026-03-02T09:00:00+24:00", False),
    ("2026-03-02T09:00:00Z\n", False),
    (" 2026-03-02T09:00:00Z", False),
    ("2026-03-02T09:00:00Z ", False),
    ("2 March 2026", False),
    ("", False),
    ("٢٠٢٦-03-02T09:00Z", False),  # Arabic-Indic digits
]


@pytest.mark.parametrize(("text", "valid"), AGREED_TIMESTAMPS)
def test_the_schema_and_the_parser_agree_on_a_timestamp(text: str, valid: bool) -> None:
    data = {"type": "empathy_expressed", "at": text}
    assert (VALIDATOR.is_valid(data), parser_accepts(data)) == (valid, valid)


@pytest.mark.parametrize(
    "text",
    ["20260302T090000Z", "2026-W10-1T09:00Z", "2026-03-02T09Z", "2026-03-02T09:00:00,5Z", "2026-03-02T09:00+05"],
)
def test_the_parser_also_reads_iso_8601_spellings_the_schema_refuses(text: str) -> None:
    data = {"type": "empathy_expressed", "at": text}
    assert not VALIDATOR.is_valid(data) and parser_accepts(data)


# -- what JSON Schema cannot state: the parser alone refuses it --------------------------------


def test_a_callback_promised_for_before_it_was_made_is_the_parsers_alone() -> None:
    data = {"type": "callback_promised", "at": "2026-03-02T09:00:00Z", "by": "2026-03-02T08:59:59Z"}
    assert VALIDATOR.is_valid(data) and not parser_accepts(data)
    assert "parser alone" in SCHEMA["$defs"]["callback_promised"]["properties"]["by"]["description"]


def test_a_lone_surrogate_is_the_parsers_alone() -> None:
    data = {"type": "abuse_observed", "at": "2026-03-02T09:00:00Z", "detail": "\ud800"}
    assert VALIDATOR.is_valid(data) and not parser_accepts(data)


def test_an_intensity_written_with_a_fraction_is_the_parsers_alone() -> None:
    event = d.event_from_dict(json.loads('{"type": "customer_vented", "at": "2026-03-02T09:00:00Z", "intensity": 5}'))
    assert event == d.CustomerVented(at=datetime.fromisoformat("2026-03-02T09:00:00Z"), intensity=5)
    written = json.loads('{"type": "customer_vented", "at": "2026-03-02T09:00:00Z", "intensity": 5.0}')
    assert VALIDATOR.is_valid(written) and not parser_accepts(written)


# Values worth trying in any field: the edges of every rule, and the wrong kinds of JSON.
EDGES: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    10,
    11,
    -0.0,
    0.5,
    10.5,
    1e-300,
    -1e-300,
    sys.float_info.max,
    float("inf"),  # what "1e400" in JSON text reads as
    10**400,
    -(10**400),
    2**1024,
    "",
    " ",
    "\u3000\t\n",
    "x",
    " x ",
    "5",
    "true",
    "company",
    "Company",
    "inconvenience",
    "customer_left",
    "abuse",
    "2026-03-02T09:00:00Z",
    "2026-03-02T09:00:00",
    "2026-03-02T09:00:00.1234567Z",
    [],
    ["late"],
    [1],
    ["late", None],
    {},
    {"at": "2026-03-02T09:00:00Z"},
]
BASES = {kind: d.event_to_dict(ev(kind)) for kind in d.EVENT_CLASSES}


def _constructed(data: Any) -> Any:
    """``data`` kept clear of what JSON Schema cannot state (each has its own test above)."""
    if not isinstance(data, dict):
        return data
    intensity = data.get("intensity")
    if data.get("type") == "customer_vented" and isinstance(intensity, float) and intensity.is_integer():
        data["intensity"] = 0.5
    if data.get("type") == "callback_promised":
        at, by = _moment(data.get("at")), _moment(data.get("by"))
        if at is not None and by is not None and by < at:
            data["at"], data["by"] = data["by"], data["at"]
    return data


def _moment(value: object) -> datetime | None:
    """The instant a timestamp the schema accepts stands for, or None."""
    if not isinstance(value, str) or not TIMESTAMP_VALIDATOR.is_valid(value):
        return None
    return datetime.fromisoformat(value)


def agree(data: Any, validator: Draft202012Validator = VALIDATOR) -> None:
    """Assert that ``validator`` (the schema's, unless a test breaks it) and the parser agree on ``data``."""
    accepted = parser_accepts(data)
    assert validator.is_valid(data) == accepted, (data, list(validator.iter_errors(data))[:3])
    text = _json_text(data)
    if text is not None:
        try:
            d.parse_event(text)
        except d.EventError:
            assert not accepted
        else:
            assert accepted
    kind = data.get("type") if isinstance(data, dict) else None
    if validator is VALIDATOR and isinstance(kind, str) and kind in d.EVENT_CLASSES:
        assert EVENT_VALIDATORS[kind].is_valid(data) == accepted


def variations(base: dict[str, Any]) -> list[Any]:
    """``base`` as it is, with each of its fields (and one it lacks) dropped and set to each edge value."""
    own = {field.name for field in attrs.fields(d.EVENT_CLASSES[base["type"]])}
    out: list[Any] = [base, [base]]
    for key in [*sorted(base.keys() | own), "extra"]:
        out.append({k: v for k, v in base.items() if k != key})
        out += [{**base, key: value} for value in EDGES]
    return out


@pytest.mark.parametrize("kind", list(d.EVENT_CLASSES))
def test_the_schema_and_the_parser_agree_on_every_field_at_its_edges(kind: str) -> None:
    for data in variations(BASES[kind]):
        agree(_constructed(data))


def test_the_schema_and_the_parser_agree_on_the_type_and_on_what_is_not_an_object() -> None:
    base = BASES["empathy_expressed"]
    for value in [*EDGES, "complaint", "Empathy_Expressed", " empathy_expressed", ["empathy_expressed"]]:
        agree({**base, "type": value})
    for value in EDGES:
        agree(value)


# -- the property: random valid events, mutated, and random timestamps --------------------------

_two = st.integers(0, 99).map("{:02d}".format)
_digits = st.text("0123456789", min_size=1, max_size=7)  # 7 digits: too many


@st.composite
def _offsets(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from("+-")) + draw(st.integers(0, 24).map("{:02d}".format))
    text += ":" + draw(st.integers(0, 59).map("{:02d}".format))
    if draw(st.booleans()):
        text += ":" + draw(st.integers(0, 59).map("{:02d}".format))
        if draw(st.booleans()):
            text += "." + draw(_digits)
    return text


@st.composite
def timestamps(draw: st.DrawFn) -> str:
    """RFC 3339-shaped text, mostly valid, with fields out of range, too many digits, no offset.

    Never a spelling the parser reads and the schema refuses (see the test above):
    minutes and seconds of an offset stay under 60, a fraction follows seconds only.
    """
    year = draw(st.integers(0, 9999).map("{:04d}".format) | st.sampled_from(["2024", "2000", "1900", "2100"]))
    month = draw(st.integers(1, 12).map("{:02d}".format) | _two)
    day = draw(st.integers(1, 28).map("{:02d}".format) | st.sampled_from(["29", "30", "31"]) | _two)
    hour = draw(st.integers(0, 23).map("{:02d}".format) | st.integers(25, 99).map(str))
    minute = draw(st.integers(0, 59).map("{:02d}".format) | _two)
    clock = f"{hour}:{minute}"
    if draw(st.booleans()):
        clock += ":" + draw(st.integers(0, 59).map("{:02d}".format) | _two)
        if draw(st.booleans()):
            clock += "." + draw(_digits)
    offset = draw(st.sampled_from(["Z", ""]) | _offsets())
    text = f"{year}-{month}-{day}{draw(st.sampled_from('T '))}{clock}{offset}"
    return draw(st.sampled_from([text, text, text, text + "\n", " " + text]))


_floats = st.floats(allow_nan=False).filter(lambda x: math.isinf(x) or not x.is_integer())
_scalars = st.one_of(
    st.sampled_from(EDGES),
    st.integers(-3, 12),
    _floats,
    st.text(max_size=8),
    timestamps(),
)
json_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=2),
    max_leaves=4,
)
_valid = (events() | openings()).map(d.event_to_dict)


@st.composite
def event_objects(draw: st.DrawFn) -> Any:
    """A valid event as JSON, with up to three of its fields dropped, nulled or replaced, or extra ones."""
    data: dict[str, Any] = draw(_valid)
    own = sorted(data.keys() | {f.name for f in attrs.fields(d.EVENT_CLASSES[data["type"]])})
    for _ in range(draw(st.sampled_from([1, 0, 1, 2, 3]))):
        key = draw(st.sampled_from(own) | st.sampled_from(own) | st.sampled_from(FIELDS) | st.text(max_size=6))
        action = draw(st.sampled_from(["replace", "drop", "null", "replace"]))
        if action == "drop":
            data.pop(key, None)
        elif action == "null":
            data[key] = None
        else:
            data[key] = draw(timestamps() | json_values if key in ("at", "by") else json_values)
    return data


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(event_objects().map(_constructed))
def test_the_schema_accepts_exactly_what_the_parser_accepts(data: Any) -> None:
    agree(data)


@given(_valid)
def test_every_event_the_library_writes_is_valid(data: dict[str, Any]) -> None:
    assert VALIDATOR.is_valid(data), list(VALIDATOR.iter_errors(data))[:3]
    assert EVENT_VALIDATORS[data["type"]].is_valid(data)


@settings(max_examples=300)
@given(timestamps())
def test_the_schema_and_the_parser_agree_on_drawn_timestamps(text: str) -> None:
    data = {"type": "callback_promised", "at": "0001-01-01T00:00+23:59", "by": text}
    moment = _moment(text)
    if moment is not None and moment < datetime.fromisoformat(data["at"]):
        data["at"] = text  # by < at is the parser's alone
    agree(data)
