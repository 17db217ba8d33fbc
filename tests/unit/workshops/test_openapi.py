"""openapi.yaml and the workshops service's routes describe the same API."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from factoryhub.workshops import api, schemas
from tests.harness.openapi import body_matches, route_contract

SPEC = yaml.safe_load((Path(api.__file__).with_name("openapi.yaml")).read_text())


def test_the_routes_and_openapi_yaml_describe_the_same_api():
    route_contract(api.routes("/p/", parts=None), SPEC)


@pytest.mark.parametrize("schema, model", [("WorkshopCreate", schemas.WorkshopCreate), ("Join", schemas.JoinBody)])
def test_request_bodies_match_the_validators(schema, model):
    body_matches(SPEC, schema, model)
