"""The complaint log: what happened across many interactions, and which mistakes keep happening.

An outer layer over the core (which never imports it). :func:`report_transcripts`
reviews transcript files in parallel worker processes; :func:`report_store`
aggregates a store's tables in SQL. Both give a :class:`Report`, a value of counts
that merges (the report over a corpus is the merge of the reports over its
parts), rendered by :func:`format_text`, :func:`to_dict` (JSON) and
:func:`format_html` (one self-contained page, charts drawn by matplotlib: the
``report`` extra). ``deescalate report`` is the command; see
docs/how-to/complaint-log.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._aggregate import (
    FAULTS,
    KINDS,
    OUTCOMES,
    TIMES,
    Builder,
    Counts,
    KindCounts,
    Report,
    RootCause,
    TimeStats,
    Walk,
    cause_key,
    walk,
    week_of,
)
from ._corpus import sample_transcript, write_sample_corpus
from ._errors import ReportError, StoreUnreadable
from ._export import COLUMNS, TABLES
from ._json import REPORT_FORMAT, REPORT_VERSION, to_dict
from ._text import format_text
from ._transcripts import report_transcripts

if TYPE_CHECKING:
    from ._html import format_html
    from ._sql import report_store

__all__ = [
    "COLUMNS",
    "FAULTS",
    "KINDS",
    "OUTCOMES",
    "REPORT_FORMAT",
    "REPORT_VERSION",
    "TABLES",
    "TIMES",
    "Builder",
    "Counts",
    "KindCounts",
    "Report",
    "ReportError",
    "RootCause",
    "StoreUnreadable",
    "TimeStats",
    "Walk",
    "cause_key",
    "format_html",
    "format_text",
    "report_store",
    "report_transcripts",
    "sample_transcript",
    "to_dict",
    "walk",
    "week_of",
    "write_sample_corpus",
]


def __getattr__(name: str) -> Any:
    """``format_html`` (matplotlib) and ``report_store`` (SQLAlchemy), imported when first asked for."""
    if name == "format_html":
        from ._html import format_html

        return format_html
    if name == "report_store":
        from ._sql import report_store

        return report_store
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
