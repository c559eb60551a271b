"""Snapshots: an interaction saved as versioned JSON, loaded back only if it tells the truth.

A snapshot holds the policy the interaction was kept under (its name and
parameters), the interaction's state, and its history with each event's
findings. Loading does not take the state on trust: it rebuilds the interaction
by applying the history's events, one by one, under that policy, and refuses the
snapshot (:class:`~deescalate.SnapshotError`, naming the path, such as
``history[3].findings``) if any event is impossible where it stands, out of time
order or a repeat, if any event's recorded findings are not the ones the policy
gives it, or if any field of the state differs from the rebuilt one. So an edited
stage, owner, authority limit or count, and dropped, reordered or impossible
history entries, are all refused, and what loads is exactly what the history
produces. Loading under a policy other than the recorded one is refused too.

An edit of the history itself that stays consistent (an event removed from the
end, a fact reworded everywhere) cannot be told from the truth by the data alone.
Snapshots kept where others can edit them are *signed*: with a key, an HMAC-SHA256
over the snapshot's canonical JSON is added, and loading with the key refuses any
change at all. Plain JSON only: no pickle, no eval.

Format version 3 (versions 1 and 2 still load: version 1 recorded no policy, and
neither recorded the deadlines, which are derived from the history anyway; their
histories are judged again, so findings of the timing rules added in version 3
appear on loading)::

    {"format": "deescalate.snapshot", "version": 3,
     "policy": {"name": "facts-first", "params": {"authority_limit": 100, ...}},
     "interaction": {"interaction_id": "T-1", "stage": "venting", ...},
     "history": [{"event": {<contract JSON>}, "findings": [{"rule": ..., "severity": ...,
                  "message": ...}]}, ...],
     "signature": "hmac-sha256:..."}            <- only when signed
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from ._apply import Mode, Status, checked_interaction, checked_policy, open_interaction, step
from ._codec import compact_json, event_from_dict, event_to_dict
from ._errors import (
    ArgumentTypeError,
    ArgumentValueError,
    EventError,
    RuleError,
    SnapshotError,
    describe,
    one_line,
)
from ._events import Event, InteractionOpened
from ._findings import Finding
from ._interaction import Interaction, Remedy
from ._obligations import JUDGED_BY
from ._policy import BUILTIN_POLICIES, FACTS_FIRST, Policy

FORMAT = "deescalate.snapshot"
#: The snapshot format version this library writes, and the newest it reads.
SNAPSHOT_VERSION = 3
#: What version 3 added: the state's deadlines, and the timing rules that judge them.
#: Older snapshots are loaded by judging their history again: findings of rules they
#: did not know are added, not held against them.
_NEW_IN_3 = ("callback_due", "accepted_at", "progress_since", "manager_requested_at")
_TIMING_RULES = frozenset(JUDGED_BY.values())
_SIGNED = "hmac-sha256:"
_MISSING = object()

#: A key for signing: bytes, or text (taken as UTF-8).
Key = bytes | str


# -- writing -----------------------------------------------------------------------------


def _remedy_dict(remedy: Remedy | None) -> dict[str, Any] | None:
    return None if remedy is None else {"description": remedy.description, "value": remedy.value}


def _state(interaction: Interaction) -> dict[str, Any]:
    facts = interaction.facts
    return {
        "interaction_id": interaction.interaction_id,
        "customer_name": interaction.customer_name,
        "stage": interaction.stage.value,
        "wave_open": interaction.wave_open,
        "owner": interaction.owner,
        "authority_limit": interaction.authority_limit,
        "rejections": interaction.rejections,
        "summary": None if interaction.summary is None else list(interaction.summary),
        "facts": None
        if facts is None
        else {"fault": facts.fault.value, "root_cause": facts.root_cause},
        "fact_source_count": interaction.fact_source_count,
        "pending_remedy": _remedy_dict(interaction.pending_remedy),
        "agreed_remedy": _remedy_dict(interaction.agreed_remedy),
        "apologized": interaction.apologized,
        "progress_reported": interaction.progress_reported,
        "manager_requested": interaction.manager_requested,
        "abuse_observed": interaction.abuse_observed,
        "abuse_warnings": interaction.abuse_warnings,
        "callback_due": _time(interaction.callback_due),
        "accepted_at": _time(interaction.accepted_at),
        "progress_since": _time(interaction.progress_since),
        "manager_requested_at": _time(interaction.manager_requested_at),
    }


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _policy_dict(policy: Policy) -> dict[str, Any]:
    return {"name": policy.name, "params": policy.params.to_json()}


def snapshot_to_dict(
    interaction: Interaction, policy: Policy | str = FACTS_FIRST, *, key: Key | None = None
) -> dict[str, Any]:
    """The snapshot of ``interaction``, kept under ``policy``, as a JSON-ready dict.

    With ``key`` the snapshot is signed: loading it then needs the same key, and
    refuses any change made to it.
    """
    interaction = checked_interaction(interaction)
    policy = checked_policy(policy)
    history = [
        {
            "event": event_to_dict(event),
            "findings": [
                {"rule": f.rule, "severity": f.severity.value, "message": f.message}
                for f in findings
            ],
        }
        for event, findings in interaction.history.entries()
    ]
    data: dict[str, Any] = {
        "format": FORMAT,
        "version": SNAPSHOT_VERSION,
        "policy": _policy_dict(policy),
        "interaction": _state(interaction),
        "history": history,
    }
    if key is not None:
        data["signature"] = _signature(data, _key(key))
    return data


def dump_snapshot(
    interaction: Interaction, policy: Policy | str = FACTS_FIRST, *, key: Key | None = None
) -> str:
    """The snapshot of ``interaction``, kept under ``policy``, as compact JSON text (signed with ``key``)."""
    return compact_json(snapshot_to_dict(interaction, policy, key=key))


# -- signing -----------------------------------------------------------------------------


def _key(key: object) -> bytes:
    if isinstance(key, str):
        key = key.encode("utf-8", "surrogatepass")
    if not isinstance(key, bytes | bytearray | memoryview):
        raise ArgumentTypeError("key", f"must be bytes or a string, got {describe(key)}")
    if not len(key):
        raise ArgumentValueError("key", "must not be empty: an empty key signs nothing")
    return bytes(key)


def _signature(data: dict[str, Any], key: bytes) -> str:
    """The signature of ``data`` (all but its own ``signature``), over its canonical JSON.

    Canonical: keys sorted, no spaces, so a store that reorders keys or reformats
    the text (a JSON column, a pretty-printer) keeps a signed snapshot valid.
    """
    unsigned = {name: value for name, value in data.items() if name != "signature"}
    try:
        body = json.dumps(
            unsigned, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )
    except (ValueError, TypeError, RecursionError):
        raise SnapshotError("snapshot", "holds values that JSON cannot carry") from None
    digest = hmac.new(key, body.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return _SIGNED + digest


def _check_signature(top: dict[str, Any], key: Key | None) -> None:
    signature = top.get("signature")
    if key is None:
        if signature is not None:
            raise SnapshotError("signature", "the snapshot is signed: pass its key to load it")
        return
    secret = _key(key)
    if signature is None:
        raise SnapshotError("signature", "is missing: with a key, only snapshots signed with it load")
    if not isinstance(signature, str) or not hmac.compare_digest(
        signature.encode("utf-8", "surrogatepass"), _signature(top, secret).encode()
    ):
        raise SnapshotError(
            "signature",
            "does not match: the snapshot was changed after it was signed, or signed with another key",
        )


# -- reading -----------------------------------------------------------------------------


def _get(data: dict[str, Any], name: str, path: str) -> Any:
    """``data[name]``, where ``data`` is at ``path`` ("" at the top); paths are built only to fail."""
    if name not in data:
        raise SnapshotError(f"{path}.{name}" if path else name, "is missing")
    return data[name]


def _object(value: Any, path: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise SnapshotError(path, f"must be an object, got {type(value).__name__}")
    return value


def _list(value: Any, path: str) -> list[Any]:
    if type(value) is not list:
        raise SnapshotError(path, f"must be a list, got {type(value).__name__}")
    return value


def _same(expected: Any, given: Any) -> bool:
    """True when JSON value ``given`` is ``expected``: equal, and of the same JSON kind.

    Python's ``==`` takes ``1`` for ``true`` and ``[]`` never for ``{}``; a snapshot
    says exactly what it means, so ``true`` is not ``1`` here (but ``100`` is ``100.0``).
    """
    if expected is given:  # None, true, false, small integers: most of a state
        return True
    kind, other = type(expected), type(given)
    if kind is str:
        return other is str and expected == given
    if kind is dict:
        return other is dict and expected.keys() == given.keys() and all(
            _same(value, given[name]) for name, value in expected.items()
        )
    if kind is list:
        return other is list and len(expected) == len(given) and all(map(_same, expected, given))
    if kind is bool or other is bool:
        return kind is other and expected == given
    if kind is int or kind is float:
        return (other is int or other is float) and expected == given
    return kind is other and expected == given


def _recorded_policy(top: dict[str, Any], version: int, given: Policy | str | None) -> Policy:
    """The policy to rebuild the interaction under: the recorded one, which ``given`` must be."""
    chosen = None if given is None else checked_policy(given)
    if version == 1:  # version 1 recorded no policy: the caller's, or the default one
        return chosen or FACTS_FIRST
    record = _object(_get(top, "policy", ""), "policy")
    name = _get(record, "name", "policy")
    if not isinstance(name, str):
        raise SnapshotError("policy.name", f"must be a string, got {describe(name)}")
    params = _object(_get(record, "params", "policy"), "policy.params")
    if chosen is None:
        chosen = BUILTIN_POLICIES.get(name)
        if chosen is None:
            raise SnapshotError(
                "policy.name",
                f"{describe(name)} is not a built-in policy: pass the policy the snapshot was saved under",
            )
    elif chosen.name != name:
        raise SnapshotError(
            "policy.name",
            f"the snapshot was saved under policy {describe(name)}, not {describe(chosen.name)}: "
            "a snapshot loads only under its own policy",
        )
    have = chosen.params.to_json()
    for param, value in params.items():
        if param not in have:
            raise SnapshotError(
                f"policy.params.{param}", f"is not a parameter of policy {describe(chosen.name)}"
            )
        current = have[param]
        if not _same(current, value):
            raise SnapshotError(
                f"policy.params.{param}",
                f"was {describe(value)} when saved, but policy {describe(name)} has {describe(current)}: "
                "a snapshot loads only under the policy it was saved under",
            )
    if version >= 3:
        for param in have:
            if param not in params:
                raise SnapshotError(
                    f"policy.params.{param}",
                    f"is missing, but policy {describe(chosen.name)} has it: "
                    "a snapshot loads only under the policy it was saved under",
                )
    return chosen


def _event(value: Any, where: str) -> Event:
    """The event of the history entry at path ``where``."""
    if type(value) is not dict:
        _object(value, f"{where}.event")  # raises, naming the path
    try:
        return event_from_dict(value)
    except EventError as error:
        raise SnapshotError(f"{where}.event.{error.field}", error.reason) from None


def _same_findings(found: tuple[Finding, ...], recorded: Any) -> bool:
    if type(recorded) is not list or len(recorded) != len(found):
        return False
    for finding, item in zip(found, recorded, strict=True):
        if (
            type(item) is not dict
            or item.keys() != {"rule", "severity", "message"}
            or item["rule"] != finding.rule
            or item["severity"] != finding.severity.value
            or item["message"] != finding.message
        ):
            return False
    return True


def _findings_text(found: tuple[Finding, ...]) -> str:
    if not found:
        return "none"
    return ", ".join(f"{f.rule} ({f.severity.value})" for f in found)


_OPENING_FIRST = "the history must start with interaction_opened, and only there"
_WHY_NOT_APPLIED = {
    Status.DUPLICATE: ("event_id", "appears earlier in the history: an event is applied once"),
    Status.LATE: ("at", "is earlier than the event before it: a history is in time order"),
}


def _rebuilt(entries: list[Any], policy: Policy, version: int = SNAPSHOT_VERSION) -> Interaction:
    """The interaction the history ``entries`` produce under ``policy``, each entry checked."""
    if not entries:
        raise SnapshotError("history", "must hold the interaction_opened event at least")
    first = entries[0]
    where = "history[0]"
    opening = _event(_get(_object(first, where), "event", where), where)
    if not isinstance(opening, InteractionOpened):
        raise SnapshotError(f"{where}.event.type", _OPENING_FIRST)
    interaction = open_interaction(opening, policy)
    _check_findings((), _get(first, "findings", where), 0, policy)
    advisory, applied = Mode.ADVISORY, Status.APPLIED
    for position in range(1, len(entries)):  # the hot loop of every load: paths are built only to fail
        item = entries[position]
        if type(item) is not dict:
            _object(item, f"history[{position}]")  # raises, naming the path
        value = item.get("event", _MISSING)
        recorded = item.get("findings", _MISSING)
        if type(value) is not dict or recorded is _MISSING:
            where = f"history[{position}]"
            _object(_get(item, "event", where), f"{where}.event")
            _get(item, "findings", where)
        try:
            event = event_from_dict(value)
        except EventError as error:
            raise SnapshotError(f"history[{position}].event.{error.field}", error.reason) from None
        if isinstance(event, InteractionOpened):
            raise SnapshotError(f"history[{position}].event.type", _OPENING_FIRST)
        try:
            interaction, found, status = step(interaction, event, policy, advisory)
        except RuleError as error:
            raise error.at(position) from error.__cause__
        if status is not applied:
            where = f"history[{position}]"
            if status is Status.INVALID:
                reason = f"is impossible where it stands: {found[0].message}"
                raise SnapshotError(f"{where}.event.type", reason)
            field, reason = _WHY_NOT_APPLIED[status]
            raise SnapshotError(f"{where}.event.{field}", reason)
        if found or type(recorded) is not list or recorded:
            if version < 3 and found:  # judged again: the timing rules are new
                known = tuple(f for f in found if f.rule not in _TIMING_RULES)
                _check_findings(known, recorded, position, policy)
            else:
                _check_findings(found, recorded, position, policy)
    return interaction


def _check_findings(found: tuple[Finding, ...], recorded: Any, position: int, policy: Policy) -> None:
    """Refuse the recorded findings of entry ``position`` unless they are ``found``."""
    where = f"history[{position}].findings"
    if type(recorded) is not list:
        _list(recorded, where)  # raises, naming the path
    if not _same_findings(found, recorded):
        raise SnapshotError(
            where,
            f"are not what policy {describe(policy.name)} gives this event "
            f"(it gives: {_findings_text(found)})",
        )


def _check_state(state: dict[str, Any], interaction: Interaction, version: int) -> None:
    """Refuse a recorded state that differs, in any field, from the one the history gives."""
    for name, value in _state(interaction).items():
        given = state.get(name, _MISSING)
        if version < 3 and name in _NEW_IN_3 and given is _MISSING:
            continue  # derived from the history, which older versions hold too
        if given is _MISSING:
            _get(state, name, "interaction")  # raises, naming the path
        if not _same(value, given):
            raise SnapshotError(
                f"interaction.{name}",
                f"is {describe(given)}, but the history gives {describe(value)}",
            )


def snapshot_from_dict(
    data: Any, policy: Policy | str | None = None, *, key: Key | None = None
) -> Interaction:
    """Load the interaction that a decoded snapshot describes, if its history bears it out.

    The interaction is rebuilt from the history under the policy the snapshot
    records (a built-in one is found by name; pass your own as ``policy``, which
    must be the recorded one). With ``key``, only a snapshot signed with that key
    loads. Raises :class:`~deescalate.SnapshotError` naming the first problem.
    """
    top = _object(data, "snapshot")
    if top.get("format") != FORMAT:
        raise SnapshotError("format", f"must be {FORMAT!r}, got {describe(top.get('format'))}")
    version = _get(top, "version", "")
    if type(version) is not int or version < 1:
        raise SnapshotError("version", f"must be a positive integer, got {describe(version)}")
    if version > SNAPSHOT_VERSION:
        raise SnapshotError(
            "version",
            f"snapshot format {version} is newer than this deescalate reads "
            f"({SNAPSHOT_VERSION}); upgrade deescalate to load it",
        )
    _check_signature(top, key)
    chosen = _recorded_policy(top, version, policy)
    state = _object(_get(top, "interaction", ""), "interaction")
    interaction = _rebuilt(_list(_get(top, "history", ""), "history"), chosen, version)
    _check_state(state, interaction, version)
    return interaction


def load_snapshot(
    text: str | bytes, policy: Policy | str | None = None, *, key: Key | None = None
) -> Interaction:
    """Load an interaction from snapshot JSON text (see :func:`snapshot_from_dict`)."""
    if not isinstance(text, str | bytes | bytearray):
        raise ArgumentTypeError("text", f"must be snapshot JSON text (str or bytes), got {describe(text)}")
    try:
        data = json.loads(text)
    except RecursionError:
        raise SnapshotError("snapshot", "is nested too deeply to be a snapshot") from None
    except ValueError as error:
        raise SnapshotError("snapshot", f"is not valid JSON ({one_line(str(error))})") from None
    return snapshot_from_dict(data, policy, key=key)
