"""Schemathesis against the app's own OpenAPI schema, as a reviewer and as an officer:
no 5xx, and no response that breaks its documented schema."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.app import create_app
from tests.accounts import bearer, make_user

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app())
CHECKS = [not_a_server_error, response_schema_conformance]
FUZZ = settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def tokens(app):
    """`app` migrates the session database first."""
    _, reviewer = make_user(roles=["reviewer"], badge="fz-1")
    _, officer = make_user(roles=["officer"], badge="fz-2")
    return {"reviewer": reviewer, "officer": officer}


@schema.parametrize()
@FUZZ
def test_as_reviewer(case, tokens):
    case.call_and_validate(headers=bearer(tokens["reviewer"]), checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_as_officer(case, tokens):
    case.call_and_validate(headers=bearer(tokens["officer"]), checks=CHECKS)
