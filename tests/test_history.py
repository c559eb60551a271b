"""The history log's compact forms: ids scanned while short and indexed once long, findings
stored only once some exist, sources made at the first fact. Every version must answer
as if it had its own copy, on both sides of the switch from short to long."""

from __future__ import annotations

import pytest

from build import TO_ACKNOWLEDGED, ev, opened, run
from deescalate import Interaction, Mode, Status, apply, open_interaction, replay
from deescalate._history import _SHORT


def grown(interaction: Interaction, count: int, prefix: str = "p") -> list[Interaction]:
    """Every version while applying ``count`` empathy events with ids ``prefix0``..."""
    versions = [interaction]
    for n in range(count):
        outcome = apply(versions[-1], ev("empathy_expressed", event_id=f"{prefix}{n}"))
        assert outcome.applied
        versions.append(outcome.interaction)
    return versions


@pytest.mark.parametrize("count", [_SHORT - 2, _SHORT, _SHORT + 1, 3 * _SHORT])
def test_each_version_sees_the_ids_of_its_own_past_only(count: int) -> None:
    versions = grown(open_interaction(opened(event_id="open")), count)
    for length, version in enumerate(versions, start=1):
        assert version.history.has_event_id("open")
        for n in range(count):
            assert version.history.has_event_id(f"p{n}") == (n < length - 1), (length, n)
        assert not version.history.has_event_id("never")


@pytest.mark.parametrize("count", [5, _SHORT + 5])
def test_a_redelivery_is_a_duplicate_before_and_after_the_log_grows_long(count: int) -> None:
    interaction = grown(open_interaction(opened()), count)[-1]
    for n in (0, count - 1):
        assert apply(interaction, ev("empathy_expressed", event_id=f"p{n}")).status is Status.DUPLICATE


@pytest.mark.parametrize("at", [3, _SHORT - 1, _SHORT + 4])
def test_a_branch_from_an_old_version_of_a_long_log_keeps_its_own_ids(at: int) -> None:
    versions = grown(open_interaction(opened()), 2 * _SHORT)
    branch = grown(versions[at], 3, prefix="b")[-1]
    assert branch.history._log is not versions[-1].history._log
    assert branch.history.has_event_id("b2")
    assert not versions[-1].history.has_event_id("b0")
    assert branch.history.has_event_id(f"p{at - 1}")
    assert not branch.history.has_event_id(f"p{at}")
    # Re-delivering a later event of the main line to the branch applies it there.
    assert apply(branch, ev("empathy_expressed", event_id=f"p{at}")).applied


def test_findings_are_kept_per_event_even_when_most_have_none() -> None:
    quiet = run(TO_ACKNOWLEDGED)
    assert quiet.findings == ()
    assert [f for _, f in quiet.history.entries()] == [()] * len(quiet.history)
    noisy = apply(quiet, ev("remedy_proposed"), mode=Mode.ADVISORY).interaction
    later = apply(noisy, ev("empathy_expressed")).interaction
    entries = list(later.history.entries())
    assert [bool(f) for _, f in entries] == [False] * len(quiet.history) + [True, False]
    assert later.findings == noisy.findings == entries[-2][1]
    assert quiet.findings == ()  # an older version does not see findings logged after it
    assert replay(later.history) == later


def test_sources_appear_at_the_first_fact() -> None:
    interaction = run(TO_ACKNOWLEDGED)
    assert interaction.fact_sources == ()
    assert not interaction.history.has_source("warehouse")
    after = apply(interaction, ev("fact_recorded", source="warehouse")).interaction
    assert after.fact_sources == ("warehouse",)
    assert after.history.has_source("warehouse")
    assert not interaction.history.has_source("warehouse")
    assert interaction.fact_sources == ()


@pytest.mark.parametrize("at", [1, 4, _SHORT, _SHORT + 1, _SHORT + 6])
def test_a_branch_answers_exactly_as_a_fresh_log_of_its_entries_would(at: int) -> None:
    from deescalate._history import History

    versions = [open_interaction(opened(event_id="open"))]
    for n in range(_SHORT + 8):
        kind = ("fact_recorded", {"source": f"s{n % 3}"}) if n % 4 == 0 else ("empathy_expressed", {})
        fields = {**kind[1], "event_id": f"m{n}" if n % 2 else None}
        versions.append(apply(versions[-1], ev(kind[0], **fields), mode=Mode.ADVISORY).interaction)
    main = versions[-1]
    base = versions[at - 1]  # an old version: applying to it branches
    branch = apply(base, ev("remedy_proposed", event_id="b"), mode=Mode.ADVISORY).interaction  # a finding
    fresh = History.of(branch.history.entries())
    assert branch.history._log is not main.history._log
    assert list(branch.history.entries()) == list(fresh.entries())
    assert branch.history.sources() == fresh.sources()
    assert branch.history.event_ids() == fresh.event_ids() == {f"m{n}" for n in range(at - 1) if n % 2} | {"open", "b"}
    assert branch.findings == fresh.findings()
