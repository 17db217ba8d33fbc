"""The DCAT-AP 3 JSON-LD export: conforms to the official shapes, and shows paths only to who may use them."""
from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import pyshacl
import pytest
import rdflib

from factoryhub.catalogue import entries as entries_module
from factoryhub.catalogue.dcat import CatalogueInfo, catalogue_jsonld
from factoryhub.catalogue.entries import Agent, Entry, entry_files, entry_from_document, load_entry

SHAPES = Path(__file__).resolve().parents[2] / "fixtures" / "dcat-ap"
EXAMPLE = Path(entries_module.__file__).with_name("example")
HOMEPAGE = "https://hub.example.eu/services/factoryhub-catalogue/"
EU = "http://publications.europa.eu/resource/authority/"
# Plain namespaces: pytest's collection probes module attributes, which rdflib's closed ones warn about.
DCAT = rdflib.Namespace("http://www.w3.org/ns/dcat#")
DCTERMS = rdflib.Namespace("http://purl.org/dc/terms/")
FOAF = rdflib.Namespace("http://xmlns.com/foaf/0.1/")
RDF = rdflib.Namespace("http://www.w3.org/1999/02/22-rdf-syntax-ns#")
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
FH = rdflib.Namespace("https://factoryhub.eu/ns#")
XSD_STRING = rdflib.URIRef("http://www.w3.org/2001/XMLSchema#string")
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")  # rdflib's parser

INFO = CatalogueInfo(title="Example AI Factory catalogue", description="Data sets and models on the cluster.",
                     publisher=Agent("Example AI Factory", "https://ai-factory.example.eu/"), homepage=HOMEPAGE)


@functools.cache
def example_entries() -> tuple[Entry, ...]:
    return tuple(load_entry(path) for path in entry_files(EXAMPLE))


@functools.cache
def dcat_ap_shapes() -> rdflib.Graph:
    """The official shapes and range shapes as one shapes graph (see tests/fixtures/dcat-ap/README.md)."""
    shapes = rdflib.Graph()
    for name in ("dcat-ap-3.0.1-SHACL.ttl", "dcat-ap-3.0.1-ranges.ttl"):
        shapes.parse(SHAPES / name, format="turtle")
    # 3.0.1 links five property shapes that are defined nowhere; pySHACL refuses them.
    undefined = [(shape, prop) for shape, prop in shapes.subject_objects(SH.property)
                 if shapes.value(prop, SH.path) is None]
    assert len(undefined) <= 5, undefined
    for shape, prop in undefined:
        shapes.remove((shape, SH.property, prop))
    return shapes


def parse(document: dict) -> rdflib.Graph:
    return rdflib.Graph().parse(data=json.dumps(document), format="json-ld")


def assert_conforms(document: dict) -> rdflib.Graph:
    data = parse(document)
    conforms, _, report = pyshacl.validate(data, shacl_graph=dcat_ap_shapes(), inference="none", advanced=True)
    assert conforms, report
    return data


def locations(entries) -> list[str]:
    return [dist.location for entry in entries for dist in entry.distributions]


def entry_document(**changes) -> dict:
    document = {
        "kind": "dataset", "title": "A small data set", "description": "Rows of numbers for a test.",
        "keywords": ["test"], "themes": ["TECH"], "publisher": {"name": "Test publisher"},
        "contact_point": {"name": "Data desk", "email": "desk@example.eu"}, "licence": "CC0-1.0",
        "access": "open", "personal_data": False, "provenance": {
            "sources": [{"name": "Made up for the test", "licence": "CC0-1.0", "collected": "2024-01-02"}],
            "steps": [], "curated_by": {"name": "Data desk"}},
        "intended_use": "Testing the export.", "limitations": "None worth noting.",
        "distributions": [{"title": "Table", "format": "csv", "location": "/srv/factoryhub/datasets/test/table.csv"}],
    }
    return {**document, **changes}


