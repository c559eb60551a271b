"""Write the package's JSON Schema file from the code: ``python tools/schema.py``.

``src/deescalate/transcript-line.schema.json`` is :func:`deescalate.json_schema`
written out (a test fails when it is stale). Run this after changing an event
class; ``--check`` changes nothing and exits 1 if the file is stale.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from deescalate import json_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "src" / "deescalate" / "transcript-line.schema.json"


def render() -> str:
    """The schema file's text: ``json_schema()`` as indented JSON, ending with a newline."""
    return json.dumps(json_schema(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/schema.py",
        description=f"Write {SCHEMA_FILE.name} (in src/deescalate/) from the event classes.",
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if the file is stale")
    arguments = parser.parse_args(argv)
    text = render()
    current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else None
    if current == text:
        return 0
    if arguments.check:
        print(f"stale: {SCHEMA_FILE} (run: python tools/schema.py)")
        return 1
    SCHEMA_FILE.write_text(text, encoding="utf-8")
    print(f"updated {SCHEMA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
