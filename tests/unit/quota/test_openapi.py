"""openapi.yaml and the service's routes describe the same API."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from factoryhub.quota import api, schemas
from tests.harness.openapi import body_matches, documented, served

SPEC = yaml.safe_load((Path(api.__file__).with_name("openapi.yaml")).read_text())


def served_here() -> set[tuple[str, str]]:
    return served(api.routes("/p/", db=None, hold_grace=dt.timedelta()), "/p/api/v1")


def test_every_route_is_documented_and_every_documented_route_served():
    assert served_here() == documented(SPEC)


@pytest.mark.parametrize("schema, model", [
    ("ProjectCreate", schemas.ProjectCreate), ("ProjectUpdate", schemas.ProjectUpdate),
    ("AllocationCreate", schemas.AllocationCreate), ("AllocationUpdate", schemas.AllocationUpdate),
    ("HoldRequest", schemas.HoldRequest),
])
def test_request_bodies_match_the_validators(schema, model):
    body_matches(SPEC, schema, model)


def test_patterns_in_the_spec_are_the_validators_patterns():
    text = (Path(api.__file__).with_name("openapi.yaml")).read_text()
    for pattern in (schemas.SLURM_ACCOUNT, schemas.USERNAME):
        assert pattern.replace("\\", "\\\\") in text or pattern in text, pattern
    assert re.fullmatch(SPEC["components"]["parameters"]["account"]["schema"]["pattern"], "proj-climate")
