"""Snapshots cannot lie: what loads is exactly what the history produces, under the recorded policy."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from build import TO_AGREED, TO_FACTS, TO_REMEDY, ev, run
from deescalate import (
    APOLOGIZE_FIRST,
    FACTS_FIRST,
    ArgumentError,
    DeescalateError,
    Mode,
    RuleError,
    SnapshotError,
    apply,
    dump_snapshot,
    event_from_dict,
    load_snapshot,
    replay,
    rule,
    snapshot_from_dict,
    snapshot_to_dict,
)

FIXTURES = Path(__file__).parent / "fixtures"


def honest() -> Any:
    """An interaction at remedy_proposed with findings (advisory), a summary, facts and sources."""
    script = [
        ("customer_vented", {"event_id": "e1"}),
        ("remedy_proposed", {"value": 500}),  # talks over the customer: violations, recorded
        *TO_REMEDY,  # the customer vents again, and this time the agent gets it right
    ]
    interaction = run(script, customer_name="Lee")
    assert [type(e).__name__ for e in interaction.history][4:7] == ["VentingSubsided", "ConcernsAcknowledged",
                                                                    "FactRecorded"]
    return interaction


def refused(data: dict[str, Any]) -> SnapshotError:
    with pytest.raises(SnapshotError) as error:
        snapshot_from_dict(data)
    return error.value


# -- edits of the state -------------------------------------------------------------------

STATE_EDITS = [
    ("stage", "agreed"),
    ("stage", "followed_up"),
    ("wave_open", True),
    ("owner", "manager"),
    ("authority_limit", 10**9),
    ("authority_limit", 100.0001),
    ("rejections", 1),
    ("summary", ["something else"]),
    ("summary", None),
    ("facts", {"fault": "customer", "root_cause": "missed pick-up"}),
    ("facts", None),
    ("fact_source_count", 1),
    ("pending_remedy", None),
    ("pending_remedy", {"description": "free express reshipment", "value": 1}),
    ("agreed_remedy", {"description": "free express reshipment", "value": 20}),
    ("apologized", True),
    ("progress_reported", True),
    ("manager_requested", True),
    ("abuse_observed", True),
    ("abuse_warnings", 3),
    ("customer_name", "Someone"),
    ("interaction_id", "T-2"),
    ("apologized", 0),  # false, but not the JSON false
]


@pytest.mark.parametrize(("name", "value"), STATE_EDITS, ids=[f"{n}={v!r}" for n, v in STATE_EDITS])
def test_an_edited_state_is_refused_naming_the_field(name: str, value: Any) -> None:
    data = snapshot_to_dict(honest())
    data["interaction"][name] = value
    error = refused(data)
    assert error.path == f"interaction.{name}"
    assert "the history gives" in error.reason


def test_a_forged_authority_limit_cannot_open_the_guard() -> None:
    interaction = run([*TO_FACTS], authority_limit=50)
    refund = ev("remedy_proposed", remedy="refund", value=5_000_000)
    assert apply(interaction, refund, mode=Mode.STRICT).refused  # the honest interaction refuses it
    data = snapshot_to_dict(interaction)
    data["interaction"]["authority_limit"] = 10**9
    with pytest.raises(SnapshotError, match="authority_limit"):
        snapshot_from_dict(data)
    # Forging the opening event instead changes the history: its recorded findings no
    # longer agree, or (with a signature) the signature does not.
    signed = snapshot_to_dict(interaction, key=b"k")
    signed["history"][0]["event"]["authority_limit"] = 10**9
    with pytest.raises(SnapshotError, match="signature"):
        snapshot_from_dict(signed, key=b"k")


# -- edits of the history -----------------------------------------------------------------


def test_a_dropped_entry_is_refused() -> None:
    data = snapshot_to_dict(honest())
    del data["history"][4]  # venting_subsided: the acknowledgement then talks over the customer
    assert refused(data).path == "history[4].findings"


def test_reordered_entries_are_refused() -> None:
    data = snapshot_to_dict(honest())
    history = data["history"]
    history[6], history[7] = history[7], history[6]  # two facts, heard in the other order
    error = refused(data)
    assert error.path == "history[7].event.at"
    assert "time order" in error.reason


def test_an_entry_impossible_where_it_stands_is_refused() -> None:
    data = snapshot_to_dict(honest())
    accepted = {"type": "remedy_accepted", "at": data["history"][1]["event"]["at"], "restated": True,
                "confirmation_sent": True}
    data["history"].insert(2, {"event": accepted, "findings": []})
    error = refused(data)
    assert error.path == "history[2].event.type"
    assert "impossible where it stands" in error.reason


def test_a_repeated_entry_is_refused() -> None:
    data = snapshot_to_dict(honest())
    data["history"].insert(2, copy.deepcopy(data["history"][1]))
    error = refused(data)
    assert error.path == "history[2].event.event_id"


@pytest.mark.parametrize(
    "change",
    [
        lambda findings: findings.clear(),
        lambda findings: findings.append({"rule": "use-their-name", "severity": "warning", "message": "x"}),
        lambda findings: findings[0].update(message="all fine"),
        lambda findings: findings[0].update(severity="warning"),
        lambda findings: findings[0].update(extra=1),
        lambda findings: findings.reverse(),
    ],
)
def test_edited_findings_are_refused(change: Any) -> None:
    data = snapshot_to_dict(honest())
    change(data["history"][2]["findings"])
    error = refused(data)
    assert error.path == "history[2].findings"
    assert "let-them-vent (violation)" in error.reason


def test_findings_added_to_a_clean_event_are_refused() -> None:
    data = snapshot_to_dict(honest())
    data["history"][1]["findings"] = [{"rule": "let-them-vent", "severity": "violation", "message": "x"}]
    assert refused(data).path == "history[1].findings"


def test_the_state_is_checked_after_the_history() -> None:
    # Dropping the last entry leaves a consistent history that the state no longer matches.
    data = snapshot_to_dict(honest())
    data["history"].pop()
    assert refused(data).path == "interaction.stage"


# -- the policy ---------------------------------------------------------------------------


def test_the_snapshot_records_its_policy_and_loads_under_it() -> None:
    interaction = run(["customer_vented", "venting_subsided", "concerns_acknowledged"], APOLOGIZE_FIRST)
    data = snapshot_to_dict(interaction, APOLOGIZE_FIRST)
    assert data["policy"]["name"] == "apologize-first"
    assert data["policy"]["params"]["authority_limit"] == 100
    assert snapshot_from_dict(copy.deepcopy(data)) == interaction  # a built-in policy is found by name
    assert snapshot_from_dict(copy.deepcopy(data), APOLOGIZE_FIRST) == interaction
    assert snapshot_from_dict(copy.deepcopy(data), "apologize-first") == interaction


def test_loading_under_another_policy_is_refused() -> None:
    text = dump_snapshot(honest(), FACTS_FIRST)
    with pytest.raises(SnapshotError, match="saved under policy 'facts-first', not 'apologize-first'") as error:
        load_snapshot(text, APOLOGIZE_FIRST)
    assert error.value.path == "policy.name"


def test_loading_under_the_same_name_with_other_params_is_refused() -> None:
    text = dump_snapshot(honest())
    with pytest.raises(SnapshotError, match="when saved") as error:
        load_snapshot(text, FACTS_FIRST.with_params(authority_limit=10**6))
    assert error.value.path == "policy.params.authority_limit"


def test_loading_under_the_same_name_with_other_rules_is_refused() -> None:
    text = dump_snapshot(honest())
    with pytest.raises(SnapshotError) as error:
        load_snapshot(text, FACTS_FIRST.without("within-authority"))
    assert error.value.path == "history[2].findings"


def test_a_custom_policy_must_be_passed() -> None:
    acme = FACTS_FIRST.named("acme").with_params(max_rejections=3)
    interaction = run(TO_AGREED, acme)
    text = dump_snapshot(interaction, acme)
    with pytest.raises(SnapshotError, match="not a built-in policy") as error:
        load_snapshot(text)
    assert error.value.path == "policy.name"
    assert load_snapshot(text, acme) == interaction


def test_a_forged_policy_record_is_refused() -> None:
    data = snapshot_to_dict(honest())
    data["policy"]["params"]["authority_limit"] = 10**9
    assert refused(copy.deepcopy(data)).path == "policy.params.authority_limit"
    data["policy"] = {"name": "facts-first", "params": {"spin": 1}}
    assert refused(copy.deepcopy(data)).path == "policy.params.spin"
    data["policy"] = "facts-first"
    assert refused(data).path == "policy"


def test_a_rule_that_crashes_while_loading_is_named_with_its_position() -> None:
    @rule("brittle", severity="warning", on="remedy_proposed", message="x")
    def brittle(interaction: Any, event: Any, params: Any) -> bool:
        raise ZeroDivisionError("boom")

    policy = FACTS_FIRST.named("brittle")
    data = snapshot_to_dict(run(["customer_vented", "venting_subsided"], policy), policy)
    data["history"].append({"event": {"type": "remedy_proposed", "at": "2099-01-01T00:00:00Z",
                                      "remedy": "refund"}, "findings": []})
    with pytest.raises(RuleError) as error:
        snapshot_from_dict(data, policy.with_rules(brittle))
    assert (error.value.rule, error.value.index) == ("brittle", 3)


# -- signing ------------------------------------------------------------------------------


def test_a_signed_snapshot_loads_with_its_key() -> None:
    interaction = honest()
    text = dump_snapshot(interaction, key=b"secret")
    assert json.loads(text)["signature"].startswith("hmac-sha256:")
    assert load_snapshot(text, key=b"secret") == interaction
    assert load_snapshot(text, key="secret") == interaction  # text keys are UTF-8


def test_a_signed_snapshot_survives_reformatting_and_key_order() -> None:
    interaction = honest()
    data = json.loads(dump_snapshot(interaction, key=b"k"))
    reordered = json.dumps(dict(reversed(list(data.items()))), indent=2, sort_keys=False)
    assert load_snapshot(reordered, key=b"k") == interaction


@pytest.mark.parametrize(
    "edit",
    [
        lambda data: data["history"].pop(),  # consistent, undetectable without a signature
        lambda data: data["history"][6]["event"].update(detail="reworded"),
        lambda data: data["history"][1]["event"].update(intensity=3),
        lambda data: data["interaction"].update(owner="boss"),
        lambda data: data.update(extra="key"),
    ],
)
def test_any_edit_of_a_signed_snapshot_is_refused(edit: Any) -> None:
    data = snapshot_to_dict(honest(), key=b"k")
    edit(data)
    with pytest.raises(SnapshotError, match="does not match") as error:
        snapshot_from_dict(data, key=b"k")
    assert error.value.path == "signature"


def test_keys_must_agree() -> None:
    signed = dump_snapshot(honest(), key=b"k")
    unsigned = dump_snapshot(honest())
    with pytest.raises(SnapshotError, match="does not match"):
        load_snapshot(signed, key=b"other")
    with pytest.raises(SnapshotError, match="pass its key"):
        load_snapshot(signed)
    with pytest.raises(SnapshotError, match="is missing"):
        load_snapshot(unsigned, key=b"k")
    for bad in (b"", ""):
        with pytest.raises(ArgumentError, match="empty"):
            dump_snapshot(honest(), key=bad)
    with pytest.raises(TypeError):
        load_snapshot(signed, key=42)  # type: ignore[arg-type]


# -- version 1 ----------------------------------------------------------------------------


def test_a_version_1_snapshot_still_loads_and_is_rewritten_as_version_3() -> None:
    text = (FIXTURES / "snapshot-v1-facts-first.json").read_text(encoding="utf-8")
    assert json.loads(text)["version"] == 1
    interaction = load_snapshot(text)  # version 1 named no policy: the default one
    assert interaction.stage.value == "agreed" and interaction.customer_name == "Lee"
    assert [f.rule for f in interaction.findings] == ["use-their-name", "confirm-in-writing"]
    assert replay(interaction.history) == interaction
    again = json.loads(dump_snapshot(interaction))
    assert again["version"] == 3 and again["policy"]["name"] == "facts-first"
    assert load_snapshot(json.dumps(again)) == interaction


def test_a_version_1_snapshot_loads_under_the_policy_passed_and_no_other() -> None:
    text = (FIXTURES / "snapshot-v1-apologize-first.json").read_text(encoding="utf-8")
    interaction = load_snapshot(text, APOLOGIZE_FIRST)
    assert interaction.owner == "supervisor" and interaction.authority_limit == 200
    with pytest.raises(SnapshotError, match="are not what policy 'facts-first' gives"):
        load_snapshot(text)


def test_an_edited_version_1_snapshot_is_refused_too() -> None:
    data = json.loads((FIXTURES / "snapshot-v1-facts-first.json").read_text(encoding="utf-8"))
    data["interaction"]["authority_limit"] = 10**9
    assert refused(data).path == "interaction.authority_limit"


# -- arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, 42, ["x"], {"format": 1}])
def test_load_snapshot_takes_text_only(value: Any) -> None:
    with pytest.raises(ArgumentError) as error:
        load_snapshot(value)
    assert isinstance(error.value, TypeError) and isinstance(error.value, DeescalateError)


def test_dumping_needs_an_interaction_and_a_policy() -> None:
    with pytest.raises(TypeError):
        dump_snapshot(None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        dump_snapshot(honest(), 42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown policy"):
        dump_snapshot(honest(), "strict")


def test_deeply_nested_text_is_refused_as_a_snapshot_error() -> None:
    with pytest.raises(SnapshotError, match="nested too deeply"):
        load_snapshot("[" * 100_000 + "]" * 100_000)


# -- the property -------------------------------------------------------------------------

_JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 10**9),
    st.sampled_from([0.5, 100.0, 10**400, -1, 1e308]),
    st.sampled_from(["", "agent", "agreed", "venting", "facts-first", "2026-03-02T09:00:00Z",
                     "2026-03-02T08:00:00+00:00", "company", "let-them-vent", "violation", "\ud800"]),
    st.text(max_size=5),
)
_JSON = st.recursive(
    _JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["type", "at", "rule", "x"]),
                                                                inner, max_size=3),
    max_leaves=6,
)


def _places(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a JSON value (dict keys and list positions)."""
    out = [path]
    if isinstance(value, dict):
        for name, item in value.items():
            out += _places(item, (*path, name))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            out += _places(item, (*path, position))
    return out


