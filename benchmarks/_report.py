"""The one table: each measurement, what it is compared with, the ratio, the targets, the verdict."""

from __future__ import annotations

import math
import os
import platform
import sys

import attrs


@attrs.frozen
class Row:
    """One line of the table.

    ``bar`` and ``goal`` bound ``ratio`` (or, with a ``unit``, the measured value
    itself, in that unit); a row without a bar is shown for information.
    """

    measures: str
    value: str
    against: str
    against_value: str
    ratio: float
    bar: float | None = None
    goal: float | None = None
    unit: str = ""
    checked: float | None = None

    @property
    def verdict(self) -> str:
        if self.bar is None:
            return "info"
        judged = self.ratio if self.checked is None else self.checked
        if self.goal is not None and judged <= self.goal:
            return "PASS (goal)"
        return "PASS" if judged <= self.bar else "FAIL"

    def limit(self, value: float | None) -> str:
        if value is None:
            return "-"
        return f"<= {value:g} {self.unit}" if self.unit else f"<= {value:g}x"


def machine() -> str:
    """CPU, cores, Python and OS, for the line above the table."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()} "
        f"({sys.implementation.name}); {platform.system()} {platform.release()}"
    )


def table(rows: list[Row]) -> str:
    head = ("measurement", "value", "compared with", "value", "ratio", "bar", "goal", "result")
    cells = [
        (r.measures, r.value, r.against, r.against_value, "-" if math.isnan(r.ratio) else f"{r.ratio:.2f}x",
         r.limit(r.bar), r.limit(r.goal),
         r.verdict)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *cells]) for i in range(len(head))]
    right = {1, 3, 4}

    def fmt(line: tuple[str, ...]) -> str:
        return "  ".join(
            cell.rjust(width) if i in right else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(line, widths, strict=True))
        ).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([fmt(head), rule, *map(fmt, cells)])
