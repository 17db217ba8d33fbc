"""openapi.yaml and the catalogue service's routes describe the same API."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from factoryhub.catalogue import api, entries
from tests.harness.openapi import body_matches, documented, served

SPEC = yaml.safe_load((Path(api.__file__).with_name("openapi.yaml")).read_text())


def test_every_route_is_documented_and_every_documented_route_served():
    assert served(api.routes("/p/", service=None), "/p/api/v1") == documented(SPEC)


@pytest.mark.parametrize("schema, model", [("AccessRequestBody", api.AccessRequestBody),
                                           ("DecisionBody", api.DecisionBody)])
def test_request_bodies_match_the_validators(schema, model):
    body_matches(SPEC, schema, model)


def test_the_entry_id_pattern_is_the_loaders():
    pattern = SPEC["components"]["parameters"]["entry_id"]["schema"]["pattern"]
    assert pattern == f"^{entries.ENTRY_ID.pattern}$"
    assert api.ENTRY_IN_PATH == f"(?P<entry_id>{entries.ENTRY_ID.pattern})"
    assert re.fullmatch(pattern, "all-minilm-l6-v2") and not re.fullmatch(pattern, "../etc")


def test_facets_documented_are_the_index_facets():
    from factoryhub.catalogue.index import FACETS
    search = {p.get("$ref", "").rsplit("/", 1)[-1] for p in SPEC["paths"]["/entries"]["get"]["parameters"]}
    assert set(FACETS) <= search
