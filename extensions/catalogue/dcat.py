"""The catalogue as DCAT-AP 3 JSON-LD, for national portals' harvesters and for users.

Pure: entries and the viewer's permission in, one JSON-LD document (a dict) out. Every entry
is a dcat:Dataset (models too, additionally typed fh:Model) whose IRI is its page in the
catalogue; that page is also its landing page and the access URL of its distributions, since
access is requested there. The cluster path of a distribution appears only for an entry the
viewer may use. What DCAT-AP has no property for (personal data, lawful basis, intended use,
model size…) goes under the FactoryHub namespace ``fh:``; the DCAT-AP shapes are open.

Provenance is both a dct:ProvenanceStatement (its readable summary) and, for structured
provenance, PROV-O: the sources as prov:Entity (prov:wasDerivedFrom), a collection activity
and one activity per processing step, chained by prov:wasInformedBy (prov:wasGeneratedBy),
each step associated with its tool as a prov:SoftwareAgent, and the curator as a
prov:qualifiedAttribution. A distribution's SHA-256 at curation is an spdx:checksum (for a
directory, of its manifest: docs/catalogue.md#integrity).

Vocabulary values (themes, access rights, file types, licences, language) are typed in the
document itself, because the DCAT-AP 3.0.1 range shapes check the class of every value and
the EU authority tables that a harvester would load type their concepts only as skos:Concept.
"""
from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from .entries import Agent, ContactPoint, Distribution, Entry, Place, ProcessingStep, Provenance

EU = "http://publications.europa.eu/resource/authority/"
IANA = "http://www.iana.org/assignments/media-types/"
SPDX = "http://spdx.org/licenses/"
FH = "https://factoryhub.eu/ns#"
SPDX_TERMS = "http://spdx.org/rdf/terms#"
CURATOR_ROLE = "http://id.loc.gov/vocabulary/relators/cur"  # MARC relator "Curator"

_IRI_VALUED = ("dcat:dataset", "dcat:theme", "dcat:themeTaxonomy", "dcat:landingPage", "dcat:accessURL",
               "dcat:downloadURL", "dcat:mediaType", "dct:format", "dct:license", "dct:accessRights",
               "dct:language", "foaf:homepage", "vcard:hasEmail", "skos:inScheme", "foaf:page", "foaf:mbox",
               "prov:wasDerivedFrom", "prov:wasGeneratedBy", "prov:wasInformedBy", "prov:used", "prov:entity",
               "dcat:hadRole", "spdx:algorithm")
_DATE_VALUED = ("dct:issued", "dct:modified", "dcat:startDate", "dcat:endDate", "dct:date")

CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "locn": "http://www.w3.org/ns/locn#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "prov": "http://www.w3.org/ns/prov#",
    "spdx": SPDX_TERMS,
    "owl": "http://www.w3.org/2002/07/owl#",
    "fh": FH,
    **{term: {"@type": "@id"} for term in _IRI_VALUED},
    **{term: {"@type": "xsd:date"} for term in _DATE_VALUED},
    "dcat:byteSize": {"@type": "xsd:nonNegativeInteger"},
    "fh:parameterCount": {"@type": "xsd:integer"},
    "fh:personalData": {"@type": "xsd:boolean"},
    "spdx:checksumValue": {"@type": "xsd:hexBinary"},
}

THEME_SCHEME = EU + "data-theme"
THEMES = {  # the EU data-theme authority table's English labels
    "AGRI": "Agriculture, fisheries, forestry and food", "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport", "ENER": "Energy", "ENVI": "Environment",
    "GOVE": "Government and public sector", "HEAL": "Health", "INTR": "International issues",
    "JUST": "Justice, legal system and public safety", "OP_DATPRO": "Provisional data",
    "REGI": "Regions and cities", "SOCI": "Population and society", "TECH": "Science and technology",
    "TRAN": "Transport",
}
ACCESS_RIGHTS = {"open": ("PUBLIC", "public"), "registered": ("RESTRICTED", "restricted"),
                 "restricted": ("NON_PUBLIC", "non-public")}

