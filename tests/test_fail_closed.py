"""Fail closed: wrong arguments raise typed errors, late events change nothing, crashing rules are named,
and readers of a shared history never see it change under them."""

from __future__ import annotations

import json
import sys
import threading
from datetime import timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from build import TO_ACKNOWLEDGED, TO_FACTS, ev, events, opened, run
from deescalate import (
    APOLOGIZE_FIRST,
    FACTS_FIRST,
    ArgumentError,
    ArgumentTypeError,
    ArgumentValueError,
    DeescalateError,
    Line,
    Mode,
    PolicyError,
    RuleError,
    Status,
    apply,
    dump_event,
    open_interaction,
    read_transcript,
    replay,
    review,
    rule,
)
from deescalate import (
    EventError as d_EventError,
)
from deescalate.testing import events as any_events

# -- arguments ------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["STRICT", "Strict", " strict", "guard", "", "advisory "])
def test_a_mode_name_that_is_not_exact_raises_a_value_error(mode: str) -> None:
    with pytest.raises(ArgumentValueError, match=r"must be Mode\.STRICT or Mode\.ADVISORY") as error:
        apply(run(["customer_vented"]), ev("remedy_proposed"), FACTS_FIRST, mode)  # type: ignore[arg-type]
    assert isinstance(error.value, ValueError) and isinstance(error.value, DeescalateError)
    assert error.value.argument == "mode"


@pytest.mark.parametrize("mode", [None, True, False, 0, 1, b"strict", object()])
def test_a_mode_of_another_kind_raises_a_type_error(mode: object) -> None:
    with pytest.raises(ArgumentTypeError) as error:
        apply(run(["customer_vented"]), ev("remedy_proposed"), FACTS_FIRST, mode)  # type: ignore[arg-type]
    assert isinstance(error.value, TypeError) and isinstance(error.value, DeescalateError)


@pytest.mark.parametrize("mode", [Mode.STRICT, "strict"])
def test_strict_mode_by_member_or_exact_name_refuses(mode: Any) -> None:
    assert apply(run(["customer_vented"]), ev("remedy_proposed"), FACTS_FIRST, mode).refused


@pytest.mark.parametrize("mode", [Mode.ADVISORY, "advisory"])
def test_advisory_mode_by_member_or_exact_name_applies(mode: Any) -> None:
    assert apply(run(["customer_vented"]), ev("remedy_proposed"), FACTS_FIRST, mode).applied


@pytest.mark.parametrize(
    "event",
    [{"type": "customer_vented", "at": "2026-03-02T09:00:00Z", "intensity": 3}, '{"type": "x"}', None, 7, Line],
)
def test_an_event_that_is_not_an_event_raises_a_type_error(event: object) -> None:
    with pytest.raises(ArgumentTypeError, match="must be an Event") as error:
        apply(run([]), event)  # type: ignore[arg-type]
    assert error.value.argument == "event"
    if isinstance(event, dict):
        assert "event_from_dict" in str(error.value)


def test_an_interaction_that_is_not_one_raises_a_type_error() -> None:
    with pytest.raises(ArgumentTypeError, match="must be an Interaction"):
        apply({"stage": "venting"}, ev("customer_vented"))  # type: ignore[arg-type]


def test_a_built_in_policy_name_resolves_and_anything_else_raises() -> None:
    interaction = run(["customer_vented", "venting_subsided", "concerns_acknowledged"], APOLOGIZE_FIRST)
    offer = ev("remedy_proposed")
    by_name = apply(interaction, offer, "apologize-first", Mode.ADVISORY)  # type: ignore[arg-type]
    assert by_name == apply(interaction, offer, APOLOGIZE_FIRST, Mode.ADVISORY)
    with pytest.raises(PolicyError, match="unknown policy 'facts_first'") as unknown:
        apply(interaction, offer, "facts_first")  # type: ignore[arg-type]
    assert isinstance(unknown.value, ValueError)
    for wrong in (None, 42, {"name": "facts-first"}, FACTS_FIRST.rules):
        with pytest.raises(ArgumentTypeError, match="must be a Policy"):
            apply(interaction, offer, wrong)  # type: ignore[arg-type]


def test_open_interaction_and_replay_check_their_arguments() -> None:
    with pytest.raises(ArgumentTypeError):
        open_interaction({"type": "interaction_opened"})  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError):
        open_interaction(opened(), "nope" and 3)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError):
        replay("events")  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match=r"events\[1\]"):
        replay([opened(), {"type": "customer_vented"}])  # type: ignore[list-item]
    with pytest.raises(PolicyError):
        replay([opened()], "lenient")  # type: ignore[arg-type]


