"""Schemathesis against the case API's own OpenAPI document, through the WSGI app (no network),
authenticated with a service token: no 500s, and every answer conforms to the schema.

Bounded: ``MAX_EXAMPLES`` generated requests per operation, positive and negative data."""
from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security.matrix_support import build_world

MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance,
          content_type_conformance]


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE,
                                  schemathesis.GenerationMode.NEGATIVE])
def test_case_api_conforms_to_its_schema(app, db_session, clock, keys, people, connection, mode):
    world = build_world(app, db_session, clock, keys, people)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {world.service_token}"}
    known = {"case_id": world.values["case_id"]}
    operations = _operations(schema)
    assert {op.label for op in operations} >= {"GET /cases", "POST /cases",
                                                "GET /cases/{case_id}"}
    failures: list[str] = []
    for operation in operations:
        path_parameters = {k: v for k, v in known.items() if k in operation.path}

        @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode)
               if mode == schemathesis.GenerationMode.NEGATIVE or not path_parameters
               else operation.as_strategy(path_parameters=path_parameters))
        def run(case: Any) -> None:
            label = case.operation.label
            savepoint = connection.begin_nested()
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except Exception as exc:  # collect, so one report names every failing operation
                failures.append(f"{label}: {type(exc).__name__}: "
                                f"{str(exc).splitlines()[0:6]}")
            finally:
                if savepoint.is_active:
                    savepoint.rollback()

        run()
    assert not failures, "\n".join(sorted(set(failures)))
