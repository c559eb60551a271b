"""Diagrams of the stage graph, drawn by transitions from the same table as the engine.

``render_diagram`` builds a diagram Machine from the very configuration the shared
stage Machine is built from (``_machine.machine_config``), adds the policy's rule
ids as the conditions of the transitions they guard, and lets transitions' diagram
support write Mermaid or Graphviz DOT text. The picture cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

from ._errors import ArgumentTypeError, ArgumentValueError, DeescalateError, describe
from ._machine import machine_config
from ._policy import Policy

FORMATS = ("mermaid", "dot")


def render_diagram(
    policy: Policy | None = None, format: str = "mermaid", internal: bool = False
) -> str:
    """The stage graph as Mermaid (default) or DOT source text.

    With a ``policy``, each transition is labelled with the ids of the rules that
    judge its event. Transitions that keep the stage (``internal``) are left out
    unless asked for, to keep the picture readable.
    """
    if not isinstance(format, str):
        raise ArgumentTypeError("format", f"must be the string mermaid or dot, got {describe(format)}")
    if format not in FORMATS:
        raise ArgumentValueError("format", f"must be mermaid or dot, got {describe(format)}")
    if policy is not None and not isinstance(policy, Policy):
        raise ArgumentTypeError("policy", f"must be a Policy or None, got {describe(policy)}")
    if format == "dot":
        try:
            import graphviz  # noqa: F401
        except ImportError:
            raise DeescalateError(
                "DOT output needs the graphviz package: pip install 'deescalate-fsm[dot]'"
            ) from None
    from transitions.extensions import GraphMachine

    config: dict[str, Any] = machine_config()
    moves = []
    for move in config["transitions"]:
        if move["dest"] is None and not internal:
            continue
        guards = list(move["conditions"])
        if policy is not None:
            guards += [rule.id for rule in policy.rules_for(move["trigger"])]
        moves.append({**move, "conditions": guards})
    config["transitions"] = moves
    title = f"deescalate stages ({policy.name})" if policy is not None else "deescalate stages"
    machine = GraphMachine(
        model=None,
        title=title,
        show_conditions=policy is not None or internal,
        graph_engine="graphviz" if format == "dot" else "mermaid",
        **config,
    )
    graph: Any = machine.graph_cls(machine).get_graph(title=title)
    source = str(graph.source).rstrip("\n") + "\n"
    if format == "mermaid":
        # transitions writes the front matter as a bare title line; Mermaid wants `title:`.
        source = source.replace(f"---\n{title}\n---\n", f"---\ntitle: {title}\n---\n", 1)
    return source
