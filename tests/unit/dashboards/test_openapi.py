"""openapi.yaml and the dashboards service's routes describe the same API."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from factoryhub.dashboards import api, schemas
from tests.harness.openapi import body_matches, catch_all_comes_last, documented, served

SPEC = yaml.safe_load((Path(api.__file__).with_name("openapi.yaml")).read_text())


def test_every_route_is_documented_and_every_documented_route_served():
    assert served(api.routes("/p/", parts=None), "/p/api/v1") == documented(SPEC)


def test_paths_no_route_serves_are_the_catch_alls_json_404():
    catch_all_comes_last(api.routes("/p/", parts=None), "/p/api/v1")


def test_every_operation_documents_401_and_404_where_they_can_happen():
    for path, item in SPEC["paths"].items():
        for operation in (v for k, v in item.items() if k != "parameters"):
            if operation.get("security", SPEC["security"]):
                assert "401" in operation["responses"], path
            if "{" in path:
                assert "404" in operation["responses"], path


@pytest.mark.parametrize("schema, model", [("DashboardCreate", schemas.DashboardCreate),
                                           ("LinkCreate", schemas.LinkCreate), ("GuestLogin", schemas.GuestLogin),
                                           ("ShareCreate", schemas.ShareCreate)])
def test_request_bodies_match_the_validators(schema, model):
    body_matches(SPEC, schema, model)
