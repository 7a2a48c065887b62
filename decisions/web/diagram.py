"""A workflow as server-rendered SVG, its current state highlighted: states in layers by their
distance from the initial state (breadth-first), left to right within a layer (a wide layer wrapped
onto rows of `PER_ROW`, so that the drawing scales to its box and stays legible), each label on up
to two lines (the full label as its tooltip), edges as straight lines with their trigger's label as
a tooltip. A layout of our own (no Graphviz on the server, no
script in the browser): good enough to see where a case stands; Mermaid/DOT text stays in
`decisions.workflow.diagram` for publication-quality drawings."""

from __future__ import annotations

from collections import deque
from xml.sax.saxutils import escape, quoteattr

from decisions.workflow.definition import WorkflowDef

__all__ = ["workflow_svg"]

W, H, GAP_X, GAP_Y, PAD = 150, 44, 24, 36, 10
PER_ROW = 3  # states side by side: three fit a half-page box at about their natural size
FONT = 13
LINE = W - 12  # the width a label line may take


def _layers(wf: WorkflowDef) -> list[list[str]]:
    depth = {wf.initial: 0}
    queue = deque([wf.initial])
    while queue:
        s = queue.popleft()
        for t in wf.transitions_from(s):
            if t.dest not in depth:
                depth[t.dest] = depth[s] + 1
                queue.append(t.dest)
    last = max(depth.values(), default=0)
    for s in wf.states:  # unreachable states (none in a checked workflow) go last
        depth.setdefault(s, last + 1)
    layers: list[list[str]] = [[] for _ in range(max(depth.values()) + 1)]
    for s in wf.states:
        layers[depth[s]].append(s)
    return [layer[i : i + PER_ROW] for layer in layers for i in range(0, len(layer), PER_ROW)]


def _width(text: str) -> float:
    """The drawn width of ``text`` at `FONT`: a Chinese character is about one em, others about 0.6."""
    return sum(FONT if ord(c) > 0x2E80 else FONT * 0.6 for c in text)


def _lines(label: str, lines: int = 2) -> list[str]:
    """``label`` broken onto at most ``lines`` lines that fit a box (at a space where there is one),
    the last cut with an ellipsis when it does not fit."""
    out: list[str] = []
    rest = label
    while rest and len(out) < lines:
        if _width(rest) <= LINE:
            out.append(rest)
            return out
        cut = len(rest)
        while cut > 1 and _width(rest[:cut]) > LINE:
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0 and " " in rest[: cut + 1]:
            cut = space
        out.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        last = out[-1]
        while last and _width(last + "…") > LINE:
            last = last[:-1]
        out[-1] = last + "…"
    return out


def workflow_svg(wf: WorkflowDef, current: str, lang: str = "zh") -> str:
    """The diagram as an SVG element (text escaped; no script, no style attribute)."""
    layers = _layers(wf)
    widest = max(len(layer) for layer in layers)
    width = PAD * 2 + widest * W + (widest - 1) * GAP_X
    height = PAD * 2 + len(layers) * H + (len(layers) - 1) * GAP_Y
    at: dict[str, tuple[int, int]] = {}
    for row, layer in enumerate(layers):
        offset = (width - (len(layer) * W + (len(layer) - 1) * GAP_X)) // 2
        for col, s in enumerate(layer):
            at[s] = (offset + col * (W + GAP_X), PAD + row * (H + GAP_Y))
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram" viewBox="0 0 {width} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMin meet" role="img" aria-label={quoteattr(wf.label.pick(lang))}>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#667"/></marker></defs>',
    ]
    for t in wf.transitions:
        (x1, y1), (x2, y2) = at[t.source], at[t.dest]
        if t.source == t.dest:
            continue
        sy, ey = (y1 + H, y2) if y2 > y1 else (y1, y2 + H)
        out.append(
            f'<line x1="{x1 + W // 2}" y1="{sy}" x2="{x2 + W // 2}" y2="{ey}" stroke="#99a" '
            f'marker-end="url(#arrow)"><title>{escape(t.label.pick(lang))}</title></line>'
        )
    for s, (x, y) in at.items():
        state = wf.states[s]
        lit = s == current
        cls = "state current" if lit else "state final" if state.final else "state"
        fill, stroke = ("#ffe08a", "#b8860b") if lit else ("#eef2f7", "#556")
        label = state.label.pick(lang)
        lines = _lines(label)
        first = y + H // 2 + 5 - (len(lines) - 1) * (FONT + 2) // 2
        text = "".join(
            f'<tspan x="{x + W // 2}" y="{first + n * (FONT + 2)}">{escape(line)}</tspan>'
            for n, line in enumerate(lines)
        )
        bold = ' font-weight="bold"' if lit else ""
        out.append(
            f'<g class="{cls}" data-state={quoteattr(s)}><title>{escape(label)}</title>'
            f'<rect x="{x}" y="{y}" width="{W}" height="{H}" rx="6" fill="{fill}" stroke="{stroke}" '
            f'stroke-width="{3 if lit else 1}"/>'
            f'<text x="{x + W // 2}" text-anchor="middle" font-size="{FONT}"{bold}>{text}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)
