"""Every declared workflow names only automatic actions that exist. The workflows are found the
way the portal finds them, by importing the domain's modules (each registers its own), so a
new case type's workflow is checked without being listed here."""
from __future__ import annotations

import importlib
import pkgutil

import pytest

import referendum_core
from referendum_core.cases.lifecycle import EFFECTS
from referendum_core.cases.models import CaseType
from referendum_core.cases.workflows import REGISTRY, Party, State, Transition, Workflow


def _declared_workflows() -> list[Workflow]:
    for module in pkgutil.walk_packages(referendum_core.__path__, "referendum_core."):
        importlib.import_module(module.name)
    return REGISTRY.all()


def unimplemented(workflow: Workflow) -> list[str]:
    """The names ``workflow`` declares that nothing implements: effects on opening and on
    transitions (``EFFECTS``) and the moves a passed deadline makes."""
    missing = [f"on_open {name}" for name in workflow.on_open if name not in EFFECTS]
    missing += [f"{move.name} effect {name}" for move in workflow.transitions
                for name in move.effects if name not in EFFECTS]
    missing += [f"{state.name} on_deadline {state.on_deadline}" for state in workflow.states
                if state.on_deadline is not None
                and workflow.find(state.name, state.on_deadline) is None]
    return missing


WORKFLOWS = _declared_workflows()


def test_every_case_type_has_a_declared_workflow():
    assert {w.case_type for w in WORKFLOWS} == set(CaseType)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.case_type)
def test_every_effect_a_workflow_names_is_implemented(workflow):
    assert unimplemented(workflow) == []


def test_a_workflow_naming_a_missing_effect_is_reported():
    workflow = Workflow(
        case_type="test_missing_effect", initial="open",
        states=(State("open", Party.COMMISSION), State("done", Party.COMMISSION, is_final=True)),
        transitions=(Transition("close", ("open",), "done", frozenset({Party.COMMISSION}),
                                effects=("no_such_effect",)),),
        on_open=("route_to_station_commission", "nor_this_one"))
    assert unimplemented(workflow) == ["on_open nor_this_one", "close effect no_such_effect"]
