"""openapi.yaml and the catalogue service's routes describe the same API."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from factoryhub.catalogue import access_requests, api, entries
from factoryhub.catalogue.index import FACETS
from tests.harness.openapi import body_matches, catch_all_comes_last, documented, served

SPEC = yaml.safe_load((Path(api.__file__).with_name("openapi.yaml")).read_text())


def test_every_route_is_documented_and_every_documented_route_served():
    assert served(api.routes("/p/", service=None), "/p/api/v1") == documented(SPEC)


def test_paths_no_route_serves_are_the_catch_alls_json_404():
    catch_all_comes_last(api.routes("/p/", service=None), "/p/api/v1")


def test_every_operation_documents_the_errors_every_operation_can_answer():
    for path, item in SPEC["paths"].items():
        for operation in item.values():
            if operation.get("security", SPEC["security"]):
                assert "401" in operation["responses"], path
            if "{" in path:
                assert "404" in operation["responses"], path


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
    search = {p.get("$ref", "").rsplit("/", 1)[-1] for p in SPEC["paths"]["/entries"]["get"]["parameters"]}
    assert set(FACETS) <= search


def test_facet_enumerations_and_bounds_are_the_handlers():
    parameters = SPEC["components"]["parameters"]
    for facet in FACETS:
        schema = parameters[facet]["schema"]
        assert schema["maxItems"] == api.MAX_FACET_VALUES
        assert tuple(schema["items"].get("enum", ())) == api.FACET_CHOICES.get(facet, ())
    [before] = SPEC["paths"]["/audit"]["get"]["parameters"]
    assert (before["schema"]["minimum"], before["schema"]["maximum"]) == (1, api.ID_MAX)


JUSTIFICATIONS = ["x" * 20, "y" * 4000, " a " * 20, "a" + " " * 40 + "b", "for research", "a b c d e f g h i j k",
                  "\t\n" + "word " * 4, "z" * 4001, "é" * 20, "", " " * 30, "Polygenic risk score replication."]


@pytest.mark.parametrize("text", JUSTIFICATIONS)
def test_the_justification_rule_is_the_documents(text):
    schema = SPEC["components"]["schemas"]["AccessRequestBody"]["properties"]["justification"]
    assert schema["pattern"] == access_requests.JUSTIFICATION_PATTERN
    by_document = len(text) <= schema["maxLength"] and re.search(schema["pattern"], text) is not None
    assert by_document == access_requests.justified(text)


@pytest.mark.parametrize("note", ["", "    ", "no", "nope.", "  nope  ", "a   b", "Commercial use is outside."])
def test_the_rejection_note_rule_is_the_documents(note):
    schema = SPEC["components"]["schemas"]["DecisionBody"]
    pattern = schema["then"]["properties"]["note"]["pattern"]
    assert schema["if"] == {"properties": {"decision": {"const": "reject"}}}
    assert pattern == access_requests.REJECTION_NOTE_PATTERN
    assert (re.search(pattern, note) is not None) == (len(note.strip()) >= access_requests.MIN_REJECTION_NOTE)
