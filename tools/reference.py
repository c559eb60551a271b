"""Reference tables for the docs, generated from the code so the docs cannot drift.

A contributor tool, not part of the package. ``docs/`` embeds these tables between
``<!-- generated: NAME -->`` and ``<!-- end generated -->`` markers; the test suite
fails when they differ, and ``python tools/reference.py docs`` rewrites them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from deescalate import BUILTIN_POLICIES, BUILTIN_RULES, INVALID_TRANSITION, TRANSITIONS, Stage


def stage_table() -> str:
    """The transition table as Markdown: for each event type, where it goes from each stage."""
    header = ["event", *(stage.value for stage in Stage)]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    by_event: dict[str, dict[Stage, str]] = {}
    for move in TRANSITIONS:
        cells = by_event.setdefault(move.event, {})
        for source in move.sources:
            text = "stays" if move.dest is None else f"→ {move.dest.value}"
            if move.requires:
                text += f" (needs {move.requires})"
            cells[source] = text
    for event, cells in by_event.items():
        rows.append(
            "| "
            + " | ".join([f"`{event}`", *(cells.get(stage, "invalid") for stage in Stage)])
            + " |"
        )
    return "\n".join(rows)


def rule_table() -> str:
    """The built-in rules as Markdown: id, severity, events, and which policies include them."""
    rows = [
        "| id | severity | looks at | " + " | ".join(BUILTIN_POLICIES) + " |",
        "|---|---|---|" + "---|" * len(BUILTIN_POLICIES),
    ]
    for item in (*BUILTIN_RULES, INVALID_TRANSITION):
        events = "any event" if item is INVALID_TRANSITION else ", ".join(
            f"`{e}`" for e in sorted(item.on)
        )
        member = [
            "yes" if item is INVALID_TRANSITION or item.id in policy.rule_ids else "—"
            for policy in BUILTIN_POLICIES.values()
        ]
        rows.append(f"| `{item.id}` | {item.severity.value} | {events} | " + " | ".join(member) + " |")
    return "\n".join(rows)


def rule_principles() -> str:
    """Each built-in rule's principle and advice, as Markdown sections."""
    parts = []
    for item in (*BUILTIN_RULES, INVALID_TRANSITION):
        parts.append(
            f"### `{item.id}` ({item.severity.value})\n\n{item.principle}\n\n*Instead:* {item.advice}"
        )
    return "\n\n".join(parts)


GENERATED = {"stage-table": stage_table, "rule-table": rule_table, "rule-principles": rule_principles}
_BLOCK = re.compile(r"(<!-- generated: ([a-z-]+) -->\n)(.*?)\n?(<!-- end generated -->)", re.S)


def refresh(text: str) -> str:
    """``text`` with every generated block replaced by its current content."""
    def fill(match: re.Match[str]) -> str:
        name = match.group(2)
        if name not in GENERATED:
            raise ValueError(f"unknown generated block {name!r}: use one of {', '.join(GENERATED)}")
        return match.group(1) + GENERATED[name]() + "\n" + match.group(4)

    return _BLOCK.sub(fill, text)


def main(argv: list[str] | None = None) -> int:
    """Rewrite (or, with ``--check``, check) the generated blocks of the Markdown files in folders.

    Each folder is searched with its subfolders (``docs/reference/...``).
    """
    parser = argparse.ArgumentParser(
        prog="python tools/reference.py",
        description=(
            "Rewrite the generated reference tables (<!-- generated: NAME --> blocks) in the"
            " Markdown files of each folder, from the code. Prints each file it changes."
        ),
    )
    parser.add_argument(
        "folders",
        nargs="*",
        default=["docs"],
        metavar="FOLDER",
        help="a folder of .md files, subfolders included (default: docs)",
    )
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a file is stale"
    )
    arguments = parser.parse_args(argv)
    stale = False
    for folder in map(Path, arguments.folders):
        if not folder.is_dir():
            parser.error(f"{folder}: not a folder")
        for path in sorted(folder.rglob("*.md")):
            old = path.read_text(encoding="utf-8")
            try:
                new = refresh(old)
            except ValueError as error:
                parser.exit(2, f"{parser.prog}: {path}: {error}\n")
            if new == old:
                continue
            stale = True
            if arguments.check:
                print(f"stale: {path}")
            else:
                path.write_text(new, encoding="utf-8")
                print(f"updated {path}")
    return 1 if stale and arguments.check else 0


if __name__ == "__main__":
    sys.exit(main())
