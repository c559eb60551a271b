"""The store's contract, on SQLite and on PostgreSQL: deliveries, their fates, the journal,
policies, queries, ingesting, the schema, and hostile arguments."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deescalate import (
    APOLOGIZE_FIRST,
    FACTS_FIRST,
    ArgumentTypeError,
    ArgumentValueError,
    CustomerVented,
    DeescalateError,
    InteractionOpened,
    Mode,
    ObligationKind,
    PolicyError,
    Stage,
    apply,
    open_interaction,
    parse_event,
    replay,
)
from deescalate.store import Fate, Store, StoreError, UnknownInteraction, _schema
from deescalate.testing import START, openings, transcripts
from store_support import check_consistent
from store_tap import tap

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
FOLLOW_THROUGH = (EXAMPLES / "follow-through.jsonl").read_text().splitlines()
VIOLATIONS = (EXAMPLES / "violations.jsonl").read_text().splitlines()
T0 = datetime(2026, 4, 6, 10, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves: the store's ``received_at``."""

    def __init__(self, start: datetime = datetime(2026, 4, 6, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def opening(interaction_id: str = "T-1", at: datetime = T0, **fields: object) -> InteractionOpened:
    return InteractionOpened(at=at, interaction_id=interaction_id, event_id="open", **fields)  # type: ignore[arg-type]


def vent(minutes: float, event_id: str | None = None, intensity: int = 6) -> CustomerVented:
    return CustomerVented(at=T0 + timedelta(minutes=minutes), event_id=event_id, intensity=intensity)


# -- delivering -----------------------------------------------------------------------------------


def test_a_transcript_delivered_line_by_line_is_the_interaction_replay_gives(store_url: str) -> None:
    with Store(store_url) as store:
        fates = [store.deliver("T-2040", line).fate for line in FOLLOW_THROUGH]
        assert fates == [Fate.APPLIED] * len(FOLLOW_THROUGH)
        events = [parse_event(line) for line in FOLLOW_THROUGH]
        interaction = store.get("T-2040")
        assert interaction == replay(events, FACTS_FIRST)
        assert list(interaction.history) == events
        assert store.events("T-2040") == tuple(events)
        row = store.interaction("T-2040")
        assert (row.stage, row.owner, row.version, row.policy) == (Stage.AGREED, "agent", 11, "facts-first")
        assert row.customer_name == "Ines"
        assert row.opened_at == T0 and row.last_at == events[-1].at
    # Another store (another worker, a restart) sees the same, rebuilt from the log.
    with Store(store_url) as other:
        assert other.get("T-2040") == replay(events, FACTS_FIRST)
    assert check_consistent(store_url) == {"interactions": 1, "events": 11, "deliveries": 11}


def test_every_fate_is_journaled_with_what_arrived(store_url: str) -> None:
    clock = Clock()
    with Store(store_url, clock=clock) as store:
        opened = store.deliver("T-1", opening(customer_name="Ana"))
        assert opened.applied and opened.record.position == 0 and opened.interaction is not None
        assert store.deliver("T-1", vent(1, "v1")).fate is Fate.APPLIED
        clock.now += timedelta(seconds=5)
        duplicate = store.deliver("T-1", vent(2, "v1"))
        assert duplicate.fate is Fate.DUPLICATE and duplicate.outcome is not None
        late = store.deliver("T-1", vent(0.5, "v0"))
        assert late.fate is Fate.LATE
        # Accepting a remedy while the customer vents: none was offered, not possible here.
        accepted = {
            "type": "remedy_accepted",
            "at": "2026-04-06T10:03:00Z",
            "restated": True,
            "confirmation_sent": True,
        }
        invalid = store.deliver("T-1", accepted)
        assert invalid.fate is Fate.INVALID and invalid.findings[0].rule == "invalid-transition"
        assert invalid.record.error == invalid.findings[0].message
        # Strict mode (the store's default) refuses an apology for the company before the facts.
        apology = {
            "type": "apology_offered",
            "at": "2026-04-06T10:04:00Z",
            "scope": "company",
            "names_individual": False,
        }
        store.deliver("T-1", {"type": "venting_subsided", "at": "2026-04-06T10:03:30Z"})
        ack = {
            "type": "concerns_acknowledged",
            "at": "2026-04-06T10:03:40Z",
            "summary": ["late parcel"],
            "used_name": True,
        }
        assert store.deliver("T-1", ack).applied
        refused = store.deliver("T-1", apology)
        assert refused.fate is Fate.REFUSED and refused.outcome is not None and refused.outcome.violations
        bad_json = store.deliver("T-1", b'{"type": "customer_vented", "at": ')
        assert bad_json.fate is Fate.BAD_INPUT and bad_json.outcome is None
        assert bad_json.record.payload == '{"type": "customer_vented", "at": '
        assert "JSON" in (bad_json.record.error or "")
        unknown = store.deliver("T-1", {"type": "customer_sang", "at": "2026-04-06T10:05:00Z", "extra": [1]})
        assert unknown.fate is Fate.BAD_INPUT
        assert json.loads(unknown.record.payload) == {
            "type": "customer_sang",
            "at": "2026-04-06T10:05:00Z",
            "extra": [1],
        }
        not_utf8 = store.deliver("T-1", b"\xff\xfe{}")
        assert not_utf8.fate is Fate.BAD_INPUT and "UTF-8" in (not_utf8.record.error or "")
        other = store.deliver("T-1", opening("T-2"))
        assert other.fate is Fate.BAD_INPUT and "T-2" in (other.record.error or "")
        unopened = store.deliver("T-9", vent(1))
        assert unopened.fate is Fate.INVALID and unopened.outcome is None
        assert "not open" in (unopened.record.error or "")

        journal = store.deliveries()
        assert [record.fate for record in journal] == [
            Fate.APPLIED,
            Fate.APPLIED,
            Fate.DUPLICATE,
            Fate.LATE,
            Fate.INVALID,
            Fate.APPLIED,
            Fate.APPLIED,
            Fate.REFUSED,
            Fate.BAD_INPUT,
            Fate.BAD_INPUT,
            Fate.BAD_INPUT,
            Fate.BAD_INPUT,
            Fate.INVALID,
        ]
        assert [record.delivery_id for record in journal] == sorted(r.delivery_id for r in journal)
        assert journal[7].findings == refused.findings and journal[7].mode is Mode.STRICT
        assert journal[2].received_at == clock.now and journal[0].received_at == clock.now - timedelta(
            seconds=5
        )
        assert store.deliveries(fate="bad_input")[0].payload == bad_json.record.payload
        assert len(store.deliveries(interaction_id="T-9")) == 1
        # Refusals are kept for coaching, with who had the interaction.
        kept = store.findings(fate=Fate.REFUSED)
        assert [item.finding for item in kept] == list(refused.findings)
        assert {item.owner for item in kept} == {"agent"} and kept[0].position is None
        assert store.get("T-1").stage is Stage.ACKNOWLEDGED
        assert store.get("T-1").history.has_event_id("v1")
    check_consistent(store_url)


def test_strict_and_advisory_stores(store_url: str) -> None:
    events = [parse_event(line) for line in VIOLATIONS]
    interaction_id = events[0].interaction_id  # type: ignore[attr-defined]
    with Store(store_url, mode="advisory") as store:
        for event in events:
            store.deliver(interaction_id, event)
        expected = replay(events, FACTS_FIRST)
        assert expected.findings
        assert store.get(interaction_id).findings == expected.findings
        assert len(store.findings(fate="applied")) == len(expected.findings)
        # A delivery may ask for another mode than the store's.
        late_comer = store.deliver(interaction_id, events[-1], mode=Mode.STRICT)
        assert late_comer.record.mode is Mode.STRICT
    with Store(store_url) as strict:
        assert strict.get(interaction_id).findings == expected.findings


# -- policies -------------------------------------------------------------------------------------


def test_an_interaction_keeps_the_policy_it_was_opened_under(store_url: str) -> None:
    with Store(store_url, policy="apologize-first") as store:
        store.deliver("T-1", opening())
        assert store.policy_of("T-1") is APOLOGIZE_FIRST
        assert store.interaction("T-1").policy == "apologize-first"
        assert store.deliver("T-1", vent(1), policy="apologize-first").applied
        before = len(store.deliveries())
        with pytest.raises(PolicyError, match="opened under policy 'apologize-first'"):
            store.deliver("T-1", vent(2), policy="facts-first")
        assert len(store.deliveries()) == before  # refused before anything was written
        store.deliver("T-2", opening("T-2"), policy=FACTS_FIRST)
        assert store.policy_of("T-2") is FACTS_FIRST
    with Store(store_url) as default_store:  # the default policy does not matter once opened
        assert default_store.policy_of("T-1") is APOLOGIZE_FIRST


def test_custom_policies_come_from_the_callers_registry(store_url: str) -> None:
    acme = FACTS_FIRST.named("acme").with_params(max_rejections=3)
    with Store(store_url, policies=[acme], policy="acme") as store:
        store.deliver("T-1", opening())
        assert store.policy_of("T-1") is acme
        assert "acme" in store.policies and "facts-first" in store.policies
    with Store(store_url) as without, pytest.raises(PolicyError, match="registry lacks"):
        without.get("T-1")
    changed = acme.with_params(max_rejections=5)
    with (
        Store(store_url, policies={"acme": changed}) as store,
        pytest.raises(PolicyError, match="has changed since"),
    ):
        store.deliver("T-1", vent(1))
    with pytest.raises(PolicyError, match="not in this store's registry"):
        Store(store_url).deliver("T-3", opening("T-3"), policy=FACTS_FIRST.named("other"))
    with pytest.raises(PolicyError, match="no policy 'nope'"):
        Store(store_url, policy="nope")


# -- obligations: the scheduler's question --------------------------------------------------------


def test_due_reads_the_obligations_across_interactions(store_url: str) -> None:
    with Store(store_url) as store:
        for line in FOLLOW_THROUGH:
            store.deliver("T-2040", line)
        store.deliver("T-1", opening())
        interaction = store.get("T-2040")
        from deescalate import open_obligations

        owed = open_obligations(interaction, FACTS_FIRST)
        assert store.interaction("T-2040").next_due == owed[0].due
        assert store.interaction("T-1").next_due is None
        assert store.due(owed[0].due - timedelta(seconds=1)) == []
        at_first = store.due(owed[0].due)
        assert [(item.interaction_id, item.obligation, item.overdue) for item in at_first] == [
            ("T-2040", owed[0], False)
        ]
        everything = store.due(datetime(2027, 1, 1, tzinfo=UTC))
        assert [item.obligation for item in everything] == list(owed)
        assert all(item.overdue and item.owner == "agent" for item in everything)
        assert {item.obligation.kind for item in everything} >= {ObligationKind.CALLBACK}
        assert store.due(datetime(2027, 1, 1, tzinfo=UTC), limit=1) == everything[:1]
        # Contact keeps the callback promise: its obligation leaves the index.
        report = {"type": "progress_reported", "at": "2026-04-06T11:00:00Z", "detail": "slot confirmed"}
        assert store.deliver("T-2040", report).applied
        kinds = {item.obligation.kind for item in store.due(datetime(2027, 1, 1, tzinfo=UTC))}
        assert ObligationKind.CALLBACK not in kinds
        assert store.due(datetime(2027, 1, 1, tzinfo=UTC)) == [
            item
            for item in store.due(datetime(2027, 1, 1, tzinfo=UTC))
            if item.obligation in open_obligations(store.get("T-2040"), FACTS_FIRST)
        ]
        with pytest.raises(ArgumentValueError, match="UTC offset"):
            store.due(datetime(2027, 1, 1))


# -- queries --------------------------------------------------------------------------------------


def test_listing_and_time_ranges(store_url: str) -> None:
    clock = Clock()
    with Store(store_url, clock=clock, mode="advisory") as store:
        for line in FOLLOW_THROUGH:
            store.deliver("T-2040", line)
        clock.now += timedelta(hours=1)
        for line in VIOLATIONS:
            store.deliver(json.loads(VIOLATIONS[0])["interaction_id"], line)
        store.deliver("T-3", opening("T-3"))
        assert [row.interaction_id for row in store.interactions()] == sorted(
            ["T-2040", json.loads(VIOLATIONS[0])["interaction_id"], "T-3"]
        )
        assert [row.interaction_id for row in store.interactions(stage="venting")] == ["T-3"]
        assert [row.interaction_id for row in store.interactions(stage=Stage.AGREED)] == ["T-2040"]
        assert store.interactions(owner="nobody") == []
        assert len(store.interactions(limit=2)) == 2
        page = store.interactions(limit=2)
        assert page + store.interactions(after=page[-1].interaction_id) == store.interactions()
        journal = store.deliveries()
        first = store.deliveries(limit=5)
        assert first + store.deliveries(after=first[-1].delivery_id) == journal
        assert store.interactions(policy="apologize-first") == []
        first_hour = store.deliveries(until=datetime(2026, 4, 6, 13, 0, tzinfo=UTC))
        assert len(first_hour) == len(FOLLOW_THROUGH)
        later = store.deliveries(since=datetime(2026, 4, 6, 13, 0, tzinfo=UTC))
        assert len(later) == len(VIOLATIONS) + 1
        every = store.findings()
        assert every == sorted(every, key=lambda item: (item.at, item.delivery_id))
        split = every[len(every) // 2].at
        assert store.findings(until=split) + store.findings(since=split) == every
        assert {item.finding.rule for item in store.findings(rule=every[0].finding.rule)} == {
            every[0].finding.rule
        }
        assert store.findings(interaction_id="T-2040") == []
        with pytest.raises(ArgumentValueError):
            store.interactions(stage="furious")
        with pytest.raises(ArgumentValueError):
            store.deliveries(fate="lost")
        with pytest.raises(UnknownInteraction, match="T-404"):
            store.get("T-404")
        with pytest.raises(LookupError):
            store.interaction("T-404")


def test_workers_catch_up_from_the_log(store_url: str) -> None:
    """Two stores on one database take turns: each catches up with what the other applied."""
    events = [parse_event(line) for line in FOLLOW_THROUGH]
    with Store(store_url) as one, Store(store_url) as two:
        for index, event in enumerate(events):
            worker = one if index % 2 == 0 else two
            assert worker.deliver("T-2040", event).applied
        assert one.get("T-2040") == two.get("T-2040") == replay(events, FACTS_FIRST)
        # A duplicate is caught whichever worker receives it.
        assert one.deliver("T-2040", events[-1]).fate is Fate.DUPLICATE
        assert two.deliver("T-2040", events[1]).fate is Fate.DUPLICATE


def test_a_log_changed_behind_the_stores_back_is_refused(store_url: str) -> None:
    with Store(store_url) as store:
        for line in FOLLOW_THROUGH[:5]:
            store.deliver("T-2040", line)
        with store.engine.begin() as connection:
            connection.execute(
                _schema.events.update()
                .where(_schema.events.c.position == 2)
                .values(event=FOLLOW_THROUGH[8])  # a remedy, where venting subsided
            )
    with Store(store_url) as fresh, pytest.raises(StoreError, match="does not replay"):
        fresh.get("T-2040")


# -- ingesting whole transcripts ------------------------------------------------------------------


def test_ingest_is_idempotent_and_resumes(store_url: str) -> None:
    events = [parse_event(line) for line in FOLLOW_THROUGH]
    with Store(store_url) as store:
        first = store.ingest(events[:6])
        assert [d.fate for d in first] == [Fate.APPLIED] * 6
        assert store.ingest(events[:6]) == []
        assert store.ingest(events[:3]) == []  # what the store has already
        grown = store.ingest(events)
        assert [d.record.position for d in grown] == list(range(6, 11))
        assert store.ingest(events) == []
        journal = len(store.deliveries())
        changed = [*events[:4], attrs.evolve(events[4], detail="another story")]
        with pytest.raises(StoreError, match="differs from the store's journal at event #4"):
            store.ingest(changed)
        assert len(store.deliveries()) == journal
        assert store.get("T-2040") == replay(events, FACTS_FIRST)
        with pytest.raises(DeescalateError, match="starts with interaction_opened"):
            store.ingest(events[1:])
        assert store.ingest([]) == []


def test_a_delivery_is_all_or_nothing(store_url: str) -> None:
    """A failure after the event row was written leaves neither it nor its journal entry."""
    with Store(store_url) as store:
        for line in FOLLOW_THROUGH[:4]:
            store.deliver("T-2040", line)

        def die_after_the_event_row(statement: str, cursor: object) -> None:
            if statement.startswith("INSERT INTO deescalate_events"):
                raise RuntimeError("the process died here")

        untap = tap(store, die_after_the_event_row)
        with pytest.raises(RuntimeError):
            store.deliver("T-2040", FOLLOW_THROUGH[4])
        untap()
        assert len(store.deliveries()) == 4
        assert store.get("T-2040") == replay([parse_event(line) for line in FOLLOW_THROUGH[:4]], FACTS_FIRST)
        assert store.deliver("T-2040", FOLLOW_THROUGH[4]).applied
    check_consistent(store_url)


def test_an_in_memory_store_keeps_its_database_through_a_failed_delivery() -> None:
    """Its database lives in its one connection: a failed delivery rolls back, and the
    connection (with everything delivered before) is kept, never swapped for an empty one."""
    with Store() as store:
        for line in FOLLOW_THROUGH[:4]:
            store.deliver("T-2040", line)

        def fail(statement: str, cursor: object) -> None:
            if statement.startswith("INSERT INTO deescalate_events"):
                raise sa.exc.OperationalError(statement, None, Exception("disk I/O error"))

        untap = tap(store, fail)
        with pytest.raises(StoreError, match="cannot deliver to 'T-2040'"):
            store.deliver("T-2040", FOLLOW_THROUGH[4])
        untap()
        assert len(store.deliveries()) == 4
        assert store.deliver("T-2040", FOLLOW_THROUGH[4]).applied
        assert len(store.get("T-2040").history) == 5


def test_a_connection_lost_mid_delivery_is_dropped_and_the_next_delivery_gets_a_new_one(
    store_url: str,
) -> None:
    """A database that goes away mid-delivery (a restart, a dropped socket) fails that
    delivery whole; the pool discards the connection instead of handing it out again."""
    with Store(store_url) as store:
        for line in FOLLOW_THROUGH[:4]:
            store.deliver("T-2040", line)
        lost: list[object] = []

        def drop_the_connection(statement: str, cursor: Any) -> None:
            if statement.startswith("INSERT INTO deescalate_deliveries") and not lost:
                lost.append(cursor.connection)
                cursor.connection.close()

        untap = tap(store, drop_the_connection)
        with pytest.raises(StoreError, match="cannot deliver to 'T-2040'"):
            store.deliver("T-2040", FOLLOW_THROUGH[4])
        assert store.deliver("T-2040", FOLLOW_THROUGH[4]).applied
        untap()
        assert len(lost) == 1
        assert [record.fate for record in store.deliveries()] == [Fate.APPLIED] * 5
        assert store.get("T-2040") == replay([parse_event(line) for line in FOLLOW_THROUGH[:5]], FACTS_FIRST)
    check_consistent(store_url)


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
def test_times_are_converted_as_sqlalchemy_converts_them_however_often_they_recur(dialect_name: str) -> None:
    """The store remembers the times it converted last (a delivery writes one time into
    several columns): what it hands the driver is SQLAlchemy's own conversion, also for a
    time remembered from an equal instant given at another offset."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = sqlite.dialect() if dialect_name == "sqlite" else postgresql.dialect()
    remembered = _schema.UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
    plain = sa.DateTime(timezone=True).dialect_impl(dialect).bind_processor(dialect) or (lambda value: value)
    assert remembered is not None

    def sqlalchemys(moment: datetime) -> object:
        in_utc = moment.astimezone(UTC)
        return plain(in_utc.replace(tzinfo=None) if dialect_name == "sqlite" else in_utc)

    @given(
        st.lists(
            st.datetimes(timezones=st.timezones(), min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31)),
            min_size=1,
            max_size=600,
        ),
        st.integers(-14 * 60, 14 * 60),
    )
    @settings(max_examples=60, deadline=None)
    def same(moments: list[datetime], minutes: int) -> None:
        for moment in moments:
            elsewhere = moment.astimezone(timezone(timedelta(minutes=minutes)))
            assert remembered(moment) == remembered(elsewhere) == remembered(moment) == sqlalchemys(moment)

    same()
    assert remembered(None) is None


# -- the schema -----------------------------------------------------------------------------------


def test_the_schema_is_created_once_and_versioned(store_url: str) -> None:
    with Store(store_url) as store:
        assert store.schema_version == _schema.SCHEMA_VERSION
        with store.engine.connect() as connection:
            assert connection.execute(sa.select(_schema.schema.c.version)).scalar_one() == 1
        store.deliver("T-1", opening())
    with Store(store_url) as again:  # opening it again creates nothing and loses nothing
        assert again.get("T-1").stage is Stage.VENTING


def test_an_older_schema_is_migrated_and_a_newer_one_refused(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store(store_url) as store:
        store.deliver("T-1", opening())

    def add_notes(connection: sa.Connection) -> None:
        connection.execute(sa.text("ALTER TABLE deescalate_interactions ADD COLUMN notes TEXT"))

    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 2)
    monkeypatch.setattr(_schema, "MIGRATIONS", {1: add_notes})
    with Store(store_url) as upgraded:
        assert upgraded.schema_version == 2
        assert upgraded.get("T-1").stage is Stage.VENTING
        with upgraded.engine.connect() as connection:
            columns = {c["name"] for c in sa.inspect(connection).get_columns("deescalate_interactions")}
            assert "notes" in columns
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", 1)
    with pytest.raises(StoreError, match="schema version 2, newer than this library reads"):
        Store(store_url)


# -- hostile arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [None, 42, b"T-1", ["T-1"], ""])
def test_a_bad_interaction_id_raises(bad: object) -> None:
    store = Store()
    with pytest.raises(ArgumentTypeError if bad != "" else ArgumentValueError):
        store.deliver(bad, opening())  # type: ignore[arg-type]
    assert store.deliveries() == []


@pytest.mark.parametrize("bad", [None, 42, 4.5, ["a"], ("x",), object()])
def test_a_payload_of_no_kind_a_helpdesk_sends_raises(bad: object) -> None:
    store = Store()
    with pytest.raises(ArgumentTypeError, match="must be an Event, a JSON object"):
        store.deliver("T-1", bad)  # type: ignore[arg-type]
    assert store.deliveries() == []


@pytest.mark.parametrize("mode", ["STRICT", "guard", None, 1, True])
def test_a_mode_typo_never_runs_advisory(mode: object) -> None:
    with pytest.raises(ArgumentValueError if isinstance(mode, str) else ArgumentTypeError):
        Store(mode=mode)  # type: ignore[arg-type]
    store = Store()
    if mode is not None:
        with pytest.raises(ArgumentValueError if isinstance(mode, str) else ArgumentTypeError):
            store.deliver("T-1", opening(), mode=mode)  # type: ignore[arg-type]
    assert store.deliveries() == []


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        ({"url": 42}, ArgumentTypeError, "database URL"),
        ({"url": "not a url"}, ArgumentValueError, "not a database URL"),
        ({"url": "mysql://localhost/db"}, ArgumentValueError, "SQLite or PostgreSQL"),
        ({"policies": FACTS_FIRST}, ArgumentTypeError, "must be policies"),
        ({"policies": [FACTS_FIRST, "x"]}, ArgumentTypeError, r"policies\[1\]"),
        ({"policies": {"x": FACTS_FIRST}}, ArgumentValueError, "registered by its own name"),
        ({"policy": 3}, ArgumentTypeError, "policy"),
        ({"clock": "now"}, ArgumentTypeError, "clock"),
        ({"cache_size": -1}, ArgumentValueError, "cache_size"),
    ],
)
def test_bad_store_arguments_raise(arguments: dict[str, object], error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        Store(**arguments)  # type: ignore[arg-type]


def test_a_naive_clock_is_refused_before_anything_is_written() -> None:
    store = Store(clock=lambda: datetime(2026, 1, 1))
    with pytest.raises(ArgumentValueError, match="clock"):
        store.deliver("T-1", opening())
    assert store.deliveries() == []


def test_an_unreachable_server_is_one_line() -> None:
    with pytest.raises(StoreError) as caught:
        Store("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "\n" not in str(caught.value) and "cannot prepare the store" in str(caught.value)


def test_unstorable_text_is_kept_escaped(store_url: str) -> None:
    with Store(store_url) as store:
        record = store.deliver("T-1", "\x00{\ud800}").record
        assert record.fate is Fate.BAD_INPUT
        assert record.payload == "\\u0000{\\ud800}"


# -- a property over whole delivery sequences -----------------------------------------------------


@st.composite
def deliveries(draw: st.DrawFn) -> list[object]:
    """A transcript as a helpdesk would deliver it: some events twice, some out of order,
    some as JSON text or objects, a few not events at all."""
    opening = openings(
        at=START, interaction_id=st.text("ABCT-0123456789é", min_size=1, max_size=8), customer_name=st.none()
    )
    events = list(draw(transcripts(FACTS_FIRST, max_events=20, violations=True, opening=opening)))
    out: list[object] = []
    for index, event in enumerate(events):
        form = draw(st.integers(0, 2)) if index else 0
        from deescalate import dump_event, event_to_dict

        out.append(event if form == 0 else dump_event(event) if form == 1 else event_to_dict(event))
        roll = draw(st.integers(0, 19))
        if roll == 0 and out:
            out.append(draw(st.sampled_from(out)))  # delivered again
        elif roll == 1:
            out.append(draw(st.sampled_from(['{"type": "nope"}', b"\x00", {"at": "x"}])))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deliveries(), st.sampled_from([Mode.STRICT, Mode.ADVISORY]))
def test_the_store_agrees_with_apply_whatever_arrives(sequence: list[object], mode: Mode) -> None:
    """Whatever a helpdesk sends, in whatever order: each fate is what ``apply`` decides, the
    journal has every delivery, and the stored interaction equals its log replayed."""
    store = Store(mode=mode)
    first = sequence[0]
    assert isinstance(first, InteractionOpened)
    interaction_id = first.interaction_id
    expected = None
    for payload in sequence:
        delivery = store.deliver(interaction_id, payload)  # type: ignore[arg-type]
        if delivery.fate is Fate.BAD_INPUT:
            continue
        event = (
            parse_event(delivery.record.payload) if not isinstance(payload, InteractionOpened) else payload
        )
        if expected is None:
            assert delivery.applied
            expected = open_interaction(event, FACTS_FIRST)  # type: ignore[arg-type]
            continue
        outcome = apply(expected, event, FACTS_FIRST, mode)
        assert delivery.fate.value == outcome.status.value
        assert delivery.findings == outcome.findings
        expected = outcome.interaction
    assert expected is not None
    assert store.get(interaction_id) == expected
    assert len(store.deliveries()) == len(sequence)
    # A fresh process (no cache) rebuilds the same from the database.
    store._cache.clear()
    assert store.get(interaction_id) == expected


def test_the_database_itself_refuses_an_event_id_twice(store_url: str) -> None:
    """The unique key on (interaction, event_id) holds whatever writes to the tables."""
    with Store(store_url) as store:
        for line in FOLLOW_THROUGH[:3]:
            store.deliver("T-2040", line)
        row = {
            "interaction_id": "T-2040",
            "position": 3,
            "event_id": "ft-02",
            "type": "customer_vented",
            "at": T0,
            "event": FOLLOW_THROUGH[1],
            "findings": "[]",
            "delivery_id": 1,
        }
        with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
            connection.execute(_schema.events.insert().values(**row))
        with store.engine.begin() as connection:  # without an id, nothing to refuse
            connection.execute(_schema.events.insert().values(**{**row, "event_id": None}))


def test_ingest_after_webhooks_compares_events_not_their_wording(store_url: str) -> None:
    """Events delivered as JSON text or objects count as delivered, whatever their spacing or
    key order; bad input in the journal is passed over."""
    events = [parse_event(line) for line in FOLLOW_THROUGH]
    with Store(store_url) as store:
        store.deliver("T-2040", FOLLOW_THROUGH[0])
        store.deliver("T-2040", json.loads(FOLLOW_THROUGH[1]))
        store.deliver("T-2040", b"not json")
        assert [d.record.position for d in store.ingest(events)] == list(range(2, 11))
        assert store.ingest(events) == []


def test_a_reader_never_creates_a_store(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sa.create_engine(f"sqlite:///{empty}").dispose()
    empty.write_bytes(b"")
    with pytest.raises(StoreError, match="no store at"):
        Store(f"sqlite:///{empty}", create=False)
    with sa.create_engine(f"sqlite:///{empty}").connect() as connection:
        assert sa.inspect(connection).get_table_names() == []