# Entry format -> (EU file-type code, IANA media type or None). Where the EU table has no code
# (JSON Lines, Zarr, model weights and model directories) the closest one is given, and fh:format
# keeps the exact name; a media type only where IANA registers one.
FORMATS = {
    "csv": ("CSV", "text/csv"), "parquet": ("PARQUET", "application/vnd.apache.parquet"),
    "json": ("JSON", "application/json"), "jsonl": ("JSON", None), "netcdf": ("NETCDF", None),
    "zarr": ("BIN", None), "hdf5": ("HDF", None), "tiff": ("TIFF", "image/tiff"), "png": ("PNG", "image/png"),
    "jpeg": ("JPEG", "image/jpeg"), "txt": ("TXT", "text/plain"), "tar": ("TAR", None),
    "zip": ("ZIP", "application/zip"), "safetensors": ("BIN", "application/octet-stream"),
    "pytorch": ("BIN", "application/octet-stream"), "onnx": ("BIN", "application/octet-stream"),
    "huggingface": ("BIN", None),
}

# ISO 639-1 -> the EU language authority table (the official EU languages and EEA neighbours).
LANGUAGES = {
    "bg": "BUL", "cs": "CES", "da": "DAN", "de": "DEU", "el": "ELL", "en": "ENG", "es": "SPA", "et": "EST",
    "fi": "FIN", "fr": "FRA", "ga": "GLE", "hr": "HRV", "hu": "HUN", "it": "ITA", "lt": "LIT", "lv": "LAV",
    "mt": "MLT", "nl": "NLD", "pl": "POL", "pt": "POR", "ro": "RON", "sk": "SLK", "sl": "SLV", "sv": "SWE",
    "is": "ISL", "nb": "NOB", "nn": "NNO", "no": "NOR",
}


@dataclass(frozen=True)
class CatalogueInfo:
    """The catalogue itself; checked when made, so a bad setting fails where it is read."""

    title: str
    description: str
    publisher: Agent
    homepage: str  # absolute URL of the catalogue's pages, e.g. https://hub.example.eu/services/factoryhub-catalogue/
    language: str = "en"  # ISO 639-1 code of the entries' text

    def __post_init__(self):
        url = urlsplit(self.homepage)
        if url.scheme not in ("http", "https") or not url.netloc or url.query or url.fragment:
            raise ValueError(f"catalogue homepage {self.homepage!r} must be an absolute http(s) URL "
                             "without query or fragment, e.g. https://hub.example.eu/services/factoryhub-catalogue/")
        if self.language not in LANGUAGES:
            raise ValueError(f"catalogue language {self.language!r} is not one of {', '.join(sorted(LANGUAGES))}")


def catalogue_jsonld(info: CatalogueInfo, entries: Sequence[Entry], may_use: Callable[[Entry], bool]) -> dict:
    """The catalogue as DCAT-AP 3 JSON-LD.

    Locations (the cluster paths) appear only for entries where may_use(entry) is True.
    """
    base = info.homepage if info.homepage.endswith("/") else info.homepage + "/"
    vocabulary: dict[str, dict] = {}
    datasets = [_dataset(entry, base, may_use(entry), vocabulary) for entry in entries]
    language = _node(vocabulary, EU + "language/" + LANGUAGES[info.language], "dct:LinguisticSystem")
    _node(vocabulary, base, "foaf:Document")
    _node(vocabulary, THEME_SCHEME, "skos:ConceptScheme", {"dct:title": "Data theme"})
    catalog = {
        "@id": base + "#catalogue", "@type": "dcat:Catalog",
        "dct:title": info.title, "dct:description": info.description,
        "dct:publisher": _agent(info.publisher), "foaf:homepage": base, "dct:language": language,
        "dcat:themeTaxonomy": THEME_SCHEME, "dcat:dataset": [d["@id"] for d in datasets],
    }
    dates = [e.modified or e.issued for e in entries if e.modified or e.issued]
    if dates:
        catalog["dct:modified"] = max(dates).isoformat()
    return {"@context": copy.deepcopy(CONTEXT),
            "@graph": [catalog, *datasets, *(vocabulary[k] for k in sorted(vocabulary))]}


def entry_iri(base: str, entry: Entry) -> str:
    """The IRI of ``entry`` in the DCAT export, under the catalogue's public ``base`` URL."""
    return f"{base}entries/{entry.id}"  # ids are [a-z0-9._-]: safe in a path


