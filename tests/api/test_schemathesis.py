"""Schemathesis against the OpenAPI schema the site serves (/api/schema/), inside the test suite: every
operation, a bounded number of generated requests each, sent under three roles (a participant who is
also an author, a chair who organises the challenge, a device host), every check on — no server error,
status codes, content types and response bodies all as documented."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import SchemathesisConfig

from evaluation.tokens import device_host_token
from tests.factories import (
    ChallengeFactory,
    MembershipFactory,
    PaperFactory,
    TeamFactory,
    WorkshopFactory,
    api_token,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def role_headers(make_user):
    """The three roles' Authorization headers: a participant in a team (and author of a paper), a chair
    of the edition (so organiser of its challenge), a device host. Requests run in this test's
    transaction (as with Django's test client, the connection is not closed after each request)."""
    workshop = WorkshopFactory(slug="mai-schema")
    challenge = ChallengeFactory(workshop=workshop, slug="denoise")
    participant, chair = make_user(email="pat@team.example"), make_user(email="chad@chairs.example")
    TeamFactory(challenge=challenge, name="Night Owls", members=[participant])
    MembershipFactory(workshop=workshop, user=chair, role="chair")
    PaperFactory(workshop=workshop, number=1, submitter=participant)
    headers = [
        {"Authorization": f"Token {api_token(participant)}"},
        {"Authorization": f"Token {api_token(chair)}"},
        {"Authorization": f"Device {device_host_token('schema-host')}"},
    ]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield headers
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _schema():
    from config.wsgi import application

    # Fetched from the site itself, as a client gets it (pytest-django has set Django up by collection).
    # Fuzzing and the schema's examples only: the coverage phase's boundary cases are not bounded by
    # `max_examples` (they run to hundreds per operation).
    config = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
    return schemathesis.openapi.from_wsgi("/api/schema/?format=json", application, config=config)


schema = _schema()


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_its_schema_says(case, role_headers):
    for headers in role_headers:
        case.call_and_validate(headers=headers, checks=CHECKS)
