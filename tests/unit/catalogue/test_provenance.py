"""Structured provenance in an entry: sources, processing steps and curator are checked field by field;
legacy free text is still served, as a record with only the statement, and reported as a notice."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import fastjsonschema
import pytest
import yaml

from factoryhub.catalogue import access
from factoryhub.catalogue.access import ANONYMOUS, details
from factoryhub.catalogue.catalogue import CatalogueLoader, describe_problems
from factoryhub.catalogue.entries import EntryError, entry_notices, load_entry

from .builders import document, entry, write, write_entry

SOURCE = {"name": "Weather service archive", "url": "https://archive.example.eu/", "licence": "CC-BY-4.0",
          "collected": "2024-03-01"}
FULL = {"sources": [SOURCE, {"name": "Station register", "licence": "LicenseRef-register-terms",
                             "collected": "2024-03-04"}],
        "steps": [{"action": "cropped to Europe", "tool": "xarray", "version": "2024.11.0"},
                  {"action": "reviewed outliers by hand"},
                  {"action": "aggregated to daily means.", "tool": "cdo"}],
        "curated_by": {"name": "Climate data team", "email": "climate@example.eu"}, "curated_on": "2024-03-10",
        "statement": "Contains data of the weather service."}


def with_provenance(**changes) -> dict:
    return {**FULL, **changes}


def refused(tmp_path, provenance) -> tuple[str, str]:
    path = write(tmp_path / "broken.yaml", yaml.safe_dump(document(provenance=provenance), sort_keys=False))
    with pytest.raises(EntryError) as caught:
        load_entry(path)
    return caught.value.problem.field, caught.value.problem.reason


def test_structured_provenance_loads_into_typed_records():
    provenance = entry(provenance=FULL).provenance
    assert provenance.structured
    assert [(s.name, s.licence, s.collected, s.url) for s in provenance.sources] == [
        ("Weather service archive", "CC-BY-4.0", dt.date(2024, 3, 1), "https://archive.example.eu/"),
        ("Station register", "LicenseRef-register-terms", dt.date(2024, 3, 4), None)]
    assert [(s.action, s.tool, s.version) for s in provenance.steps] == [
        ("cropped to Europe", "xarray", "2024.11.0"), ("reviewed outliers by hand", None, None),
        ("aggregated to daily means.", "cdo", None)]
    assert (provenance.curated_by.name, provenance.curated_by.email) == ("Climate data team", "climate@example.eu")
    assert provenance.curated_on == dt.date(2024, 3, 10)
    assert provenance.statement == "Contains data of the weather service."


def test_the_summary_text_names_every_source_step_and_the_curator_in_order():
    text = entry(provenance=FULL).provenance.text
    assert text == (
        "Sources: Weather service archive <https://archive.example.eu/> (licence CC-BY-4.0, collected 2024-03-01); "
        "Station register (licence LicenseRef-register-terms, collected 2024-03-04). "
        "Processing: 1. cropped to Europe (with xarray 2024.11.0); 2. reviewed outliers by hand; "
        "3. aggregated to daily means (with cdo). "
        "Curated by Climate data team on 2024-03-10. Contains data of the weather service.")


def test_raw_data_has_no_steps_and_the_summary_says_so():
    provenance = entry(provenance={"sources": [SOURCE], "steps": [], "curated_by": {"name": "Desk"}}).provenance
    assert provenance.steps == () and provenance.curated_on is None and provenance.statement == ""
    assert provenance.text == ("Source: Weather service archive <https://archive.example.eu/> (licence CC-BY-4.0, "
                               "collected 2024-03-01). Processing: none, used as collected. Curated by Desk.")


def test_the_record_is_plain_json_with_iso_dates():
    record = entry(provenance=FULL).provenance.record()
    assert record["structured"] is True
    assert record["sources"][0] == {"name": "Weather service archive", "url": "https://archive.example.eu/",
                                    "licence": "CC-BY-4.0", "collected": "2024-03-01"}
    assert record["steps"][1] == {"action": "reviewed outliers by hand", "tool": None, "version": None}
    assert record["curated_by"] == {"name": "Climate data team", "email": "climate@example.eu"}
    assert (record["curated_on"], record["statement"]) == ("2024-03-10", "Contains data of the weather service.")


BAD = {
    "not a mapping or text": (42, "provenance", ["mapping of sources, steps and curated_by"]),
    "no sources": (with_provenance(sources=[]), "provenance.sources", ["at least 1"]),
    "sources missing": ({"steps": [], "curated_by": {"name": "D"}}, "provenance.sources", ["where the data came from"]),
    "steps missing": ({"sources": [SOURCE], "curated_by": {"name": "D"}}, "provenance.steps",
                      ["in order", "[] for data used as collected"]),
    "curator missing": ({"sources": [SOURCE], "steps": []}, "provenance.curated_by", ["who curated"]),
    "unknown field": (with_provenance(source="the web"), "provenance",
                      ["unknown field(s) source", "allowed: curated_by"]),
    "unknown field in a source": (with_provenance(sources=[{**SOURCE, "licence_url": "https://x.eu/"}]),
                                  "provenance.sources[0]", ["unknown field(s) licence_url", "collected, licence"]),
    "unknown field in a step": (with_provenance(steps=[{"action": "ran it", "command": "rm -rf"}]),
                                "provenance.steps[0]", ["unknown field(s) command", "action, tool, version"]),
    "unknown field in the curator": (with_provenance(curated_by={"name": "D", "phone": "1"}),
                                     "provenance.curated_by", ["unknown field(s) phone"]),
    "source without licence": (with_provenance(sources=[{"name": "S", "collected": "2024-01-01"}]),
                               "provenance.sources[0].licence", ["is required"]),
    "source without collection date": (with_provenance(sources=[{"name": "S", "licence": "CC0-1.0"}]),
                                       "provenance.sources[0].collected", ["is required"]),
    "licence not SPDX": (with_provenance(sources=[{**SOURCE, "licence": "CC BY 4.0"}]),
                         "provenance.sources[0].licence", ["'CC BY 4.0'", "SPDX", "LicenseRef-"]),
    "collection date not a date": (with_provenance(sources=[{**SOURCE, "collected": "last spring"}]),
                                   "provenance.sources[0].collected", ["'last spring'", "YYYY-MM-DD"]),
    "collection date that does not exist": (with_provenance(sources=[SOURCE, {**SOURCE, "collected": "2023-02-29"}]),
                                            "provenance.sources[1].collected",
                                            ["'2023-02-29'", "not a date that exists"]),
    "curation date that does not exist": (with_provenance(curated_on="2024-13-01"), "provenance.curated_on",
                                          ["not a date that exists"]),
    "curated before collected": (with_provenance(curated_on="2024-03-02"), "provenance.curated_on",
                                 ["before provenance.sources[1].collected (2024-03-04)"]),
    "source url not http": (with_provenance(sources=[{**SOURCE, "url": "javascript:alert(1)"}]),
                            "provenance.sources[0].url", ["pattern"]),
    "version without tool": (with_provenance(steps=[{"action": "converted", "version": "1.2"}]),
                             "provenance.steps[0].version", ["without tool"]),
    "blank action": (with_provenance(steps=[{"action": "      "}]), "provenance.steps[0].action", ["blank"]),
    "blank curator": (with_provenance(curated_by={"name": "   "}), "provenance.curated_by.name", ["blank"]),
    "curator e-mail not an address": (with_provenance(curated_by={"name": "D", "email": "desk"}),
                                      "provenance.curated_by.email", ["pattern"]),
    "version a YAML number": (with_provenance(steps=[{"action": "converted", "tool": "cdo", "version": 2.1}]),
                              "provenance.steps[0].version", ["quote it", "2.10"]),
    "step not a mapping": (with_provenance(steps=["converted to UTC"]), "provenance.steps[0]", ["object"]),
    "free text too short": ("see wiki", "provenance", ["10 characters"]),
    "free text blank": ("            ", "provenance", ["blank"]),
}


@pytest.mark.parametrize("provenance, field, fragments", BAD.values(), ids=BAD.keys())
def test_bad_provenance_is_refused_naming_the_field_and_why(tmp_path, provenance, field, fragments):
    got_field, reason = refused(tmp_path, provenance)
    assert got_field == field, reason
    for fragment in fragments:
        assert fragment in reason, reason


# --- legacy free text --------------------------------------------------------------------------


def test_free_text_provenance_is_served_as_a_statement_and_flagged_unstructured():
    legacy = entry(provenance="  Exported from the old archive in 2019 by the data desk.  ")
    assert not legacy.provenance.structured
    text = "Exported from the old archive in 2019 by the data desk."
    assert legacy.provenance.statement == legacy.provenance.text == text
    assert legacy.provenance.sources == () and legacy.provenance.curated_by is None
    assert legacy.provenance.record() == {"structured": False, "sources": [], "steps": [], "curated_by": None,
                                          "curated_on": None, "statement": legacy.provenance.text}
    [notice] = entry_notices(legacy, "legacy.yaml")
    assert (notice.file, notice.field) == ("legacy.yaml", "provenance")
    assert "free text" in notice.reason and "sources, steps and curated_by" in notice.reason
    assert "docs/catalogue.md#provenance" in notice.reason
    assert entry_notices(entry(provenance=FULL), "new.yaml") == ()


def test_a_catalogue_with_legacy_entries_serves_them_and_lists_notices_beside_problems(tmp_path):
    write_entry(tmp_path, "old-archive", provenance="Exported from the old archive in 2019 by the data desk.")
    write_entry(tmp_path, "structured", provenance=FULL)
    write(tmp_path / "broken.yaml", "kind: [unclosed\n")
    loader = CatalogueLoader(tmp_path)
    catalogue = loader.load()

    assert sorted(e.id for e in catalogue.entries) == ["old-archive", "structured"]
    assert [p.file for p in catalogue.problems] == [str(tmp_path / "broken.yaml")]
    assert describe_problems(catalogue.notices) == [
        {"file": str(tmp_path / "old-archive.yaml"), "field": "provenance",
         "reason": "is free text; give sources, steps and curated_by (docs/catalogue.md#provenance)"}]

    # once the steward gives the structure, the notice goes with the next reload
    write_entry(tmp_path, "old-archive", provenance=FULL)
    assert loader.load().notices == ()


def test_a_stale_legacy_entry_keeps_its_notice(tmp_path):
    path = write_entry(tmp_path, "old-archive", provenance="Exported from the old archive in 2019 by the data desk.")
    loader = CatalogueLoader(tmp_path)
    loader.load()
    write(path, "kind: [unclosed\n")  # broken: the last good (legacy) version stays served
    catalogue = loader.load()
    assert catalogue.stale == ("old-archive",)
    assert [n.field for n in catalogue.notices] == ["provenance"]


def test_entry_details_keep_the_summary_text_and_add_the_record():
    structured = entry(provenance=FULL)
    shown = details(structured, ANONYMOUS)
    assert shown["provenance"] == structured.provenance.text
    assert shown["provenance_record"] == structured.provenance.record()
    legacy = details(entry(provenance="Exported from the old archive in 2019."), ANONYMOUS)
    assert legacy["provenance"] == "Exported from the old archive in 2019."
    assert legacy["provenance_record"]["structured"] is False


def test_the_record_is_what_the_openapi_contract_describes():
    spec = yaml.safe_load((Path(access.__file__).with_name("openapi.yaml")).read_text())
    schema = spec["components"]["schemas"]["ProvenanceRecord"]
    entry_properties = spec["components"]["schemas"]["Entry"]["properties"]
    assert entry_properties["provenance_record"]["$ref"] == "#/components/schemas/ProvenanceRecord"
    validate = fastjsonschema.compile(schema)
    for provenance in (FULL, {"sources": [SOURCE], "steps": [], "curated_by": {"name": "Desk"}},
                       "Exported from the old archive in 2019."):
        validate(details(entry(provenance=provenance), ANONYMOUS)["provenance_record"])
