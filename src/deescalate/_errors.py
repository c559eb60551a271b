"""Typed errors: every way input can be wrong has one exception, all under one base.

Callers catch :class:`DeescalateError` to handle anything the library rejects; the
subclasses say whose input was wrong (an argument, an event, a snapshot, a policy,
a rule's own code) and name the field, so a message can be shown to a user as it
is. Each also derives from the builtin exception that fits (``TypeError`` for a
value of the wrong kind, ``ValueError`` for a value of the right kind that is not
acceptable), so code written against the builtins keeps working.

Messages quote what they were given through :func:`describe`, which caps the
quote: a megabyte of hostile input never ends up in a log line whole.
"""

from __future__ import annotations

#: The most characters of a given value that any message quotes.
QUOTE_LIMIT = 60


def describe(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)``, cut to ``limit`` characters (with ``...``) when longer.

    ``repr`` escapes control characters and lone surrogates, so the result is
    always one printable line.
    """
    try:
        text = repr(value) if not isinstance(value, str) or len(value) <= limit else repr(value[:limit])
    except Exception:  # a hostile __repr__: say what it was, not what it claims
        text = f"<{type(value).__name__} object>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def one_line(text: str, limit: int = 400) -> str:
    """``text`` on one line (line breaks become spaces), cut to ``limit`` characters."""
    flat = " ".join(text.split()) if ("\n" in text or "\r" in text) else text
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class DeescalateError(Exception):
    """Base of every error this library raises on purpose."""


class ArgumentError(DeescalateError):
    """A function of the library was called with an argument it does not take.

    Raised as :class:`ArgumentTypeError` (a value of the wrong kind, such as a dict
    where an event belongs) or :class:`ArgumentValueError` (the right kind, an
    unacceptable value, such as the mode ``"STRICT"``). ``argument`` names it.
    """

    def __init__(self, argument: str, reason: str) -> None:
        self.argument = argument
        self.reason = reason
        super().__init__(f"argument '{argument}': {reason}")

    def __reduce__(self) -> tuple[type[ArgumentError], tuple[str, str]]:
        return (type(self), (self.argument, self.reason))


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument is of the wrong kind (a dict where an event belongs, None for a mode)."""


class ArgumentValueError(ArgumentError, ValueError):
    """An argument is of the right kind but not an acceptable value (an unknown mode name)."""


class HistoryIndexError(ArgumentError, IndexError):
    """An index past either end of an interaction's history."""


class EventError(DeescalateError, ValueError):
    """An event (or a transcript line) is not valid input.

    ``field`` names the offending field (``"type"``, ``"at"``, ``"summary[1]"``, or
    ``"line"`` when the line is not a JSON object at all); ``line`` is the 1-based line
    number when the event came from a file, else ``None``.
    """

    def __init__(self, field: str, reason: str, line: int | None = None) -> None:
        self.field = field
        self.reason = reason
        self.line = line
        super().__init__(self._text())

    def _text(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}field '{self.field}': {self.reason}"

    def at_line(self, line: int) -> EventError:
        """The same error, placed at ``line`` of a file."""
        return EventError(self.field, self.reason, line)

    def __reduce__(self) -> tuple[type[EventError], tuple[str, str, int | None]]:
        return (EventError, (self.field, self.reason, self.line))


class SnapshotError(DeescalateError, ValueError):
    """A saved interaction cannot be loaded: wrong shape, bad value, newer version, or a lie.

    ``path`` locates the problem inside the snapshot (``"history[3].event.at"``).
    """

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"snapshot field '{path}': {reason}")

    def __reduce__(self) -> tuple[type[SnapshotError], tuple[str, str]]:
        return (SnapshotError, (self.path, self.reason))


class PolicyError(DeescalateError, ValueError):
    """A policy cannot be built or found (unknown rule id, bad parameter, bad name)."""


class RuleError(PolicyError):
    """A rule's own code raised while judging an event: a defect of the policy, named.

    ``rule`` is the rule's id, ``event_type`` the type of the event it was judging,
    ``index`` the event's 0-based position in the interaction (or the transcript) and
    ``line`` its 1-based line when it came from a file. The original exception is
    the ``__cause__``. The message is one line, whatever the original said.
    """

    def __init__(
        self, rule: str, event_type: str, index: int | None, problem: str, line: int | None = None
    ) -> None:
        self.rule = rule
        self.event_type = event_type
        self.index = index
        self.problem = problem
        self.line = line
        where = f"line {line}: " if line is not None else ""
        at = f" #{index}" if index is not None else ""
        super().__init__(f"{where}rule {rule!r} failed on {event_type}{at}: {problem}")

    @staticmethod
    def explain(error: BaseException) -> str:
        """What went wrong, as one line: the exception's type and message.

        Survives exceptions whose ``__str__`` itself raises.
        """
        try:
            text = str(error)
        except Exception:
            text = "(its message could not be read)"
        name = type(error).__name__
        return one_line(f"{name}: {text}" if text else name)

    def at(self, index: int, line: int | None = None) -> RuleError:
        """The same error, placed at transcript ``index`` (and file ``line``)."""
        placed = RuleError(self.rule, self.event_type, index, self.problem, line)
        placed.__cause__ = self.__cause__
        return placed

    def __reduce__(self) -> tuple[type[RuleError], tuple[str, str, int | None, str, int | None]]:
        return (RuleError, (self.rule, self.event_type, self.index, self.problem, self.line))
