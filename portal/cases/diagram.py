"""The workflow diagram on the case page: geometry computed from the declared workflow, drawn
by ``templates/cases/_diagram.html`` as inline SVG (no script, no inline style)."""
from __future__ import annotations

from dataclasses import dataclass

from portal.cases.labels import STATES, TRANSITIONS, label
from referendum_core.cases.workflows import Workflow, diagram_layout

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 170, 44, 60, 18, 10


@dataclass(frozen=True)
class Box:
    name: str
    label: str
    x: int
    y: int
    is_current: bool
    is_final: bool


@dataclass(frozen=True)
class Arrow:
    name: str
    label: str
    path: str
    is_available: bool


@dataclass(frozen=True)
class Diagram:
    width: int
    height: int
    boxes: list[Box]
    arrows: list[Arrow]
    box_w: int = BOX_W
    box_h: int = BOX_H


def build(workflow: Workflow, current: str, available: set[str]) -> Diagram:
    """Boxes per state (column = distance from the start) and one arrow per declared move."""
    layout = diagram_layout(workflow)
    pos = {name: (PAD + col * (BOX_W + GAP_X), PAD + row * (BOX_H + GAP_Y))
           for name, (col, row) in layout.items()}
    boxes = [Box(s.name, label(STATES, s.name), *pos[s.name], s.name == current, s.is_final)
             for s in workflow.states]
    arrows = []
    for t in workflow.transitions:
        for source in t.sources:
            (sx, sy), (tx, ty) = pos[source], pos[t.target]
            if tx > sx:  # forward: right edge to left edge
                x1, y1, x2, y2 = sx + BOX_W, sy + BOX_H // 2, tx, ty + BOX_H // 2
                mid = (x1 + x2) // 2
                path = f"M{x1},{y1} C{mid},{y1} {mid},{y2} {x2 - 2},{y2}"
            else:  # backward or same column: loop below the boxes
                x1, y1 = sx + BOX_W // 2 - 12, sy + BOX_H
                x2, y2 = tx + BOX_W // 2 + 12, ty + BOX_H
                depth = max(y1, y2) + GAP_Y + 6
                path = f"M{x1},{y1} C{x1},{depth} {x2},{depth} {x2},{y2 + 2}"
            arrows.append(Arrow(t.name, label(TRANSITIONS, t.name), path,
                                source == current and t.name in available))
    width = max(x for x, _ in pos.values()) + BOX_W + PAD
    height = max(y for _, y in pos.values()) + BOX_H + PAD + GAP_Y + 8
    return Diagram(width, height, boxes, arrows)