def _dataset(entry: Entry, base: str, usable: bool, vocabulary: dict) -> dict:
    iri = entry_iri(base, entry)
    right, right_label = ACCESS_RIGHTS[entry.access]
    node = {
        # The entry's page is both the dataset's IRI and its landing page, hence foaf:Document.
        "@id": iri, "@type": ["dcat:Dataset", "foaf:Document"] + (["fh:Model"] if entry.kind == "model" else []),
        "dct:identifier": entry.id, "dct:title": entry.title, "dct:description": entry.description,
        "dcat:keyword": list(entry.keywords),
        "dcat:theme": [_theme(vocabulary, code) for code in entry.themes],
        "dct:publisher": _agent(entry.publisher), "dcat:contactPoint": _contact(entry.contact_point),
        "dct:accessRights": _node(vocabulary, EU + "access-right/" + right, "dct:RightsStatement",
                                  {"skos:prefLabel": {"@value": right_label, "@language": "en"}}),
        "dcat:landingPage": iri,
        "dct:provenance": {"@type": "dct:ProvenanceStatement", "rdfs:label": entry.provenance.text},
        "dcat:distribution": [_distribution(entry, n, dist, iri, usable, vocabulary)
                              for n, dist in enumerate(entry.distributions, 1)],
        "fh:personalData": entry.personal_data, "fh:intendedUse": entry.intended_use,
        "fh:limitations": entry.limitations,
    }
    for key, value in (("dct:issued", entry.issued), ("dct:modified", entry.modified)):
        if value:
            node[key] = value.isoformat()
    period = {key: day.isoformat() for key, day in (("dcat:startDate", entry.temporal_start),
                                                    ("dcat:endDate", entry.temporal_end)) if day}
    if period:
        node["dct:temporal"] = {"@type": "dct:PeriodOfTime", **period}
    if entry.spatial:
        node["dct:spatial"] = [_place(place) for place in entry.spatial]
    if entry.lawful_basis:
        node["fh:lawfulBasis"] = entry.lawful_basis
    if entry.retention:
        node["fh:retention"] = entry.retention
    if entry.provenance.structured:
        node.update(_prov(entry.provenance, iri, vocabulary))
    if entry.model:
        node.update({"fh:modelFamily": entry.model.family, "fh:parameterCount": entry.model.parameters})
        if entry.model.task:
            node["fh:modelTask"] = entry.model.task
        if entry.model.base_model:
            node["fh:baseModel"] = entry.model.base_model
    return node


def _distribution(entry: Entry, n: int, dist: Distribution, iri: str, usable: bool, vocabulary: dict) -> dict:
    file_type, media_type = FORMATS[dist.format]
    node = {
        "@id": f"{iri}#distribution-{n}", "@type": "dcat:Distribution", "dct:title": dist.title,
        "dct:format": _node(vocabulary, EU + "file-type/" + file_type, "dct:MediaTypeOrExtent"),
        "fh:format": dist.format,
        "dct:license": _licence(vocabulary, entry.licence),
        "dcat:accessURL": iri,  # where access is requested (and, for a user who may, the paths shown)
    }
    if dist.description:
        node["dct:description"] = dist.description
    if media_type:
        node["dcat:mediaType"] = _node(vocabulary, IANA + media_type, "dct:MediaType")
    if dist.byte_size is not None:
        node["dcat:byteSize"] = str(dist.byte_size)
    if dist.sha256:
        node["spdx:checksum"] = {
            "@type": "spdx:Checksum", "spdx:checksumValue": dist.sha256,
            "spdx:algorithm": _node(vocabulary, SPDX_TERMS + "checksumAlgorithm_sha256", "spdx:ChecksumAlgorithm",
                                    {"rdfs:label": "SHA-256"})}
    if entry.terms:
        node["dct:rights"] = {"@type": "dct:RightsStatement", "rdfs:label": entry.terms}
    if usable:
        node["dcat:downloadURL"] = "file://" + quote(dist.location, safe="/")
        node["fh:location"] = dist.location
    return node


