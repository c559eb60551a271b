"""What start-up leaves out or puts off does what it replaces.

The core's values take their ``__repr__`` (and events their ``__eq__`` and
``__hash__``) from ``_value.py`` instead of methods attrs compiles per class; event
decoders and interaction builders loop over the fields until a type or a set of
changes has been met often enough to pay for generating code. Each is checked
here against what it stands in for: attrs' own methods, and the generated code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import pytest

from build import START, ev
from deescalate import (
    EVENT_CLASSES,
    FACTS_FIRST,
    Event,
    EventError,
    Interaction,
    Mode,
    Parameter,
    _apply,
    _codec,
    _interaction,
    apply,
    event_to_dict,
    read_transcript,
    review,
)
from deescalate._machine import ROUTES
from deescalate._rules import _BadDuration
from deescalate._table import TRANSITIONS
from test_events import BAD

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TRANSCRIPTS = sorted(EXAMPLES.glob("*.jsonl"))

_MIRRORS: dict[type, type] = {}


def mirror(value: Any) -> Any:
    """``value`` as an instance of a plain attrs class with the same fields: attrs' own methods."""
    cls = type(value)
    twin = _MIRRORS.get(cls)
    if twin is None:
        fields = {
            field.name: attrs.field(repr=field.repr, eq=field.eq, hash=field.hash, kw_only=True)
            for field in attrs.fields(cls)
        }
        twin = _MIRRORS[cls] = attrs.make_class(cls.__name__, fields, frozen=True)
    return twin(**{field.name: getattr(value, field.name) for field in attrs.fields(cls)})


def reviewed(path: Path) -> Any:
    with path.open("rb") as handle:
        return review(read_transcript(handle), FACTS_FIRST, Mode.ADVISORY)


def values() -> list[Any]:
    """Values of every class that takes value_repr, as the package builds them."""
    found: list[Any] = []
    for path in TRANSCRIPTS:
        report = reviewed(path)
        found += [report, report.interaction, *report.findings[:2], *report.duplicates[:1]]
        found += [item.finding for item in report.findings[:2]]
        found += [item.line for item in report.findings[:1]]
        interaction = report.interaction
        if interaction.facts is not None:
            found.append(interaction.facts)
        if interaction.agreed_remedy is not None:
            found.append(interaction.agreed_remedy)
    opened = reviewed(EXAMPLES / "clean.jsonl").interaction
    found.append(apply(opened, ev("customer_vented"), FACTS_FIRST, Mode.STRICT))
    found += [FACTS_FIRST.params, FACTS_FIRST.params.changed(max_rejections=5), *FACTS_FIRST.rules[:3]]
    refund = Parameter("refund_limit", "amount", 50, "the most a refund may be")
    found += [refund, FACTS_FIRST.declaring(refund).params, _BadDuration("no duration")]
    found += [TRANSITIONS[0], TRANSITIONS[2], ROUTES["venting_subsided"][TRANSITIONS[2].sources[0]]]
    return found


def test_value_repr_is_attrs_repr() -> None:
    samples = values()
    assert {type(value).__name__ for value in samples} >= {
        "Review", "Interaction", "ReviewedFinding", "Finding", "Line", "Facts", "Remedy", "Outcome",
        "Params", "Parameter", "Rule", "Move", "Route", "_BadDuration",
    }
    for value in samples:
        assert repr(value) == repr(mirror(value))


def events() -> list[Event]:
    found: list[Event] = []
    for kind in sorted(EVENT_CLASSES):  # equal events, and events of two types with equal fields
        found += [ev(kind), ev(kind, at=START, event_id="e-1"), ev(kind, at=START, event_id="e-1")]
    for path in TRANSCRIPTS:
        with path.open("rb") as handle:
            found += [line.event for line in read_transcript(handle)]
    return found


def test_events_repr_compare_and_hash_as_attrs_would() -> None:
    samples = events()
    copies = [attrs.evolve(event) for event in samples]
    for event, copy in zip(samples, copies, strict=True):
        assert repr(event) == repr(mirror(event))
        assert event == copy and (event != copy) is False and hash(event) == hash(copy)
        assert event.__eq__(object()) is NotImplemented and event != mirror(event)
    for a in samples:
        for b in samples:
            same = type(a) is type(b) and mirror(a) == mirror(b)
            assert (a == b) is same and (a != b) is not same
            if same:
                assert hash(a) == hash(b)


