"""Diagrams of a workflow as text: Mermaid ``stateDiagram-v2`` and Graphviz DOT. Pure.

Every edge whose transition checks a gate rule is labelled with that rule, so a reader sees at a
glance where the hard gates sit.
"""

from __future__ import annotations

from decisions.workflow.definition import TransitionDef, WorkflowDef

__all__ = ["to_dot", "to_mermaid"]


def _gate_rules(wf: WorkflowDef, t: TransitionDef) -> list[str]:
    gate_rules = {g.rule for g in wf.gates.values()}
    return [r for r in t.rules if r in gate_rules]


def _edge_label(wf: WorkflowDef, t: TransitionDef) -> str:
    gates = _gate_rules(wf, t)
    return t.trigger + (f" [gate: {', '.join(gates)}]" if gates else "")


def _quote(text: str) -> str:
    return text.replace('"', "'").replace("\n", " ")


def to_mermaid(wf: WorkflowDef) -> str:
    lines = ["stateDiagram-v2", f"    %% {wf.name} {wf.version}: {wf.label.zh} / {wf.label.en}"]
    for s in wf.states.values():
        stage = wf.stages[s.stage].label
        mark = " ✔" if s.approval else ""
        lines.append(f'    state "{_quote(s.label.zh)} / {_quote(s.label.en)}{mark} ({_quote(stage.en)})" as {s.id}')
    lines.append(f"    [*] --> {wf.initial}")
    for t in wf.transitions:
        lines.append(f"    {t.source} --> {t.dest}: {_quote(_edge_label(wf, t))}")
    for s in wf.states.values():
        if s.final:
            lines.append(f"    {s.id} --> [*]")
    return "\n".join(lines) + "\n"


def to_dot(wf: WorkflowDef) -> str:
    lines = [
        f'digraph "{wf.name}" {{',
        f'    label="{_quote(wf.label.zh)} / {_quote(wf.label.en)} {wf.version}";',
        "    rankdir=TB; node [shape=box, style=rounded];",
    ]
    for stage in wf.stages.values():
        members = [s for s in wf.states.values() if s.stage == stage.id]
        if not members:
            continue
        lines.append(f'    subgraph "cluster_{stage.id}" {{')
        lines.append(f'        label="{_quote(stage.label.zh)} / {_quote(stage.label.en)}";')
        for s in members:
            shape = ", peripheries=2" if s.final else ""
            bold = ", penwidth=2, color=darkgreen" if s.approval else ""
            lines.append(f'        "{s.id}" [label="{_quote(s.label.zh)}\\n{_quote(s.label.en)}"{shape}{bold}];')
        lines.append("    }")
    lines.append('    "__start" [shape=point]; ' + f'"__start" -> "{wf.initial}";')
    for t in wf.transitions:
        style = ", color=red, fontcolor=red, penwidth=2" if _gate_rules(wf, t) else ""
        lines.append(f'    "{t.source}" -> "{t.dest}" [label="{_quote(_edge_label(wf, t))}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"