def test_review_takes_lines_not_raw_text() -> None:
    text = [dump_event(opened()), dump_event(ev("customer_vented"))]
    with pytest.raises(ArgumentTypeError, match="read_transcript"):
        review(text)  # type: ignore[arg-type]
    with pytest.raises(ArgumentTypeError, match="read_transcript"):
        review("\n".join(text))  # type: ignore[arg-type]
    lines = list(read_transcript(text))
    with pytest.raises(ArgumentTypeError, match=r"lines\[1\]"):
        review([lines[0], text[1]])  # type: ignore[list-item]
    with pytest.raises(ArgumentValueError):
        review(lines, FACTS_FIRST, "STRICT")  # type: ignore[arg-type]
    assert review(lines, "apologize-first").policy is APOLOGIZE_FIRST  # type: ignore[arg-type]


def test_every_argument_error_is_both_ours_and_the_builtin_that_fits() -> None:
    assert issubclass(ArgumentTypeError, ArgumentError) and issubclass(ArgumentTypeError, TypeError)
    assert issubclass(ArgumentValueError, ArgumentError) and issubclass(ArgumentValueError, ValueError)
    assert issubclass(ArgumentError, DeescalateError)
    assert issubclass(RuleError, PolicyError) and issubclass(RuleError, ValueError)


# -- time order ------------------------------------------------------------------------------


def test_an_event_earlier_than_the_last_applied_one_is_late_in_every_mode() -> None:
    interaction = run(TO_ACKNOWLEDGED)
    earlier = ev("empathy_expressed", at=interaction.history.last.at - timedelta(seconds=1))
    for mode in Mode:
        outcome = apply(interaction, earlier, FACTS_FIRST, mode)
        assert outcome.status is Status.LATE and outcome.late
        assert outcome.interaction is interaction and outcome.findings == ()
        assert not outcome.applied and not outcome.refused


def test_equal_times_are_in_order() -> None:
    interaction = run(TO_ACKNOWLEDGED)
    same = ev("empathy_expressed", at=interaction.history.last.at)
    assert apply(interaction, same).applied


def test_time_order_compares_instants_not_clock_faces() -> None:
    interaction = run(TO_ACKNOWLEDGED)
    last = interaction.history.last.at
    from datetime import timezone

    later_in_tokyo = ev("empathy_expressed", at=(last + timedelta(seconds=1)).astimezone(timezone(timedelta(hours=9))))
    earlier_in_lima = ev("empathy_expressed", at=(last - timedelta(seconds=1)).astimezone(timezone(timedelta(hours=-5))))
    assert apply(interaction, later_in_tokyo).applied
    assert apply(interaction, earlier_in_lima).late


def test_a_late_duplicate_is_still_a_duplicate() -> None:
    interaction = run([("customer_vented", {"event_id": "w-2"}), "venting_subsided"])
    again = interaction.history[1]
    assert apply(interaction, again).status is Status.DUPLICATE


def test_a_refused_event_delivered_again_later_is_late_and_the_history_reviews_clean() -> None:
    # A webhook retried a refused acknowledgement after the venting subsided.
    interaction = run(["customer_vented"])
    refused = ev("concerns_acknowledged", event_id="w-3")
    assert apply(interaction, refused, mode=Mode.STRICT).refused
    interaction = apply(interaction, ev("venting_subsided"), mode=Mode.STRICT).interaction
    interaction = apply(interaction, ev("empathy_expressed"), mode=Mode.STRICT).interaction
    retry = apply(interaction, refused, mode=Mode.STRICT)
    assert retry.late and retry.interaction is interaction
    exported = [dump_event(event) for event in interaction.history]
    result = review(read_transcript(exported), FACTS_FIRST, Mode.STRICT)
    assert result.violations == 0 and result.events == len(exported)


def test_replay_refuses_a_history_out_of_time_order() -> None:
    start = opened()
    first, second = events(["customer_vented", "empathy_expressed"])
    with pytest.raises(DeescalateError, match="time order"):
        replay([start, second, first])


def test_review_of_hand_made_lines_lists_the_late_ones() -> None:
    start = opened()
    vented, empathy = events(["customer_vented", "empathy_expressed"])
    lines = [Line(0, 1, start), Line(1, 2, empathy), Line(2, 3, vented)]
    result = review(lines)
    assert [line.index for line in result.late] == [2]


@settings(max_examples=200, deadline=None)
@given(st.lists(any_events(), max_size=25), st.sampled_from(list(Mode)))
def test_whatever_arrives_in_whatever_order_the_history_stays_in_time_order(
    arriving: list[Any], mode: Mode
) -> None:
    start = opened(at=min([e.at for e in arriving], default=None) or opened().at)
    interaction = open_interaction(attrs.evolve(start, at=min([start.at, *(e.at for e in arriving)])))
    for event in arriving:
        outcome = apply(interaction, event, FACTS_FIRST, mode)
        if outcome.status is not Status.APPLIED:
            assert outcome.interaction is interaction
        interaction = outcome.interaction
    times = [event.at for event in interaction.history]
    assert times == sorted(times)
    exported = [dump_event(event) for event in interaction.history]
    result = review(read_transcript(exported), FACTS_FIRST, mode)  # never bad input
    assert result.interaction == interaction


