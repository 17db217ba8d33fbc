"""Entry files: a valid file loads into an Entry; a broken one gives a problem naming file, field and a reason
its author can act on."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from factoryhub.catalogue.entries import (
    MAX_FILE_BYTES,
    Agent,
    ContactPoint,
    Curator,
    Distribution,
    Entry,
    EntryError,
    EntryProblem,
    ModelInfo,
    Place,
    ProcessingStep,
    Provenance,
    ProvenanceSource,
    entry_files,
    load_entry,
)

from .builders import document, write

VALID = """\
kind: dataset
title: "  Chest X-ray images, hospital cohort  "
description: >-
  Frontal chest radiographs with findings
  from the radiology reports.
keywords: [medical imaging, chest X-ray]
themes: [HEAL, TECH]
publisher:
  name: University Hospital
  url: https://hospital.example.eu/
contact_point: {name: Research data office, email: imaging@example.eu}
licence: LicenseRef-hospital-agreement
access: restricted
groups: [medical-imaging, radiology]
terms: Use only within the approved project.
personal_data: true
lawful_basis: consent
retention: P10Y from issue
issued: 2024-11-12
modified: 2025-03-10
temporal: {start: 2016-01-01, end: 2023-06-30}
spatial:
  - {name: Bavaria, uri: "https://sws.geonames.org/2951839/"}
provenance:
  sources:
    - name: Hospital PACS
      url: https://pacs.hospital.example.eu/
      licence: LicenseRef-hospital-agreement
      collected: 2024-10-01
  steps:
    - action: "  exported from the PACS  "
      tool: dcmtk
      version: "3.6.8"
    - action: headers stripped by hand
  curated_by: {name: Research data office, email: imaging@example.eu}
  curated_on: 2024-11-12
  statement: Patients consented under the hospital's broad consent.
intended_use: Research on triage models for radiographs.
limitations: Labels from report parsing are noisy.
distributions:
  - title: Images (PNG)
    format: png
    byte_size: 46170898432
    location: /srv/factoryhub/restricted/chest-xray/images
  - title: Findings (CSV)
    format: csv
    location: /srv/factoryhub/restricted/chest-xray/findings.csv
    description: One row per image.
