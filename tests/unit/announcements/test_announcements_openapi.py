"""openapi.yaml and the announcements service's routes describe the same API."""
from __future__ import annotations

from pathlib import Path

import yaml

from factoryhub.announcements import api, schemas
from tests.harness.openapi import body_matches, route_contract

SPEC = yaml.safe_load((Path(api.__file__).with_name("openapi.yaml")).read_text())


def test_the_routes_and_openapi_yaml_describe_the_same_api():
    route_contract(api.routes("/p/", parts=None), SPEC)


def test_the_request_body_matches_its_validator():
    body_matches(SPEC, "AnnouncementCreate", schemas.AnnouncementCreate)
    described = SPEC["components"]["schemas"]["AnnouncementCreate"]["properties"]
    assert described["level"]["enum"] == list(schemas.LEVELS)
    assert described["audience"]["enum"] == list(schemas.AUDIENCES)
