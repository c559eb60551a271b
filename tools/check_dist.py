"""Check what the built distributions hold: ``python tools/check_dist.py DIST_FOLDER``.

The wheel must hold the package with its type marker and JSON Schema file, and
nothing else (no contributor tools, no tests); the sdist must hold what the test
suite needs to run from it. Exits 1, naming what is wrong, otherwise prints a
line per distribution.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
import zipfile
from pathlib import Path

WHEEL_NEEDS = ("deescalate/__init__.py", "deescalate/py.typed", "deescalate/transcript-line.schema.json")
SDIST_NEEDS = (
    "pyproject.toml",
    "README.md",
    "CHANGELOG.md",
    "src/deescalate/py.typed",
    "src/deescalate/transcript-line.schema.json",
    "tests/conftest.py",
    "tests/build.py",
    "tests/test_schema.py",
    "tests/test_docs.py",
    "docs/index.md",
    "examples/embed.py",
    "tools/reference.py",
    "tools/schema.py",
)


def wheel_problems(path: Path) -> list[str]:
    names = set(zipfile.ZipFile(path).namelist())
    problems = [f"lacks {name}" for name in WHEEL_NEEDS if name not in names]
    stray = sorted(n for n in names if not n.startswith("deescalate/") and ".dist-info/" not in n)
    problems += [f"holds {name}, outside the package" for name in stray]
    problems += [f"holds {name}" for name in sorted(names) if name.endswith((".pyc", "/reference.py"))]
    return problems


def sdist_problems(path: Path) -> list[str]:
    with tarfile.open(path) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    problems = [f"lacks {name}" for name in SDIST_NEEDS if name not in names]
    problems += [f"holds {name}" for name in sorted(names) if name.endswith(".pyc")]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/check_dist.py", description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the folder python -m build wrote to")
    folder = parser.parse_args(argv).folder
    wheels, sdists = sorted(folder.glob("*.whl")), sorted(folder.glob("*.tar.gz"))
    if len(wheels) != 1 or len(sdists) != 1:
        print(f"{folder}: expected one wheel and one sdist, found {[p.name for p in (*wheels, *sdists)]}")
        return 1
    failed = False
    for path, problems in ((wheels[0], wheel_problems(wheels[0])), (sdists[0], sdist_problems(sdists[0]))):
        for problem in problems:
            print(f"{path.name}: {problem}")
        failed = failed or bool(problems)
        if not problems:
            print(f"{path.name}: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