def test_export_for_a_viewer_who_may_use_everything_conforms_to_dcat_ap():
    entries = example_entries()
    document = catalogue_jsonld(INFO, entries, lambda entry: True)
    data = assert_conforms(document)

    datasets = set(data.subjects(RDF.type, DCAT.Dataset))
    assert datasets == {rdflib.URIRef(f"{HOMEPAGE}entries/{entry.id}") for entry in entries}
    downloads = {str(url) for url in data.objects(None, DCAT.downloadURL)}
    assert downloads == {f"file://{location}" for location in locations(entries)}
    assert {str(path) for path in data.objects(None, FH.location)} == set(locations(entries))


def test_export_for_a_viewer_who_may_use_nothing_conforms_and_names_no_location():
    entries = example_entries()
    document = catalogue_jsonld(INFO, entries, lambda entry: False)
    data = assert_conforms(document)

    text = json.dumps(document)
    assert "file://" not in text
    for location in locations(entries):
        assert location not in text
    assert not list(data.objects(None, DCAT.downloadURL))
    # every distribution still says where access is requested
    for distribution in data.subjects(RDF.type, DCAT.Distribution):
        assert str(data.value(distribution, DCAT.accessURL)).startswith(f"{HOMEPAGE}entries/")


def test_locations_follow_may_use_entry_by_entry():
    entries = example_entries()
    text = json.dumps(catalogue_jsonld(INFO, entries, lambda entry: entry.access == "open"))
    for entry in entries:
        for location in locations([entry]):
            assert (location in text) == (entry.access == "open"), (entry.id, location)


def test_markup_in_entry_text_is_exported_as_plain_literal_text():
    description = 'Numbers <script>alert(1)</script> & "quotes" <b>bold</b>'
    entry = entry_from_document("markup", entry_document(title="<i>Markup</i> test", description=description))
    data = parse(catalogue_jsonld(INFO, [entry], lambda e: False))

    dataset = rdflib.URIRef(f"{HOMEPAGE}entries/markup")
    literal = data.value(dataset, DCTERMS.description)
    assert isinstance(literal, rdflib.Literal)
    assert str(literal) == description and literal.datatype in (None, XSD_STRING)
    assert str(data.value(dataset, DCTERMS["title"])) == "<i>Markup</i> test"


def test_entry_fields_map_onto_dcat_ap_and_the_factoryhub_namespace():
    entries = {entry.id: entry for entry in example_entries()}
    data = parse(catalogue_jsonld(INFO, list(entries.values()), lambda e: True))

    for entry in entries.values():
        dataset = rdflib.URIRef(f"{HOMEPAGE}entries/{entry.id}")
        assert data.value(dataset, DCAT.landingPage) == dataset
        right = {"open": "PUBLIC", "registered": "RESTRICTED", "restricted": "NON_PUBLIC"}[entry.access]
        assert data.value(dataset, DCTERMS.accessRights) == rdflib.URIRef(f"{EU}access-right/{right}")
        assert set(data.objects(dataset, DCAT.theme)) == {rdflib.URIRef(f"{EU}data-theme/{t}") for t in entry.themes}
        assert data.value(dataset, FH.personalData).toPython() is entry.personal_data
        assert ((dataset, RDF.type, FH.Model) in data) == (entry.kind == "model")
        for distribution in data.objects(dataset, DCAT.distribution):
            licence = data.value(distribution, DCTERMS.license)
            assert (licence, RDF.type, DCTERMS.LicenseDocument) in data
            if not entry.licence.startswith("LicenseRef-"):
                assert licence == rdflib.URIRef(f"http://spdx.org/licenses/{entry.licence}")

    model = rdflib.URIRef(f"{HOMEPAGE}entries/all-minilm-l6-v2")
    assert data.value(model, FH.parameterCount).toPython() == entries["all-minilm-l6-v2"].model.parameters
    sensors = rdflib.URIRef(f"{HOMEPAGE}entries/sensor-readings")
    formats = {data.value(d, DCTERMS["format"]) for d in data.objects(sensors, DCAT.distribution)}
    assert formats == {rdflib.URIRef(f"{EU}file-type/PARQUET"), rdflib.URIRef(f"{EU}file-type/CSV")}
    genomics = rdflib.URIRef(f"{HOMEPAGE}entries/genomics-variant-calls-cohort")
    assert str(data.value(genomics, FH.lawfulBasis)) == "public-task"

    catalog = rdflib.URIRef(f"{HOMEPAGE}#catalogue")
    assert (catalog, RDF.type, DCAT.Catalog) in data
    assert data.value(catalog, FOAF.homepage) == rdflib.URIRef(HOMEPAGE)
    assert len(set(data.objects(catalog, DCAT.dataset))) == len(entries)


