"""openapi.yaml and the service's routes describe the same API."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from factoryhub.quota import api, schemas
from tests.harness.openapi import body_matches, catch_all_comes_last, documented, served

SPEC = yaml.safe_load((Path(api.__file__).with_name("openapi.yaml")).read_text())


def served_here() -> set[tuple[str, str]]:
    return served(api.routes("/p/", db=None, hold_grace=dt.timedelta()), "/p/api/v1")


def test_every_route_is_documented_and_every_documented_route_served():
    assert served_here() == documented(SPEC)


def test_paths_no_route_serves_are_the_catch_alls_json_404():
    catch_all_comes_last(api.routes("/p/", db=None, hold_grace=dt.timedelta()), "/p/api/v1")


def test_every_operation_documents_the_errors_every_operation_can_answer():
    """401 (no token), and 404 where a path parameter can name nothing (or match no route)."""
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            if operation.get("security", SPEC["security"]):
                assert "401" in operation["responses"], (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)


@pytest.mark.parametrize("schema, model", [
    ("ProjectCreate", schemas.ProjectCreate), ("ProjectUpdate", schemas.ProjectUpdate),
    ("AllocationCreate", schemas.AllocationCreate), ("AllocationUpdate", schemas.AllocationUpdate),
    ("HoldRequest", schemas.HoldRequest), ("HoldJob", schemas.HoldJob), ("HoldClose", schemas.HoldClose),
])
def test_request_bodies_match_the_validators(schema, model):
    body_matches(SPEC, schema, model)


def test_patterns_in_the_spec_are_the_validators_patterns():
    text = (Path(api.__file__).with_name("openapi.yaml")).read_text()
    for pattern in (schemas.SLURM_ACCOUNT, schemas.USERNAME):
        assert pattern.replace("\\", "\\\\") in text or pattern in text, pattern
    assert re.fullmatch(SPEC["components"]["parameters"]["account"]["schema"]["pattern"], "proj-climate")


def test_the_query_bounds_in_the_spec_are_the_handlers():
    parameters = {p["name"]: p["schema"] for p in SPEC["paths"]["/projects"]["get"]["parameters"]}
    assert parameters["offset"]["maximum"] == api.MAX_OFFSET
    assert parameters["account"]["maxItems"] == api.MAX_ACCOUNTS
    assert parameters["all"]["enum"] == ["1", "true"]
    [before] = SPEC["paths"]["/audit"]["get"]["parameters"]
    assert (before["schema"]["minimum"], before["schema"]["maximum"]) == (1, api.ID_MAX)


def test_the_charge_at_close_is_documented():
    charged = SPEC["components"]["schemas"]["HoldClose"]["properties"]["charged_gpu_hours"]
    assert charged["type"] == "number" and charged["minimum"] == 0
    assert "charged_gpu_hours" in SPEC["paths"]["/holds/{hold_id}/close"]["post"]["description"]
