"""The docs are true to the code: generated tables are current, and every example runs.

Each page's ```python blocks run in order in one namespace (from the repository
root); a ```text block right after one holds what it prints. Each ```console block
is a list of ``$ command`` lines, each followed by its output, run in a shell.
Blocks fenced as ```py are illustrations (for instance of other libraries) and are
not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.reference import refresh

ROOT = Path(__file__).parent.parent
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_generated_tables_are_current(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert refresh(text) == text, f"run: python tools/reference.py docs  ({page.name} is stale)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_python_examples_run_and_print_what_the_page_shows(page: Path, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.syspath_prepend(str(ROOT))
    namespace: dict[str, object] = {"__name__": f"docs_{page.stem}"}
    found = blocks(page)
    for n, (lang, code) in enumerate(found):
        if lang != "python":
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, f"{page.name} block {n}", "exec"), namespace)
        following = found[n + 1] if n + 1 < len(found) else None
        if following is not None and following[0] == "text":
            assert out.getvalue().strip() == following[1].strip(), f"{page.name} block {n}"


def _console_steps(code: str) -> list[tuple[str, str]]:
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return [(command, "\n".join(output).strip()) for command, output in steps]


CONSOLE = [
    pytest.param(command, expected, id=f"{page.name}:{command[:50]}")
    for page in PAGES
    for lang, code in blocks(page)
    if lang == "console"
    for command, expected in _console_steps(code)
    if not command.startswith(("pip ", "python -m venv", "python3 -m venv", ". ", "source ", "git ", "cd "))
]


@pytest.mark.parametrize(("command", "expected"), CONSOLE)
def test_console_examples_print_what_the_page_shows(command: str, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    result = subprocess.run(
        command,
        shell=True,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.stdout.strip() == expected