@pytest.mark.parametrize("changes", [{"homepage": "/services/factoryhub-catalogue/"},
                                     {"homepage": "ftp://hub.example.eu/"}, {"language": "english"}])
def test_catalogue_info_refuses_settings_the_export_cannot_use(changes):
    fields = {"title": "T", "description": "D", "publisher": Agent("P"), "homepage": HOMEPAGE, **changes}
    with pytest.raises(ValueError):
        CatalogueInfo(**fields)


# --- checksums and provenance (PROV-O) ------------------------------------------------------------

PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
SPDX_TERMS = rdflib.Namespace("http://spdx.org/rdf/terms#")
RDFS = rdflib.Namespace("http://www.w3.org/2000/01/rdf-schema#")
OWL = rdflib.Namespace("http://www.w3.org/2002/07/owl#")
XSD = rdflib.Namespace("http://www.w3.org/2001/XMLSchema#")
FILE_SUM, FOLDER_SUM = "0f" * 32, "a1" * 32
FULL_PROVENANCE = {
    "sources": [{"name": "Weather service archive", "url": "https://archive.example.eu/", "licence": "CC-BY-4.0",
                 "collected": "2024-03-01"},
                {"name": "Station register", "licence": "LicenseRef-register-terms", "collected": "2024-03-04"}],
    "steps": [{"action": "cropped to Europe", "tool": "xarray", "version": "2024.11.0"},
              {"action": "reviewed outliers by hand"},
              {"action": "aggregated to daily means", "tool": "cdo", "version": "2.4.0"}],
    "curated_by": {"name": "Climate data team", "email": "climate@example.eu"}, "curated_on": "2024-03-10",
    "statement": "Contains data of the weather service.",
}


def traced_entry(**changes) -> Entry:
    """An entry with full provenance, a file distribution and a directory distribution, both with checksums."""
    return entry_from_document("traced", entry_document(provenance=FULL_PROVENANCE, distributions=[
        {"title": "Table", "format": "csv", "location": "/srv/factoryhub/datasets/traced/table.csv",
         "sha256": FILE_SUM},
        {"title": "Tiles", "format": "zarr", "location": "/srv/factoryhub/datasets/traced/tiles.zarr",
         "sha256": FOLDER_SUM},
        {"title": "Notes", "format": "txt", "location": "/srv/factoryhub/datasets/traced/notes.txt"}], **changes))


@pytest.mark.parametrize("usable", [True, False], ids=["may use", "may not use"])
def test_export_with_checksums_and_full_provenance_conforms_to_dcat_ap(usable):
    entries = [traced_entry(), *example_entries()]
    assert_conforms(catalogue_jsonld(INFO, entries, lambda entry: usable))


def test_checksums_are_spdx_checksums_with_the_sha256_algorithm_and_hex_values():
    data = parse(catalogue_jsonld(INFO, [traced_entry()], lambda e: False))
    dataset = rdflib.URIRef(f"{HOMEPAGE}entries/traced")
    sums = {}
    for distribution in data.objects(dataset, DCAT.distribution):
        checksum = data.value(distribution, SPDX_TERMS.checksum)
        if checksum is None:
            continue
        assert (checksum, RDF.type, SPDX_TERMS.Checksum) in data
        algorithm = data.value(checksum, SPDX_TERMS.algorithm)
        assert algorithm == SPDX_TERMS.checksumAlgorithm_sha256
        assert (algorithm, RDF.type, SPDX_TERMS.ChecksumAlgorithm) in data
        value = data.value(checksum, SPDX_TERMS.checksumValue)
        assert value.datatype == XSD.hexBinary
        sums[str(data.value(distribution, DCTERMS["title"]))] = str(value)
    assert sums == {"Table": FILE_SUM, "Tiles": FOLDER_SUM}  # the notes have none


