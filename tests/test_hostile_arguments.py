"""Every public function fails closed: any hostile argument gives a typed error, never a crash.

For each function of the public API, every argument in turn is replaced by each of
a pool of hostile values (None, wrong types, huge and non-finite numbers, lone
surrogates, a megabyte of text, deep nesting...) while the others stay valid. The
call may succeed (some values are fine where they stand), or raise a
``DeescalateError`` that is also the builtin exception that fits. Anything else
(an AttributeError from deep inside, an OverflowError, a RecursionError) is a bug.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import pytest

import deescalate as d
from build import TO_AGREED, ev, opened, run
from deescalate.verify import verify


class _Hostile:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")

    def __eq__(self, other: object) -> bool:
        raise RuntimeError("no eq")

    __hash__ = object.__hash__


def _deep(depth: int) -> Any:
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


HOSTILE: list[Any] = [
    None,
    0,
    -1,
    True,
    10**400,
    float("inf"),
    float("nan"),
    "",
    "x" * 1_000_000,
    "\ud800",
    b"\xff\xfe",
    [],
    {},
    {"type": "customer_vented"},
    object(),
    _Hostile(),
    _deep(50_000),
    [None],
    ["\ud800"],
]


def _lines() -> list[d.Line]:
    return [d.Line(0, 1, opened()), d.Line(1, 2, ev("customer_vented"))]


def _cases() -> list[tuple[str, Callable[..., Any], dict[str, Any]]]:
    interaction = run(TO_AGREED)
    event = ev("progress_reported")
    text = d.dump_snapshot(interaction)
    data = d.snapshot_to_dict(interaction)
    return [
        ("apply", d.apply, {"interaction": interaction, "event": event, "policy": d.FACTS_FIRST, "mode": d.Mode.STRICT}),
        ("open_interaction", d.open_interaction, {"event": opened(), "policy": d.FACTS_FIRST}),
        ("replay", d.replay, {"events": list(interaction.history), "policy": d.FACTS_FIRST}),
        ("review", d.review, {"lines": _lines(), "policy": d.FACTS_FIRST, "mode": d.Mode.ADVISORY}),
        ("read_transcript", lambda lines: list(d.read_transcript(lines)), {"lines": [d.dump_event(opened())]}),
        ("parse_event", d.parse_event, {"text": d.dump_event(event)}),
        ("event_from_dict", d.event_from_dict, {"data": d.event_to_dict(event)}),
        ("event_to_dict", d.event_to_dict, {"event": event}),
        ("dump_event", d.dump_event, {"event": event}),
        ("dump_snapshot", d.dump_snapshot, {"interaction": interaction, "policy": d.FACTS_FIRST, "key": None}),
        ("snapshot_to_dict", d.snapshot_to_dict, {"interaction": interaction, "policy": d.FACTS_FIRST, "key": None}),
        ("load_snapshot", d.load_snapshot, {"text": text, "policy": None, "key": None}),
        ("snapshot_from_dict", d.snapshot_from_dict, {"data": data, "policy": None, "key": None}),
        ("load_policy", d.load_policy, {"spec": "facts-first"}),
        (
            "rule",
            lambda id, severity, on, message: d.rule(id, severity=severity, on=on, message=message)(lambda *a: False),
            {"id": "my-rule", "severity": "warning", "on": "remedy_proposed", "message": "m"},
        ),
        ("Params", d.Params, {"authority_limit": 10, "max_rejections": 2}),
        ("Policy", d.Policy, {"name": "p", "rules": (), "params": d.Params()}),
        ("Policy.with_params", d.FACTS_FIRST.with_params, {"authority_limit": 5}),
        ("Policy.without", lambda rule_id: d.FACTS_FIRST.without(rule_id), {"rule_id": "use-their-name"}),
        ("Policy.regraded", d.FACTS_FIRST.regraded, {"rule_id": "use-their-name", "severity": "violation"}),
        ("Policy.named", d.FACTS_FIRST.named, {"name": "acme"}),
        ("Policy.rule", d.FACTS_FIRST.rule, {"rule_id": "use-their-name"}),
        ("History.getitem", lambda index: interaction.history[index], {"index": 0}),
        ("verify", verify, {"policy": d.FACTS_FIRST, "depth": 1, "max_states": 50, "escape": 0}),
        ("CustomerVented", d.CustomerVented, {"at": event.at, "intensity": 3, "event_id": None}),
        ("RemedyProposed", d.RemedyProposed, {"at": event.at, "remedy": "refund", "value": 3}),
        ("ConcernsAcknowledged", d.ConcernsAcknowledged, {"at": event.at, "summary": ["x"], "used_name": True}),
        ("InteractionOpened", d.InteractionOpened, {"at": event.at, "interaction_id": "T", "authority_limit": 5}),
        ("CallbackPromised", d.CallbackPromised, {"at": event.at, "by": event.at, "detail": "x"}),
        ("guide", d.guide, {"interaction": interaction, "policy": d.FACTS_FIRST, "now": event.at}),
        ("open_obligations", d.open_obligations, {"interaction": interaction, "policy": d.FACTS_FIRST}),
        ("due_obligations", d.due_obligations, {"interaction": interaction, "policy": d.FACTS_FIRST, "now": event.at}),
        ("parse_duration", d.parse_duration, {"text": "PT10M"}),
        ("format_duration", d.format_duration, {"span": d.parse_duration("P1D")}),
        ("Parameter", d.Parameter, {"name": "refund_limit", "kind": "amount", "default": 30, "doc": ""}),
        ("Policy.declaring", lambda parameter: d.FACTS_FIRST.declaring(parameter), {"parameter": d.Parameter("x", kind="count", default=1)}),
        ("json_schema", d.json_schema, {}),
        ("event_schema", d.event_schema, {"type": "customer_vented"}),
        ("Params.durations", d.Params, {"progress_every": "PT1H", "follow_up_within": None, "escalate_within": "PT5M"}),
    ]


CALLS = [
    pytest.param(function, arguments, name, value, id=f"{label}-{name}-{n}")
    for label, function, arguments in _cases()
    for name in arguments
    for n, value in enumerate(HOSTILE)
]


def _fits(error: BaseException) -> bool:
    return isinstance(error, d.DeescalateError) and isinstance(error, TypeError | ValueError | IndexError)


@pytest.mark.parametrize(("function", "arguments", "name", "value"), CALLS)
def test_a_hostile_argument_gives_a_typed_error_or_works(
    function: Callable[..., Any], arguments: dict[str, Any], name: str, value: Any
) -> None:
    error = _raised(function, {**arguments, name: value})
    if error is not None:
        assert _fits(error), f"{type(error).__name__}: {d._errors.describe(str(error))}"
        message = str(error)
        assert "\n" not in message and len(message) < 1_000


def _raised(function: Callable[..., Any], arguments: dict[str, Any]) -> Exception | None:
    try:
        function(**arguments)
    except Exception as error:
        return error
    return None


def test_the_baselines_are_valid() -> None:
    for _label, function, arguments in _cases():
        function(**arguments)  # every case's valid arguments work, so each hostile one is what fails


def test_every_public_function_is_covered() -> None:
    covered = {label for label, _, _ in _cases()}
    public = {
        name
        for name in d.__all__
        if inspect.isfunction(getattr(d, name)) and name not in {"dump_event"} | covered
    }
    assert public == set(), f"not covered by the hostile-argument test: {sorted(public)}"
