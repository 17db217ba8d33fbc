"""openapi.yaml and the service's routes describe the same API."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from tornado import web

from factoryhub.quota import api, schemas

SPEC = yaml.safe_load((Path(api.__file__).with_name("openapi.yaml")).read_text())
METHODS = ("get", "post", "put", "patch", "delete")


def template(pattern: str) -> str:
    """A route regex as an OpenAPI path: (?P<name>...) -> {name}, escapes dropped."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("(?P<", i):
            name = pattern[i + 4:pattern.index(">", i)]
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(pattern[j], 0) if pattern[j - 1] != "\\" else 0
                j += 1
                if depth == 0:
                    break
            out.append("{" + name + "}")
            i = j
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out).replace("\\", "")


def served() -> set[tuple[str, str]]:
    found = set()
    for pattern, handler, *_ in api.routes("/p/", db=None, hold_grace=dt.timedelta()):
        path = template(pattern).removeprefix("/p/api/v1")
        for method in METHODS:
            if getattr(handler, method) is not getattr(web.RequestHandler, method):
                found.add((method, path))
    return found


def documented() -> set[tuple[str, str]]:
    return {(method, path) for path, item in SPEC["paths"].items() for method in item if method in METHODS}


def test_every_route_is_documented_and_every_documented_route_served():
    assert served() == documented()


@pytest.mark.parametrize("schema, model", [
    ("ProjectCreate", schemas.ProjectCreate), ("ProjectUpdate", schemas.ProjectUpdate),
    ("AllocationCreate", schemas.AllocationCreate), ("AllocationUpdate", schemas.AllocationUpdate),
    ("HoldRequest", schemas.HoldRequest),
])
def test_request_bodies_match_the_validators(schema, model):
    spec = SPEC["components"]["schemas"][schema]
    assert set(spec["properties"]) == set(model.model_fields)
    assert set(spec.get("required", [])) == {n for n, f in model.model_fields.items() if f.is_required()}
    assert spec["additionalProperties"] is False and model.model_config["extra"] == "forbid"


def test_patterns_in_the_spec_are_the_validators_patterns():
    text = (Path(api.__file__).with_name("openapi.yaml")).read_text()
    for pattern in (schemas.SLURM_ACCOUNT, schemas.USERNAME):
        assert pattern.replace("\\", "\\\\") in text or pattern in text, pattern
    assert re.fullmatch(SPEC["components"]["parameters"]["account"]["schema"]["pattern"], "proj-climate")
