"""Events to and from the contract's JSON form.

Parsing adds to the events' own validation only what JSON needs: the ``type`` picks
the class, timestamps arrive as ISO-8601 strings, ``null`` means an optional field
is absent, required fields must be present, and unknown extra fields are ignored
(webhook payloads carry plenty of those). Every failure is an
:class:`~deescalate.EventError` naming the field.
"""

from __future__ import annotations

import json
from datetime import datetime
from enum import Enum
from typing import Any

import attrs

from ._errors import EventError
from ._events import EVENT_CLASSES, Event

# For each event type: its class and its fields as (name, required) pairs, in order.
_SCHEMA: dict[str, tuple[type[Event], tuple[tuple[str, bool], ...]]] = {
    name: (
        cls,
        tuple(
            (field.name, field.default is attrs.NOTHING)
            for field in attrs.fields(cls)
        ),
    )
    for name, cls in EVENT_CLASSES.items()
}


def _timestamp(value: object) -> datetime:
    if not isinstance(value, str):
        raise EventError("at", f"must be an ISO-8601 timestamp string, got {value!r}")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise EventError("at", f"is not an ISO-8601 timestamp: {value!r}") from None
    if moment.utcoffset() is None:
        raise EventError("at", f"has no UTC offset: {value!r} (add Z or +00:00)")
    return moment


def event_from_dict(data: object) -> Event:
    """Build the event that a JSON object (already decoded) describes.

    Raises :class:`~deescalate.EventError` naming the field when anything is missing,
    ill-typed or out of range.
    """
    if not isinstance(data, dict):
        raise EventError("line", f"must be a JSON object, got {type(data).__name__}")
    kind = data.get("type")
    if kind is None:
        raise EventError("type", "is required")
    try:
        cls, fields = _SCHEMA[kind]
    except (KeyError, TypeError):
        raise EventError("type", f"unknown event type {kind!r}") from None
    values: dict[str, Any] = {}
    for name, required in fields:
        value = data.get(name)
        if value is None:
            if required:
                raise EventError(name, "is required")
            continue
        values[name] = _timestamp(value) if name == "at" else value
    return cls(**values)


def event_to_dict(event: Event) -> dict[str, Any]:
    """The contract's JSON object for ``event`` (absent optional fields left out)."""
    data: dict[str, Any] = {"type": event.type}
    for field in attrs.fields(type(event)):
        value = getattr(event, field.name)
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, Enum):
            value = value.value
        elif isinstance(value, tuple):
            value = list(value)
        data[field.name] = value
    return data


def parse_event(text: str) -> Event:
    """Parse one event from its JSON text (one transcript line)."""
    try:
        data = json.loads(text)
    except ValueError as error:
        raise EventError("line", f"is not valid JSON ({error})") from None
    return event_from_dict(data)


def dump_event(event: Event) -> str:
    """The JSON text of ``event``: one compact transcript line, without a newline."""
    return json.dumps(event_to_dict(event), ensure_ascii=False, separators=(",", ":"))
