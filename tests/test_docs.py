"""The docs are true to the code: generated tables are current, and every example runs.

The pages are every Markdown file under docs/ (subfolders included) and the README.
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
PAGES = [*sorted((ROOT / "docs").rglob("*.md")), ROOT / "README.md"]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```\s*$", re.S | re.M)


def name(page: Path) -> str:
    """The page's path from the repository root, as test ids and messages show it."""
    return page.relative_to(ROOT).as_posix()


def blocks(page: Path) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(page.read_text(encoding="utf-8"))]


@pytest.mark.parametrize("page", PAGES, ids=name)
def test_generated_tables_are_current(page: Path) -> None:
    text = page.read_text(encoding="utf-8")
    assert refresh(text) == text, f"run: python tools/reference.py docs  ({name(page)} is stale)"


@pytest.mark.parametrize("page", PAGES, ids=name)
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
            exec(compile(code, f"{name(page)} block {n}", "exec"), namespace)
        following = found[n + 1] if n + 1 < len(found) else None
        if following is not None and following[0] == "text":
            assert out.getvalue().strip() == following[1].strip(), f"{name(page)} block {n}"


def _console_steps(code: str) -> list[tuple[str, str]]:
    steps: list[tuple[str, list[str]]] = []
    for line in code.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return [(command, "\n".join(output).strip()) for command, output in steps]


CONSOLE = [
    pytest.param(command, expected, id=f"{name(page)}:{command[:50]}")
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


def test_the_api_reference_lists_every_public_name() -> None:
    """Each name of ``deescalate.__all__`` is a member of a ``::: deescalate`` directive in docs/reference/api/."""
    import deescalate

    listed = set()
    for page in (ROOT / "docs" / "reference" / "api").glob("*.md"):
        for directive in re.split(r"^::: ", page.read_text(encoding="utf-8"), flags=re.M)[1:]:
            target, _, options = directive.partition("\n")
            if target.strip() == "deescalate":
                listed.update(re.findall(r"^ {8}- (\w+)$", options, re.M))
    assert sorted(set(deescalate.__all__) - listed) == []
    assert sorted(listed - set(deescalate.__all__)) == []


def test_the_rule_origins_page_covers_every_builtin_rule() -> None:
    from deescalate import BUILTIN_RULES, INVALID_TRANSITION

    text = (ROOT / "docs" / "explanation" / "rule-origins.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z-]+)` \|", text, re.M))
    assert rows == {rule.id for rule in (*BUILTIN_RULES, INVALID_TRANSITION)}
