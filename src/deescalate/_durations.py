"""Durations: ISO-8601 text to ``timedelta`` and back, and a span said the way people say it.

Policies keep their deadlines (``progress_every``, ``follow_up_within``,
``escalate_within``) as ``timedelta`` values, and write them in snapshots and
reports as ISO-8601 durations (``PT10M``, ``P7D``), the form configuration files
and other languages read. Only exact durations are taken: weeks, days, hours,
minutes and seconds. Years and months have no fixed length, so ``P1M`` is refused
rather than guessed at.
"""

from __future__ import annotations

import re
from datetime import timedelta

from ._errors import ArgumentTypeError, ArgumentValueError, describe

# Compiled by ``re`` (and kept in its cache) when a duration is first parsed: a command
# that parses none, such as ``deescalate review``, does not pay for it at start-up.
_DURATION = (
    r"P(?:(?P<weeks>\d+(?:[.,]\d+)?)W)?(?:(?P<days>\d+(?:[.,]\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:[.,]\d+)?)H)?(?:(?P<minutes>\d+(?:[.,]\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)
_CALENDAR = r"P(?:\d+(?:[.,]\d+)?[YM])"
#: The longest duration a policy takes: about 27 years, far beyond any deadline.
MAX_DURATION = timedelta(days=10_000)


def parse_duration(text: str) -> timedelta:
    """The ``timedelta`` an ISO-8601 duration (``PT10M``, ``P7D``, ``P1DT12H``) stands for.

    Raises :class:`~deescalate.ArgumentValueError` (a ``ValueError``) with the
    reason for any other text, including calendar units (years, months), which
    have no fixed length, and :class:`~deescalate.ArgumentTypeError` for what is
    not text.
    """
    if not isinstance(text, str):
        raise ArgumentTypeError(
            "text", f"must be an ISO-8601 duration such as PT10M or P7D, got {describe(text)}"
        )
    match = re.fullmatch(_DURATION, text, re.ASCII)
    if match is None or text in ("P", "PT") or text.endswith("T"):
        if re.match(_CALENDAR, text, re.ASCII):
            raise ArgumentValueError(
                "text",
                f"{describe(text)} uses years or months, which have no fixed length: "
                "give weeks, days, hours, minutes or seconds (P30D, not P1M)",
            )
        raise ArgumentValueError(
            "text", f"must be an ISO-8601 duration such as PT10M or P7D, got {describe(text)}"
        )
    parts = {name: float(value.replace(",", ".")) for name, value in match.groupdict().items() if value}
    try:
        return timedelta(**parts)
    except OverflowError:
        raise ArgumentValueError("text", f"{describe(text)} is too long a duration") from None


def format_duration(span: timedelta) -> str:
    """``span`` as a canonical ISO-8601 duration: ``P7D``, ``PT10M``, ``P1DT2H30M``, ``PT0.5S``."""
    if not isinstance(span, timedelta):
        raise ArgumentTypeError("span", f"must be a timedelta, got {describe(span)}")
    total = span.days * 86_400 + span.seconds
    micro = span.microseconds
    sign = ""
    if total < 0:
        sign, total = "-", -total - (1 if micro else 0)
        micro = (1_000_000 - micro) % 1_000_000
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    date = f"{days}D" if days else ""
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    if seconds or micro:
        time += f"{seconds}.{micro:06d}".rstrip("0").rstrip(".") + "S"
    if not date and not time:
        time = "0S"
    return f"{sign}P{date}" + (f"T{time}" if time else "")


def say_span(span: timedelta) -> str:
    """``span`` the way an agent reads it: ``3 days 2 h``, ``12 min``, ``40 s``."""
    seconds = int(abs(span).total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts: list[str] = []
    if days:
        parts.append(f"{days} day{'s' if days != 1 else ''}")
    if hours:
        parts.append(f"{hours} h")
    if minutes and not days:
        parts.append(f"{minutes} min")
    if not parts:
        parts.append(f"{secs} s")
    return " ".join(parts[:2])