def test_provenance_is_exported_as_prov_o_sources_activities_in_order_and_the_curator():
    entry = traced_entry()
    data = parse(catalogue_jsonld(INFO, [entry], lambda e: False))
    dataset = rdflib.URIRef(f"{HOMEPAGE}entries/traced")

    statement = data.value(dataset, DCTERMS.provenance)
    assert (statement, RDF.type, DCTERMS.ProvenanceStatement) in data
    assert str(data.value(statement, RDFS.label)) == entry.provenance.text

    sources = sorted(data.objects(dataset, PROV.wasDerivedFrom))
    assert [str(data.value(s, DCTERMS["title"])) for s in sources] == ["Weather service archive", "Station register"]
    assert all((s, RDF.type, PROV.Entity) in data for s in sources)
    assert data.value(sources[0], DCTERMS.license) == rdflib.URIRef("http://spdx.org/licenses/CC-BY-4.0")
    assert (data.value(sources[1], DCTERMS.license), RDF.type, DCTERMS.LicenseDocument) in data
    assert data.value(sources[0], FOAF.page) == rdflib.URIRef("https://archive.example.eu/")
    assert data.value(sources[1], FOAF.page) is None

    activities = set(data.objects(dataset, PROV.wasGeneratedBy))
    assert all((a, RDF.type, PROV.Activity) in data for a in activities) and len(activities) == 4
    collection = rdflib.URIRef(f"{HOMEPAGE}entries/traced#collection")
    assert set(data.objects(collection, PROV.used)) == set(sources)
    collected = {data.value(u, PROV.entity): data.value(u, DCTERMS.date)
                 for u in data.objects(collection, PROV.qualifiedUsage)}
    assert {str(s): d.toPython() for s, d in collected.items()} == {
        str(sources[0]): dt.date(2024, 3, 1), str(sources[1]): dt.date(2024, 3, 4)}
    period = data.value(collection, DCTERMS.temporal)
    assert (data.value(period, DCAT.startDate).toPython(), data.value(period, DCAT.endDate).toPython()) == \
        (dt.date(2024, 3, 1), dt.date(2024, 3, 4))

    # the steps follow one another: each informed by the one before, the first by the collection
    chain, previous = [], collection
    for _ in entry.provenance.steps:
        [step] = [a for a in activities if data.value(a, PROV.wasInformedBy) == previous]
        chain.append(step)
        previous = step
    assert [str(data.value(s, RDFS.label)) for s in chain] == [s.action for s in entry.provenance.steps]
    tools = []
    for step in chain:
        agent = data.value(step, PROV.wasAssociatedWith)
        if agent is not None:
            assert (agent, RDF.type, PROV.SoftwareAgent) in data
            tools.append((str(data.value(agent, FOAF.name)), str(data.value(agent, OWL.versionInfo))))
    assert tools == [("xarray", "2024.11.0"), ("cdo", "2.4.0")]

    attribution = data.value(dataset, PROV.qualifiedAttribution)
    assert (attribution, RDF.type, PROV.Attribution) in data
    curator = data.value(attribution, PROV.agent)
    assert (curator, RDF.type, FOAF.Agent) in data and (curator, RDF.type, PROV.Agent) in data
    assert str(data.value(curator, FOAF.name)) == "Climate data team"
    assert data.value(curator, FOAF.mbox) == rdflib.URIRef("mailto:climate@example.eu")
    role = data.value(attribution, DCAT.hadRole)
    assert (role, RDF.type, DCAT.Role) in data
    assert data.value(attribution, DCTERMS.date).toPython() == dt.date(2024, 3, 10)


def test_legacy_free_text_provenance_is_a_statement_only():
    legacy = entry_from_document("legacy", entry_document(provenance="Exported from the old archive in 2019."))
    data = assert_conforms(catalogue_jsonld(INFO, [legacy], lambda e: False))
    dataset = rdflib.URIRef(f"{HOMEPAGE}entries/legacy")
    statement = data.value(dataset, DCTERMS.provenance)
    assert str(data.value(statement, RDFS.label)) == "Exported from the old archive in 2019."
    assert not list(data.objects(dataset, PROV.wasGeneratedBy))
    assert not list(data.objects(dataset, PROV.wasDerivedFrom))
    assert data.value(dataset, PROV.qualifiedAttribution) is None
