"""Declared workflows: coherent data, the registry, and who may make which move."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referendum_core.cases.exceptions import UnknownCaseType
from referendum_core.cases.models import CaseType
from referendum_core.cases.workflows import (
    COMMISSION_QUERY,
    COMPLAINT,
    OBSERVER_REPORT,
    REGISTRY,
    Party,
    State,
    Transition,
    Workflow,
    WorkflowRegistry,
    diagram_layout,
)

WORKFLOWS = [OBSERVER_REPORT, COMPLAINT, COMMISSION_QUERY]


def test_case_type_names_exist_for_other_modules_to_register():
    assert {"initiative", "referendum", "home_voting"} <= {t.value for t in CaseType}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.case_type)
def test_built_in_workflows_are_registered_and_coherent(workflow):
    assert REGISTRY.get(workflow.case_type) is workflow
    workflow.validate()
    reachable = set(diagram_layout(workflow))
    assert reachable == {s.name for s in workflow.states}
    assert workflow.final_states


def test_observer_report_states_follow_the_issue():
    names = [s.name for s in OBSERVER_REPORT.states]
    for state in ("submitted", "triaged", "investigating", "resolved", "dismissed"):
        assert state in names
    assert OBSERVER_REPORT.final_states == {"resolved", "dismissed"}
    assert OBSERVER_REPORT.on_open == ("route_to_station_commission",)


def test_only_the_commission_triages_and_only_the_requester_resubmits():
    triage = OBSERVER_REPORT.find("submitted", "triage")
    assert triage is not None and triage.parties == {Party.COMMISSION}
    assert OBSERVER_REPORT.allowed("submitted", {Party.REQUESTER}) == []
    assert [t.name for t in OBSERVER_REPORT.allowed("awaiting_information", {Party.REQUESTER})] \
        == ["resubmit"]


def test_complaint_decision_is_the_chairs_and_court_window_closes_by_itself():
    assert COMPLAINT.find("under_review", "uphold").parties == {Party.CHAIR}
    assert COMPLAINT.find("under_review", "uphold").parties.isdisjoint({Party.COMMISSION})
    assert COMPLAINT.state("decided").on_deadline == "close_unappealed"
    assert Party.SYSTEM in COMPLAINT.find("decided", "close_unappealed").parties


def test_commission_query_goes_to_cvk():
    assert COMMISSION_QUERY.state("submitted").owner == Party.CVK
    assert COMMISSION_QUERY.find("submitted", "answer").parties == {Party.CVK}


def test_registry_refuses_a_second_workflow_for_a_type_and_unknown_types():
    registry = WorkflowRegistry()
    registry.register(OBSERVER_REPORT)
    registry.register(OBSERVER_REPORT)  # same declaration: harmless
    other = Workflow("observer_report", (State("a", Party.COMMISSION),), "a", ())
    with pytest.raises(ValueError, match="already registered"):
        registry.register(other)
    with pytest.raises(UnknownCaseType):
        registry.get("nothing")


def test_another_module_can_declare_and_register_a_workflow():
    registry = WorkflowRegistry()
    wf = registry.register(Workflow(
        "home_voting", (State("requested", Party.COMMISSION), State("visited", Party.COMMISSION,
                                                                       is_final=True)),
        "requested", (Transition("visit", ("requested",), "visited", frozenset({Party.COMMISSION})),),
    ))
    assert registry.get("home_voting") is wf


@pytest.mark.parametrize("bad", [
    dict(initial="nowhere"),
    dict(transitions=(Transition("x", ("done",), "open", frozenset({Party.CVK})),)),
    dict(transitions=(Transition("x", ("open",), "missing", frozenset({Party.CVK})),)),
    dict(transitions=(Transition("x", ("open",), "done", frozenset()),)),
    dict(states=(State("open", Party.CVK, on_deadline="x"), State("done", Party.CVK, is_final=True)),
         transitions=(Transition("x", ("open",), "done", frozenset({Party.CVK})),)),
])
def test_incoherent_declarations_are_refused(bad):
    args = dict(case_type="t", initial="open",
                states=(State("open", Party.CVK), State("done", Party.CVK, is_final=True)),
                transitions=(Transition("x", ("open",), "done", frozenset({Party.CVK})),))
    args.update(bad)
    with pytest.raises(ValueError):
        Workflow(**args)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(WORKFLOWS),
       st.lists(st.tuples(st.integers(0, 20), st.sets(st.sampled_from(list(Party)))),
                max_size=25))
def test_random_moves_only_ever_reach_declared_states(workflow, moves):
    state = workflow.initial
    for pick, parties in moves:
        options = workflow.allowed(state, parties)
        assert all(t.parties & parties for t in options)
        if not options:
            continue
        move = options[pick % len(options)]
        assert not workflow.state(state).is_final
        state = move.target
        assert state in {s.name for s in workflow.states}


def test_a_move_with_a_service_of_its_own_is_not_requestable_and_names_a_real_service():
    import referendum_core.voting  # noqa: F401 — registers the referendum and home-voting workflows
    from referendum_core import initiatives, signatures
    from referendum_core.voting import counting, home_voting, preparation, results

    modules = (initiatives, signatures, preparation, counting, results, home_voting)
    own = [(w, t) for w in REGISTRY.all() for t in w.transitions if t.made_by is not None]
    assert {t.name for _w, t in own} >= {"approve", "apply", "open_voting", "approve_results"}
    for workflow, move in own:
        assert any(callable(getattr(m, move.made_by, None)) for m in modules), move.made_by
        every_party = frozenset(Party)
        for source in move.sources:
            assert move in workflow.allowed(source, every_party)
            assert move not in workflow.requestable(source, every_party)
    for workflow in WORKFLOWS:  # the filed types have no such step: every move is requestable
        for state in workflow.states:
            assert workflow.requestable(state.name, Party) == workflow.allowed(state.name, Party)