def _prov(provenance: Provenance, iri: str, vocabulary: dict) -> dict:
    """The dataset's PROV-O properties: sources, the activities that made it, and its curator."""
    sources = []
    for n, source in enumerate(provenance.sources, 1):
        entity = {"@id": f"{iri}#source-{n}", "@type": "prov:Entity", "dct:title": source.name,
                  "dct:license": _licence(vocabulary, source.licence)}
        if source.url:
            entity["foaf:page"] = _node(vocabulary, source.url, "foaf:Document")
        sources.append(entity)
    days = sorted(s.collected for s in provenance.sources)
    collection = {
        "@id": f"{iri}#collection", "@type": "prov:Activity", "rdfs:label": "Collection from the sources",
        "prov:used": [s["@id"] for s in sources],
        "prov:qualifiedUsage": [{"@type": "prov:Usage", "prov:entity": s["@id"],
                                 "dct:date": source.collected.isoformat()}
                                for s, source in zip(sources, provenance.sources)],
        # PROV's times are xsd:dateTime; a collection date is a day, so it is a period of days
        "dct:temporal": {"@type": "dct:PeriodOfTime", "dcat:startDate": days[0].isoformat(),
                         "dcat:endDate": days[-1].isoformat()},
    }
    activities = [collection]
    for n, step in enumerate(provenance.steps, 1):
        activities.append(_step(step, f"{iri}#step-{n}", activities[-1]["@id"]))
    node = {"prov:wasDerivedFrom": sources, "prov:wasGeneratedBy": activities}
    if provenance.curated_by:
        agent = {"@type": ["foaf:Agent", "prov:Agent"], "foaf:name": provenance.curated_by.name}
        if provenance.curated_by.email:
            agent["foaf:mbox"] = "mailto:" + quote(provenance.curated_by.email, safe="@!$&'*+=")
        attribution = {"@type": "prov:Attribution", "prov:agent": agent,
                       "dcat:hadRole": _node(vocabulary, CURATOR_ROLE, ["dcat:Role", "skos:Concept"],
                                             {"skos:prefLabel": {"@value": "curator", "@language": "en"}})}
        if provenance.curated_on:
            attribution["dct:date"] = provenance.curated_on.isoformat()
        node["prov:qualifiedAttribution"] = attribution
    return node


def _step(step: ProcessingStep, step_iri: str, previous: str) -> dict:
    """One processing step as a prov:Activity after ``previous``, associated with its tool (if any)."""
    activity = {"@id": step_iri, "@type": "prov:Activity", "rdfs:label": step.action, "prov:wasInformedBy": previous}
    if step.tool:
        software = {"@type": ["prov:SoftwareAgent", "prov:Agent"], "foaf:name": step.tool}
        if step.version:
            software["owl:versionInfo"] = step.version
        activity["prov:wasAssociatedWith"] = software
    return activity


def _node(vocabulary: dict, iri: str, rdf_type: str | list[str], extra: dict | None = None) -> str:
    """Declare a vocabulary value once in the graph; the datasets refer to it by IRI."""
    vocabulary.setdefault(iri, {"@id": iri, "@type": rdf_type, **(extra or {})})
    return iri


def _theme(vocabulary: dict, code: str) -> str:
    return _node(vocabulary, f"{THEME_SCHEME}/{code}", "skos:Concept",
                 {"skos:prefLabel": {"@value": THEMES[code], "@language": "en"}, "skos:inScheme": THEME_SCHEME})


def _licence(vocabulary: dict, licence: str) -> str:
    if licence.startswith("LicenseRef-"):  # a site's own terms: no public document to point to
        return _node(vocabulary, "_:" + licence, "dct:LicenseDocument", {"rdfs:label": licence})
    return _node(vocabulary, SPDX + licence, "dct:LicenseDocument", {"rdfs:label": licence})


def _agent(agent: Agent) -> dict:
    node = {"@type": "foaf:Agent", "foaf:name": agent.name}
    if agent.url:
        node["foaf:homepage"] = agent.url
    return node


def _contact(contact: ContactPoint) -> dict:
    return {"@type": "vcard:Kind", "vcard:fn": contact.name,
            "vcard:hasEmail": "mailto:" + quote(contact.email, safe="@!$&'*+=")}


def _place(place: Place) -> dict:
    node = {"@type": "dct:Location", "locn:geographicName": place.name}
    return {"@id": place.uri, **node} if place.uri else node
