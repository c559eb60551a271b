"""``deescalate diagram``: print the stage graph, drawn by transitions from the transition table."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING, TextIO

from .._loading import load_policy
from ..diagram import FORMATS, render_diagram

if TYPE_CHECKING:
    import argparse

__all__ = ["configure", "run"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``diagram``'s description and arguments to its parser."""
    parser.description = "Print the stage graph, drawn by transitions from the transition table."
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="mermaid",
        help="mermaid (default): a Mermaid state diagram, or dot: Graphviz DOT source "
        "(needs the graphviz package)",
    )
    parser.add_argument(
        "--policy", metavar="NAME|module:attribute", help="label transitions with its rule ids"
    )
    parser.add_argument(
        "--internal", action="store_true", help="also show events that keep the stage"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, out: TextIO, err: IO[str]) -> int:
    """Run ``deescalate diagram``: 0, or 2 (raised) for a policy that cannot be loaded."""
    policy = load_policy(args.policy) if args.policy else None
    out.write(render_diagram(policy, args.format, internal=args.internal))
    return 0