def test_events_of_two_types_with_the_same_fields_differ() -> None:
    a, b = ev("empathy_expressed", at=START), ev("venting_subsided", at=START)
    assert attrs.astuple(a) == attrs.astuple(b)
    assert a != b and len({a, b}) == 2


def decoded(decode: Any, data: dict[str, Any]) -> object:
    try:
        return decode(data)
    except EventError as error:
        return ("EventError", error.field, error.reason)


DATA = [event_to_dict(event) for event in events()] + [
    data for data, _, _ in BAD if isinstance(data, dict) and isinstance(data.get("type"), str)
    and data["type"] in EVENT_CLASSES
] + [
    {"type": "remedy_proposed", "at": "2026-03-02T09:00:00Z", "remedy": "x", "value": None},
    {"type": "callback_promised", "at": "2026-03-02T09:00:00Z", "by": "yesterday"},
    {"type": "callback_promised", "at": "bad", "by": "bad"},
    {"type": "callback_promised", "at": "2026-03-02T09:00:00Z", "by": "2026-03-01T09:00:00Z"},
    {"type": "concerns_acknowledged", "at": None, "summary": None},
]


@pytest.mark.parametrize("data", DATA, ids=[f"{d['type']}-{i}" for i, d in enumerate(DATA)])
def test_the_first_decoder_decodes_as_the_generated_one(data: dict[str, Any]) -> None:
    cls = EVENT_CLASSES[data["type"]]
    first, generated = _codec._first_decoder(data["type"], cls), _codec._decoder(cls)
    assert decoded(first, data) == decoded(generated, data)


def test_a_type_met_often_gets_its_generated_decoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_codec, "_DECODERS", {})
    data = event_to_dict(ev("fact_recorded"))
    for _ in range(_codec.GENERATE_AFTER - 1):
        _codec.event_from_dict(data)
    assert _codec._DECODERS["fact_recorded"].__qualname__.startswith("_first_decoder.")
    _codec.event_from_dict(data)
    assert _codec._DECODERS["fact_recorded"].__qualname__ == "decode"
    assert _codec.event_from_dict(data) == _codec._first_decoder("fact_recorded", type(ev("fact_recorded")))(data)


def test_the_first_builder_builds_as_the_generated_one(monkeypatch: pytest.MonkeyPatch) -> None:
    met: list[tuple[Interaction, dict[str, Any]]] = []

    def recording(interaction: Interaction, changes: dict[str, Any]) -> Interaction:
        met.append((interaction, dict(changes)))
        return _interaction.evolved(interaction, changes)

    monkeypatch.setattr(_apply, "evolved", recording)
    for path in TRANSCRIPTS:
        reviewed(path)
    assert len({tuple(changes) for _, changes in met}) > 5
    for old, changes in met:
        names = tuple(changes)
        built = _interaction._first_evolver(names)(old, changes)
        assert built == _interaction._evolver(names)(old, changes)
        assert repr(built) == repr(attrs.evolve(old, **changes))


def test_both_builders_refuse_a_field_the_interaction_lacks() -> None:
    with pytest.raises(TypeError) as first:
        _interaction._first_evolver(("stage", "mood"))
    with pytest.raises(TypeError) as generated:
        _interaction._evolver(("stage", "mood"))
    assert str(first.value) == str(generated.value) == "Interaction has no field(s) mood"


def test_a_set_of_changes_met_often_gets_its_generated_builder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_interaction, "_EVOLVERS", {})
    interaction = reviewed(EXAMPLES / "clean.jsonl").interaction
    for _ in range(_interaction.GENERATE_AFTER):
        _interaction.evolved(interaction, {"owner": "manager"})
    assert _interaction._EVOLVERS[("owner",)].__qualname__ == "evolve"
    assert _interaction.evolved(interaction, {"owner": "lead"}).owner == "lead"
