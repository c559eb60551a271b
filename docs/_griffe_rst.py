"""A griffe extension for the API reference: reads deescalate's reST-flavoured docstrings.

The docstrings are written for ``help()`` and editors, in the reStructuredText
habits of the Python world; mkdocstrings renders Markdown. This extension rewrites,
for the site only, the three reST forms the docstrings use:

* roles such as :class:`~deescalate.RuleError` become code, linked to the object's
  entry when the site documents it (an optional cross-reference: no warning when not);
* a paragraph ending in ``::`` loses one colon (the indented block after it is
  already a code block in Markdown);
* definition lists (a term, then its definition indented below it) become Markdown
  definition lists (the ``def_list`` extension of mkdocs.yml).

It also drops the package's own docstring, which would repeat on each API page.

mkdocs.yml loads it (``extensions: [docs/_griffe_rst.py:ReSTDocstrings]``) and keeps it out of the
site (``exclude_docs``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_ROLE = re.compile(r":(?:class|func|meth|attr|data|exc|mod|obj):`(~?)([\w.]+)(?:\(\))?`")


def _roles(text: str, module: str) -> str:
    def link(match: re.Match[str]) -> str:
        short, target = match.group(1) == "~", match.group(2)
        shown = target.rsplit(".", 1)[-1] if short else target
        identifier = target if target.startswith("deescalate") else f"{module}.{target}"
        return f'<autoref identifier="{identifier}" optional><code>{shown}</code></autoref>'

    return _ROLE.sub(link, text)


_LIST_ITEM = re.compile(r"\s*(?:[*+-]|\d+[.)])\s")


def _blocks(text: str) -> str:
    """Literal blocks (``::``) and definition lists, from reST to Markdown."""
    lines = text.split("\n")
    out: list[str] = []
    state = "text"  # or "literal" (the block after "::"), "term" (a term just written), "definition"
    for n, line in enumerate(lines):
        following = lines[n + 1] if n + 1 < len(lines) else ""
        indented = line.startswith("    ")
        if state == "literal" and (indented or not line.strip()):
            out.append(line)
            continue
        if state == "term":
            out.append(":   " + line[4:])
            state = "definition"
            continue
        if state == "definition" and (indented or not line.strip()):
            out.append(line)
            continue
        state = "text"
        if line.rstrip().endswith("::"):
            kept = line.rstrip()[:-1]
            out.append("" if kept.strip() == ":" else kept)
            state = "literal"
            continue
        if (
            line.strip()
            and not indented
            and following.startswith("    ")
            and following.strip()
            and not _LIST_ITEM.match(line)
        ):
            if out and out[-1].strip():
                out.append("")  # a definition list's entry is a block of its own
            out.append(line)
            state = "term"
            continue
        out.append(line)
    return "\n".join(out)


class ReSTDocstrings(griffe.Extension):
    """Rewrite each docstring's reST roles, literal-block markers and definition lists.

    The package's own docstring (an overview for ``help(deescalate)``) is dropped: the
    API pages render ``::: deescalate`` once per group of names, and each page has
    its own introduction.
    """

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.path == "deescalate":
            obj.docstring = None
        docstring = obj.docstring
        if docstring is None:
            return
        module = obj.module.path if not obj.is_module else obj.path
        docstring.value = _blocks(_roles(docstring.value, module))
