"""The ``deescalate`` command: review transcripts, guide agents, verify policies, draw the stage graph.

A thin shell around the core: it opens files, picks a policy, prints, and turns
every error into one line on standard error with exit status 2 (Ctrl-C into
``deescalate: interrupted`` and status 130). It never shows a traceback, whatever
the input or the custom rules do, never fails writing text its output cannot
encode, and never imports hypothesis or pytest.

Each command is a module of this package (``review``, ``guide``, ``verify``,
``diagram``, ``schema``, ``ingest``, ``due``, ``report``) with a
``configure(parser)`` that adds its arguments and a ``run(args, out, err)`` that
returns the exit status. Only the module of the command being run is imported, so
a command pays at start-up for nothing it does not use; ``deescalate`` alone prints the help.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import os
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any, NoReturn, TextIO

from .._errors import DeescalateError, RuleError
from ._shared import say as _say

if TYPE_CHECKING:
    from .review import format_text as format_text

__all__ = ["main", "run"]

_USAGE_ERROR = 2
#: The status of a command stopped by Ctrl-C (SIGINT), as shells report it: 128 + 2.
_INTERRUPTED = 130

#: Each command, in the order the help lists them, and its one-line help.
COMMANDS: dict[str, str] = {
    "review": "replay transcripts (JSON Lines) under a policy and report the findings",
    "guide": "say what the agent should do now, after a transcript's last event",
    "verify": "explore every interaction a policy allows and check it cannot trap a conversation",
    "diagram": "print the stage graph (Mermaid or DOT)",
    "schema": "print the JSON Schema of a transcript line",
    "ingest": "load transcripts into a store (a database), one interaction per file",
    "due": "list the obligations due across a store's interactions",
    "report": "the complaint log: what happened across many interactions, and which mistakes recur",
}


class _Formatter(argparse.HelpFormatter):
    """argparse's help formatter, measuring the terminal as ``shutil`` does without importing it.

    argparse makes a formatter for every argument added, and the default one imports
    shutil (and with it bz2, lzma and zlib) to ask the terminal's width: a cost every
    command would pay at start-up for help it rarely prints.
    """

    def __init__(
        self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None
    ) -> None:
        super().__init__(prog, indent_increment, max_help_position, _width() - 2 if width is None else width)


def _width() -> int:
    """The terminal's width: ``$COLUMNS``, else standard output's terminal, else 80 (as ``shutil``)."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        stream = sys.__stdout__
        try:
            columns = os.get_terminal_size(stream.fileno()).columns if stream is not None else 0
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _Parser(argparse.ArgumentParser):
    """An argument parser formatting with :class:`_Formatter`, as its subcommands' parsers do."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(**kwargs)


class _Version(argparse.Action):
    """``--version``: ``deescalate <version>`` on standard output, read only when asked for."""

    def __init__(self, option_strings: Sequence[str], dest: str, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, help=help)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        from .. import __version__

        sys.stdout.write(f"deescalate {__version__}\n")
        parser.exit()


def _command_in(argv: Sequence[str]) -> str | None:
    """The command ``argv`` starts with; None when it starts with anything else (an option)."""
    return argv[0] if argv and argv[0] in COMMANDS else None


def _parser(command: str | None) -> tuple[argparse.ArgumentParser, argparse.ArgumentParser | None]:
    """The parser and ``command``'s own: with that command alone, or every one when None.

    Only the modules of the commands added are imported. With a command named, the
    parser knows no other, which is all it needs: anything else (help, --version, a
    mistake) starts with something else than a command, and gets every command.
    """
    parser = _Parser(
        prog="deescalate",
        description="Guard and review customer-complaint interactions.",
        epilog="Run 'deescalate COMMAND --help' for a command's options.",
    )
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", title="commands"
    )
    own = None
    for name in [command] if command is not None else COMMANDS:
        own = commands.add_parser(name, help=COMMANDS[name])
        importlib.import_module(f"{__name__}.{name}").configure(own)
    return parser, own if command is not None else None


def _parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``argv``; raise SystemExit as argparse does (0 after help, 2 after a usage error).

    An unknown option after a command is reported by that command's parser, with its
    own usage, rather than by the top-level one.
    """
    command = _command_in(argv)
    parser, own = _parser(command)
    args, extras = parser.parse_known_args(argv)
    if extras:
        (own or parser).error(f"unrecognized arguments: {' '.join(extras)}")
    return args


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: IO[str] | None = None
) -> int:
    """Run the command line; returns the exit status.

    Every error is one line on ``err`` (``deescalate: ...``) with status 2, Ctrl-C
    is ``deescalate: interrupted`` with status 130, and no traceback is ever shown.
    Usage mistakes are reported as argparse does: the usage of the command at fault,
    then ``deescalate COMMAND: error: ...``, with status 2.
    """
    err = err or sys.stderr or io.StringIO()  # no standard error at all (pythonw): say nothing
    try:
        return _main(sys.argv[1:] if argv is None else list(argv), out, err)
    except KeyboardInterrupt:
        _say(err, "interrupted")
        return _INTERRUPTED


def _main(argv: list[str], out: TextIO | None, err: IO[str]) -> int:
    if out is None:
        out = sys.stdout
        if out is None:
            _say(err, "cannot write output: standard output is closed")
            return _USAGE_ERROR
        _never_fail_encoding(out)
    name = argv[0] if argv else "deescalate"
    try:
        if not argv:  # `deescalate` alone: what it can do, rather than a usage error
            out.write(_parser(None)[0].format_help())
            out.flush()
            return 0
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                args = _parse(argv)
        except SystemExit as stop:  # help, --version or a usage error, already printed
            out.flush()
            return stop.code if isinstance(stop.code, int) else _USAGE_ERROR
        # Like `python -m`, let --policy module:attribute find modules in the working directory.
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        status: int = args.run(args, out, err)  # every command: (arguments, output, errors)
        out.flush()
    except DeescalateError as error:
        _say(err, _text_of(error))
        return _USAGE_ERROR
    except OSError as error:  # reading failures are CannotRead: this is the output
        _silence(out)
        _say(err, f"cannot write output: {error.strerror or _text_of(error)}")
        return _USAGE_ERROR
    except (Exception, SystemExit) as error:  # a custom rule's own bug: report it, no traceback
        _say(err, f"error while running {name}: {RuleError.explain(error)}")
        return _USAGE_ERROR
    return status


def _text_of(error: BaseException) -> str:
    """An error's message, or its type when the message itself cannot be read."""
    try:
        return str(error)
    except Exception:
        return type(error).__name__


def _never_fail_encoding(stream: TextIO) -> None:
    """Let ``stream`` escape what its encoding cannot write, rather than raise.

    Events never hold a lone surrogate (they are refused as bad input), but the
    report must not crash whatever text reaches it, nor on a terminal whose
    encoding is not UTF-8.
    """
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None and getattr(stream, "errors", None) == "strict":
        with contextlib.suppress(Exception):
            reconfigure(errors="backslashreplace")


def _silence(out: TextIO) -> None:
    """Point a failed standard output at devnull, so exit does not fail flushing it again."""
    if out is sys.stdout:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def run() -> None:
    """Console-script entry point: exits with the command's status (130 on Ctrl-C)."""
    try:
        status = main()
    except KeyboardInterrupt:  # pressed again while the first one was being reported
        status = _INTERRUPTED
    sys.exit(status)


def __getattr__(name: str) -> Any:
    """``format_text``, the review's text report, from :mod:`deescalate.cli.review` when first asked for."""
    if name == "format_text":
        from .review import format_text

        return format_text
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
