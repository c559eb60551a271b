"""The stage graph drawn in the docs is the one ``deescalate diagram`` prints."""

from __future__ import annotations

import re
from pathlib import Path

from deescalate.diagram import render_diagram

PAGE = Path(__file__).parent.parent / "docs" / "reference" / "stages-and-events.md"


def test_the_mermaid_block_is_what_the_command_prints() -> None:
    (block,) = re.findall(r"^```mermaid\n(.*?)^```", PAGE.read_text(encoding="utf-8"), re.S | re.M)
    assert block.strip("\n") == render_diagram(None, "mermaid", internal=False).strip("\n")
