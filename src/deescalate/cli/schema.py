"""``deescalate schema``: print the JSON Schema of a transcript line, for other tools to validate with."""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    import argparse

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``schema``'s description to its parser (it takes no argument)."""
    parser.description = (
        "Print the JSON Schema (draft 2020-12) of a transcript line: one event, of any type. "
        "Generated from the event classes, so it describes what this version reads."
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    """Run ``deescalate schema``: the schema, indented, then a newline."""
    from .._schema import json_schema  # built when asked for, not at every start-up

    out.write(json.dumps(json_schema(), indent=2) + "\n")
    return 0
