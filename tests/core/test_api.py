"""API plumbing shared by every endpoint (API.md "Basics")."""

import pytest
from rest_framework.test import APIClient

from core.events import event_record
from core.models import Severity
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_it_gives_a_token_for_good_credentials(admin, anonymous_api):
    response = anonymous_api.post("/api/v1/auth/token/", {"username": "admin", "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/jobs/").status_code == 200


def test_it_refuses_bad_credentials_with_400(admin, anonymous_api):
    response = anonymous_api.post("/api/v1/auth/token/", {"username": "admin", "password": "nope"}, format="json")
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


@pytest.mark.parametrize("path", ["/api/v1/jobs/", "/api/v1/events/", "/api/v1/hosts/", "/api/v1/datacenters/"])
def test_it_requires_authentication(anonymous_api, path):
    assert anonymous_api.get(path).status_code in (401, 403)


def test_it_paginates_lists_with_limit_and_offset(api, admin):
    for n in range(5):
        event_record(code="test.event", message=f"event {n}", user=admin)
    body = api.get("/api/v1/events/?limit=2&offset=1").json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert "offset=3" in body["next"]
    assert body["previous"] is not None


def test_it_filters_events_by_severity_and_searches_messages(api, admin):
    event_record(code="a", message="disk copied", user=admin)
    event_record(code="b", message="host lost", severity=Severity.ERROR, user=admin)
    assert [e["message"] for e in api.get("/api/v1/events/?severity=error").json()["results"]] == ["host lost"]
    assert [e["message"] for e in api.get("/api/v1/events/?q=disk").json()["results"]] == ["disk copied"]


def test_it_shows_a_user_only_their_own_events(alice, charlie):
    event_record(code="a", message="alice did it", user=alice)
    client = APIClient()
    client.force_authenticate(charlie)
    assert client.get("/api/v1/events/").json()["count"] == 0


def test_it_answers_404_as_json_for_a_missing_object(api):
    response = api.get("/api/v1/jobs/999999/")
    assert response.status_code == 404
    assert "detail" in response.json()


def test_it_serves_the_openapi_schema_and_docs(api):
    schema = api.get("/api/v1/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/hosts/" in schema.content
    assert api.get("/api/v1/docs/").status_code == 200


def test_it_builds_the_openapi_schema_without_warnings():
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
