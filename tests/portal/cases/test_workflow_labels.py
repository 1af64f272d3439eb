"""Every state and move of every registered workflow has a translated name: the case filters and
timelines never show a raw code such as ``scheduled`` on a Latvian page."""
import importlib
import pkgutil

import referendum_core
from portal.cases.labels import STATES, TRANSITIONS
from referendum_core.cases import workflows


def test_every_workflow_state_and_move_has_a_label():
    for module in pkgutil.walk_packages(referendum_core.__path__, "referendum_core."):
        if "._vendor" not in module.name:
            importlib.import_module(module.name)
    registries = [v for v in vars(workflows).values() if isinstance(v, workflows.WorkflowRegistry)]
    missing = [(wf.case_type, name) for registry in registries
               for wf in registry._workflows.values()
               for name in [s.name for s in wf.states] + [t.name for t in wf.transitions]
               if name not in STATES and name not in TRANSITIONS]
    assert missing == []