def _holder(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated_snapshots(draw: st.DrawFn) -> dict[str, Any]:
    data = snapshot_to_dict(honest())
    for _ in range(draw(st.integers(1, 3))):
        places = [p for p in _places(data) if p]
        path = draw(st.sampled_from(places))
        holder, last = _holder(data, path), path[-1]
        how = draw(st.sampled_from(["replace", "delete", "swap", "duplicate", "insert"]))
        if how == "replace":
            holder[last] = draw(_JSON | st.sampled_from([copy.deepcopy(holder[last])]))
        elif how == "delete":
            del holder[last]
        elif isinstance(holder, list) and how in ("swap", "duplicate", "insert") and holder:
            other = draw(st.integers(0, len(holder) - 1))
            if how == "swap":
                holder[last], holder[other] = holder[other], holder[last]
            elif how == "duplicate":
                holder.insert(other, copy.deepcopy(holder[last]))
            else:
                holder.insert(other, draw(_JSON))
        else:
            holder[last] = draw(_JSON)
    return data


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_snapshots())
def test_every_mutation_loads_to_what_its_history_produces_or_is_refused(data: dict[str, Any]) -> None:
    original = copy.deepcopy(data)
    try:
        loaded = snapshot_from_dict(data)
    except SnapshotError:
        return
    assert data == original  # loading never changes its input
    events = [event_from_dict(entry["event"]) for entry in data["history"]]
    assert loaded == replay(events, FACTS_FIRST)
    written = snapshot_to_dict(loaded)
    for name, value in written["interaction"].items():
        assert data["interaction"][name] == value
    assert [entry["findings"] for entry in written["history"]] == [entry["findings"] for entry in data["history"]]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=40), st.integers(0, 3000))
def test_corrupted_text_loads_exactly_or_is_refused(garbage: bytes, cut: int) -> None:
    text = dump_snapshot(honest()).encode()
    broken = text[:cut] + garbage + text[cut + len(garbage):]
    try:
        loaded = load_snapshot(broken)
    except SnapshotError:
        return
    assert loaded == replay(loaded.history, FACTS_FIRST)