# -- crashing rules ----------------------------------------------------------------------------


def _policy_with(check: Any) -> Any:
    crashing = rule("crashes", severity="warning", on="empathy_expressed", message="never shown")(check)
    return FACTS_FIRST.named("crashy").with_rules(crashing)


def test_a_rule_that_raises_is_named_with_the_event_type_and_index() -> None:
    def check(interaction: Any, event: Any, params: Any) -> bool:
        return 1 / 0 > 0

    policy = _policy_with(check)
    interaction = run(TO_FACTS, policy)
    with pytest.raises(RuleError) as error:
        apply(interaction, ev("empathy_expressed"), policy)
    found = error.value
    assert (found.rule, found.event_type, found.index) == ("crashes", "empathy_expressed", len(interaction.history))
    assert isinstance(found.__cause__, ZeroDivisionError)
    assert str(found) == (
        f"rule 'crashes' failed on empathy_expressed #{len(interaction.history)}: ZeroDivisionError: division by zero"
    )


def test_review_places_a_crashing_rule_at_its_line() -> None:
    def check(interaction: Any, event: Any, params: Any) -> bool:
        raise ValueError("first line\nsecond line\r\nthird")

    text = ["", dump_event(opened()), dump_event(ev("customer_vented")), "", dump_event(ev("empathy_expressed"))]
    with pytest.raises(RuleError) as error:
        review(read_transcript(text), _policy_with(check))
    assert (error.value.index, error.value.line) == (2, 5)
    assert "\n" not in str(error.value) and "\r" not in str(error.value)
    assert str(error.value).startswith("line 5: rule 'crashes' failed on empathy_expressed #2: ValueError: first line")


def test_an_exception_whose_message_itself_raises_is_still_named() -> None:
    class Hostile(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no message for you")

    def check(interaction: Any, event: Any, params: Any) -> bool:
        raise Hostile

    with pytest.raises(RuleError, match="Hostile: \\(its message could not be read\\)"):
        apply(run([]), ev("empathy_expressed"), _policy_with(check))


def test_a_verdict_that_cannot_be_read_as_true_or_false_is_a_crash_of_the_rule() -> None:
    class Undecided:
        def __bool__(self) -> bool:
            raise TypeError("undecided")

    def check(interaction: Any, event: Any, params: Any) -> Any:
        return Undecided()

    with pytest.raises(RuleError, match="TypeError: undecided"):
        apply(run([]), ev("empathy_expressed"), _policy_with(check))


def test_keyboard_interrupts_are_not_swallowed() -> None:
    def check(interaction: Any, event: Any, params: Any) -> bool:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        apply(run([]), ev("empathy_expressed"), _policy_with(check))


def test_rule_errors_pickle() -> None:
    import pickle

    error = RuleError("r", "empathy_expressed", 3, "ValueError: x", 7)
    again = pickle.loads(pickle.dumps(error))
    assert str(again) == str(error) and again.line == 7


# -- readers of a shared history ------------------------------------------------------------


def test_readers_never_see_the_log_change_under_them() -> None:
    interaction = run([])
    for n in range(40):  # past the short-log size, so ids are kept in a dict
        interaction = apply(interaction, ev("fact_recorded", source=f"s{n}", event_id=f"e{n}")).interaction
    base = interaction
    errors: list[BaseException] = []
    stop = threading.Event()

    def extend() -> None:
        current = base
        n = 0
        while not stop.is_set() and n < 4_000:
            n += 1
            event = ev("fact_recorded", source=f"x{n}", event_id=f"x{n}")
            current = apply(current, event).interaction

    def read() -> None:
        try:
            for _ in range(400):
                base.history.event_ids()
                base.history.sources()
                base.history.findings()
                list(base.history.entries())
                assert base.history.has_event_id("e3")
        except BaseException as error:
            errors.append(error)

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    try:
        writer = threading.Thread(target=extend)
        readers = [threading.Thread(target=read) for _ in range(2)]
        writer.start()
        for reader in readers:
            reader.start()
        for reader in readers:
            reader.join()
        stop.set()
        writer.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    assert len(base.history.event_ids()) == 40 and len(base.history.sources()) == 40


def test_json_numbers_in_outcomes_survive() -> None:
    # A sanity check that an applied event's JSON is unchanged by the checks above.
    event = ev("remedy_proposed", value=12.5)
    assert json.loads(dump_event(event))["value"] == 12.5


def test_assertions_refuse_events_out_of_time_order_instead_of_dropping_them() -> None:
    from deescalate.assertions import assert_clean

    start = opened()
    vented, empathy = events(["customer_vented", "empathy_expressed"])
    with pytest.raises(d_EventError, match="earlier than the previous") as error:
        assert_clean([start, empathy, vented])
    assert error.value.line == 3
    with pytest.raises(ArgumentTypeError, match=r"transcript\[1\]"):
        assert_clean([start, {"type": "customer_vented"}])  # type: ignore[list-item]
