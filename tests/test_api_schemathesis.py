"""Property-based API tests: generated requests against /api/v1/openapi.json never get a 5xx,
and every response matches the schema the document promises.

Three phases, as schemathesis' own runner has them (its pytest plugin does not run on
pytest 9 yet, so we drive its generators directly):

- coverage: for each operation, the boundary and just-outside-the-boundary values of every
  parameter and body field (missing required fields, wrong types, min/max +- 1, ...);
- fuzzing: `FUZZ_EXAMPLES` generated requests per operation that follow the schema and as
  many that break it;
- stateful: chains of calls following the links schemathesis infers (create a group, then
  read, patch and delete it by the id in the answer).

Together about 10,000 requests in well under a minute on SQLite.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance
from schemathesis.generation.modes import GenerationMode
from schemathesis.generation.stateful import run_state_machine_as_test

from crm import create_app
from crm.extensions import db
from tests.conftest import Factory, make_config

try:
    from crm.users.services import issue_token
except ImportError:  # tokens were issued by the API layer before
    from crm.api.auth import issue_token

TOKEN: dict[str, str] = {}
FUZZ_EXAMPLES = 25  # per operation and per mode (positive, negative)
STATEFUL_SCENARIOS, STATEFUL_STEPS = 50, 6
CHECKS = [not_a_server_error, response_schema_conformance]
MODES = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
QUIET = settings(deadline=None, database=None, derandomize=True,
                 suppress_health_check=list(HealthCheck))


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKEN['admin']}"}


@pytest.fixture(scope="module")
def api_schema():
    """A separate SQLite app with a little of everything, and an admin's bearer token."""
    app = create_app(make_config("sqlite"))
    ctx = app.app_context()
    ctx.push()
    db.create_all()
    make = Factory()
    beat = make.beat("0111")
    admin = make.user("apiadmin", role="admin", beats=[beat])
    officer = make.user("apiofficer", beats=[beat])
    a, b = make.group("Alpha Tenants", beats=[beat]), make.group("Bravo Church", beats=[beat])
    people = [make.stakeholder(f"Person {i}", phone=f"555-010{i}") for i in range(3)]
    for p in people:
        make.membership(p, a)
    make.membership(people[0], b)
    make.contact(officer, groups=[a], stakeholders=[people[0]],
                 occurred_at=datetime.utcnow() - timedelta(days=3),
                 follow_up_on=datetime.utcnow().date())
    _, TOKEN["admin"] = issue_token(admin, admin, "schemathesis")
    db.session.commit()
    yield schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app,
                                         headers={"Authorization": f"Bearer {TOKEN['admin']}"})
    db.session.remove()
    ctx.pop()


def _operations(api_schema) -> list:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20, "the document should describe the whole API"
    return operations


def _first_line(e: Exception) -> str:
    return str(e)[:600]


def test_coverage_phase_boundary_values_never_fail(api_schema):
    """Every operation with the values at and just past each documented bound."""
    failures, calls = [], 0
    for op in _operations(api_schema):
        config = api_schema.config.generation_for(operation=op)
        for case in api_schema.iter_coverage_cases(op, generation_modes=MODES,
                                                   generation_config=config):
            calls += 1
            try:
                case.call_and_validate(headers=_headers(), checks=CHECKS)
            except Exception as e:  # collect every broken operation, not just the first
                failures.append(f"{op.method.upper()} {op.path}: {_first_line(e)}")
    assert calls > 1000
    assert not failures, "\n\n".join(failures[:20])


def test_fuzzing_phase_never_fails_and_keeps_the_schema(api_schema):
    """Every operation, FUZZ_EXAMPLES requests that follow its schema and as many that don't."""
    failures = []
    for op in _operations(api_schema):
        for mode in MODES:

            @settings(QUIET, max_examples=FUZZ_EXAMPLES)
            @given(case=op.as_strategy(generation_mode=mode))
            def run(case):
                case.call_and_validate(headers=_headers(), checks=CHECKS)

            try:
                run()
            except Exception as e:
                failures.append(f"{op.method.upper()} {op.path} ({mode}): {_first_line(e)}")
    assert not failures, "\n\n".join(failures)


def test_stateful_phase_chains_of_calls_never_fail(api_schema):
    """Scenarios that create records and use the ids they get back in the next calls."""

    class Workflow(api_schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": _headers()}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    run_state_machine_as_test(Workflow, settings=settings(
        QUIET, max_examples=STATEFUL_SCENARIOS, stateful_step_count=STATEFUL_STEPS))