"""


def problem_of(path: Path, text: str | bytes) -> EntryProblem:
    """Write ``text`` to ``path``, load it, and return the problem it must be refused with."""
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        write(path, text)
    with pytest.raises(EntryError) as refused:
        load_entry(path)
    problem = refused.value.problem
    assert problem.file == str(path)
    assert str(refused.value) == problem.describe()
    assert problem.reason.strip(), "a problem must say what is wrong"
    return problem


def dumped(**changes) -> str:
    return yaml.safe_dump(document(**changes), sort_keys=False)


# --- a valid entry -----------------------------------------------------------------------------


def test_a_valid_file_loads_into_an_entry_with_every_field(tmp_path):
    entry = load_entry(write(tmp_path / "chest-xray-cohort.yaml", VALID))
    assert entry == Entry(
        id="chest-xray-cohort", kind="dataset", title="Chest X-ray images, hospital cohort",
        description="Frontal chest radiographs with findings from the radiology reports.",
        keywords=("medical imaging", "chest X-ray"), themes=("HEAL", "TECH"),
        publisher=Agent("University Hospital", "https://hospital.example.eu/"),
        contact_point=ContactPoint("Research data office", "imaging@example.eu"),
        licence="LicenseRef-hospital-agreement", access="restricted", groups=("medical-imaging", "radiology"),
        personal_data=True, provenance=Provenance(
            sources=(ProvenanceSource("Hospital PACS", "LicenseRef-hospital-agreement", dt.date(2024, 10, 1),
                                      "https://pacs.hospital.example.eu/"),),
            steps=(ProcessingStep("exported from the PACS", "dcmtk", "3.6.8"),
                   ProcessingStep("headers stripped by hand")),
            curated_by=Curator("Research data office", "imaging@example.eu"), curated_on=dt.date(2024, 11, 12),
            statement="Patients consented under the hospital's broad consent."),
        intended_use="Research on triage models for radiographs.", limitations="Labels from report parsing are noisy.",
        distributions=(
            Distribution("Images (PNG)", "png", "/srv/factoryhub/restricted/chest-xray/images", 46170898432),
            Distribution("Findings (CSV)", "csv", "/srv/factoryhub/restricted/chest-xray/findings.csv", None,
                         "One row per image.")),
        terms="Use only within the approved project.", lawful_basis="consent", retention="P10Y from issue",
        issued=dt.date(2024, 11, 12), modified=dt.date(2025, 3, 10), temporal_start=dt.date(2016, 1, 1),
        temporal_end=dt.date(2023, 6, 30), spatial=(Place("Bavaria", "https://sws.geonames.org/2951839/"),),
        model=None)
    assert type(entry.issued) is dt.date and isinstance(entry.keywords, tuple)
    assert entry.formats == ("csv", "png")


def test_a_model_entry_has_its_model_block_and_yml_is_an_entry_suffix_too(tmp_path):
    path = write(tmp_path / "minilm.yml", dumped(kind="model", model={"family": "BERT", "parameters": 22_700_000},
                                                 distributions=[{"title": "Weights", "format": "huggingface",
                                                                 "location": "/srv/models/minilm"}]))
    entry = load_entry(path)
    assert (entry.id, entry.kind) == ("minilm", "model")
    assert entry.model == ModelInfo("BERT", 22_700_000)
    assert (entry.issued, entry.temporal_start, entry.spatial, entry.groups) == (None, None, (), ())


def test_a_distribution_may_carry_its_sha256_at_curation(tmp_path):
    digest = "0123456789abcdef" * 4
    entry = load_entry(write(tmp_path / "summed.yaml", dumped(distributions=[
        {"title": "Table", "format": "csv", "location": "/srv/t.csv", "sha256": digest},
        {"title": "Folder", "format": "png", "location": "/srv/images"}])))
    assert [d.sha256 for d in entry.distributions] == [digest, None]


def test_optional_dates_may_be_quoted_in_the_file(tmp_path):
    entry = load_entry(write(tmp_path / "quoted.yaml", dumped(issued="2024-02-29", temporal={"start": "2020-01-01"})))
    assert (entry.issued, entry.temporal_start, entry.temporal_end) == (dt.date(2024, 2, 29), dt.date(2020, 1, 1), None)


# --- broken files: one problem each, naming file, field and reason -------------------------------


SCHEMA_CASES = {
    "wrong type": (dict(distributions=[{"title": "T", "format": "csv", "location": "/srv/t.csv", "byte_size": "big"}]),
                   "distributions[0].byte_size", ["integer"]),
    "enum value not allowed": (dict(access="secret"), "access", ["'secret'", "open, registered, restricted"]),
    "theme not in the EU vocabulary": (dict(themes=["TECH", "SPACE"]), "themes[1]", ["'SPACE'", "ENVI"]),
    "location not absolute": (dict(distributions=[{"title": "T", "format": "csv", "location": "data/t.csv"}]),
                              "distributions[0].location", ["pattern"]),
    "unknown field in a nested object": (dict(publisher={"name": "P", "homepage": "https://p.eu/"}), "publisher",
                                         ["homepage", "allowed: name, url"]),
    "temporal end before start": (dict(temporal={"start": "2024-02-01", "end": "2024-01-31"}), "temporal.end",
                                  ["before temporal.start"]),
    "groups on an open entry": (dict(groups=["medical-imaging"]), "groups", ["restricted", "access is open"]),
    "groups on a registered entry": (dict(access="registered", groups=["x"]), "groups", ["access is registered"]),
    "sha256 in upper case": (dict(distributions=[{"title": "T", "format": "csv", "location": "/srv/t.csv",
                                                  "sha256": "A" * 64}]), "distributions[0].sha256", ["pattern"]),
    "sha256 too short": (dict(distributions=[{"title": "T", "format": "csv", "location": "/srv/t.csv",
                                              "sha256": "ab" * 31}]), "distributions[0].sha256", ["pattern"]),
    "sha256 not text": (dict(distributions=[{"title": "T", "format": "csv", "location": "/srv/t.csv",
                                             "sha256": 12345}]), "distributions[0].sha256", ["string"]),
}


@pytest.mark.parametrize("changes, field, fragments", SCHEMA_CASES.values(), ids=SCHEMA_CASES.keys())
def test_a_field_that_breaks_the_schema_is_named_with_the_reason(tmp_path, changes, field, fragments):
    problem = problem_of(tmp_path / "broken.yaml", dumped(**changes))
    assert problem.field == field
    for fragment in fragments:
        assert fragment in problem.reason


def test_an_unknown_field_is_listed_with_the_allowed_ones(tmp_path):
    problem = problem_of(tmp_path / "broken.yaml", dumped(colour="red", size="XL"))
    assert "unknown field(s) colour, size" in problem.reason
    assert "(allowed: access, contact_point, description, distributions, groups," in problem.reason
    assert "title" in problem.reason


def test_a_missing_required_field_is_named(tmp_path):
    doc = document()
    del doc["licence"]
    problem = problem_of(tmp_path / "broken.yaml", yaml.safe_dump(doc))
    assert "licence" in problem.field + problem.reason


# Rules that hold only for some entries (JSON Schema if/then): the problem must still name the field
# to add or remove and say why; "must NOT match a disallowed definition" helps nobody.
CONDITIONAL_CASES = {
    "restricted without groups": (dict(access="restricted", groups=None), {"groups"}, "restricted"),
    "personal data without lawful basis and retention": (dict(personal_data=True), {"lawful_basis", "retention"},
                                                         "personal"),
    "personal data without retention": (dict(personal_data=True, lawful_basis="consent"), {"retention"}, "personal"),
    "model without a model block": (dict(kind="model", model=None), {"model"}, "kind"),
    "dataset with a model block": (dict(model={"family": "BERT", "parameters": 3}), {"model"}, "kind"),
}


@pytest.mark.parametrize("changes, fields, why", CONDITIONAL_CASES.values(), ids=CONDITIONAL_CASES.keys())
def test_a_conditional_rule_names_the_field_and_why(tmp_path, changes, fields, why):
    doc = document(**changes)
    for name, value in changes.items():
        if value is None:
            del doc[name]
    problem = problem_of(tmp_path / "broken.yaml", yaml.safe_dump(doc))
    assert problem.field in fields, problem.describe()
    assert why in problem.reason.lower(), problem.describe()


def test_invalid_yaml_gives_line_and_column(tmp_path):
    problem = problem_of(tmp_path / "broken.yaml", "kind: dataset\ntitle: [unclosed\nlicence: CC0-1.0\n")
    assert problem.field == ""
    assert "not valid YAML" in problem.reason and "line 3, column 8" in problem.reason


@pytest.mark.parametrize("text", ["- kind: dataset\n- title: A list\n", "just a sentence\n", "42\n", ""],
                         ids=["a list", "a scalar", "a number", "an empty file"])
def test_a_file_that_is_not_a_mapping_says_it_must_be_one(tmp_path, text):
    problem = problem_of(tmp_path / "broken.yaml", text)
    assert problem.field == ""
    assert "must be a YAML mapping" in problem.reason


@pytest.mark.parametrize("name", ["My Entry.yaml", "UPPER.yaml", "-leading-dash.yaml", "café.yaml",
                                  f"{'x' * 101}.yaml"])
def test_a_file_name_that_is_not_an_id_is_refused_before_reading(tmp_path, name):
    problem = problem_of(tmp_path / name, dumped())
    assert "lower-case letters, digits" in problem.reason and "at most 100 characters" in problem.reason


def test_an_oversized_file_is_refused_with_its_size_and_the_limit(tmp_path):
    text = dumped() + "# padding\n" * (MAX_FILE_BYTES // 10 + 1)
    problem = problem_of(tmp_path / "huge.yaml", text)
    assert f"is {len(text.encode())} bytes" in problem.reason and str(MAX_FILE_BYTES) in problem.reason
    load_entry(write(tmp_path / "just-fits.yaml", text[:MAX_FILE_BYTES]))  # the limit itself is allowed


def test_a_file_that_is_not_utf8_is_refused_not_crashing(tmp_path):
    text = dumped().replace("title: Untitled table", "title: Météo stations")
    problem = problem_of(tmp_path / "latin1.yaml", text.encode("latin-1"))
    assert "not valid YAML" in problem.reason and "UTF-8" in problem.reason


def test_a_date_that_does_not_exist_is_found_by_field_or_line(tmp_path):
    text = dumped().replace("kind: dataset", "kind: dataset\nissued: 2024-02-30")
    problem = problem_of(tmp_path / "broken.yaml", text)
    assert problem.field == "issued" or "line 2" in problem.reason, problem.describe()


def test_a_quoted_date_that_does_not_exist_is_an_entry_problem(tmp_path):
    # The schema checks the shape (NNNN-NN-NN) only; the date itself is parsed after it.
    problem = problem_of(tmp_path / "broken.yaml", dumped(issued="2024-02-30"))
    assert problem.field == "issued"


def test_a_title_of_blanks_is_refused(tmp_path):
    # minLength passes on the blanks, and the loader strips them: a title-less entry would be served
    problem = problem_of(tmp_path / "broken.yaml", dumped(title="     "))
    assert problem.field == "title"


def test_a_field_given_twice_is_refused_not_silently_overridden(tmp_path):
    # YAML requires unique keys; last-one-wins silently publishes this registered entry to anyone.
    text = dumped(access="registered") + "access: open\n"
    problem = problem_of(tmp_path / "broken.yaml", text)
    assert "access" in problem.field + problem.reason


# --- finding entry files -------------------------------------------------------------------------


def test_entry_files_finds_sub_folders_and_skips_hidden_files_and_folders(tmp_path):
    root = tmp_path / ".site" / "catalogue"  # a hidden folder above the catalogue does not matter
    for name in ["a.yaml", "imaging/b.yml", "imaging/ct/c.yaml", ".hidden.yaml", ".git/d.yaml",
                 "imaging/.drafts/e.yaml", "notes.txt", "f.yaml.bak", "g.json"]:
        write(root / name, "kind: dataset\n")
    (root / "folder.yaml").mkdir()
    assert entry_files(root) == [root / "a.yaml", root / "imaging" / "b.yml", root / "imaging" / "ct" / "c.yaml"]


def test_entry_files_of_an_empty_folder_is_empty(tmp_path):
    assert entry_files(tmp_path) == []
