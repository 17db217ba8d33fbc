"""Catalogue entries: one YAML file per dataset or model, validated by entry.schema.json.

Loading is pure (files in, entries and problems out). A broken file is reported with its
file, field and reason and left out; it never takes the other entries down.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

import fastjsonschema
import yaml

from .provenance import (
    FREE_TEXT_NOTICE,
    Curator,
    ProcessingStep,
    Provenance,
    ProvenanceProblem,
    ProvenanceSource,
    provenance_from,
)

__all__ = ["Agent", "ContactPoint", "Curator", "Distribution", "Entry", "EntryError", "EntryProblem", "ModelInfo",
           "Place", "ProcessingStep", "Provenance", "ProvenanceSource", "entry_files", "entry_from_document",
           "entry_notices", "load_entry"]

SCHEMA_FILE = Path(__file__).with_name("entry.schema.json")
ENTRY_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")
MAX_FILE_BYTES = 256 * 1024  # an entry is a page of YAML; anything larger is a mistake
SUFFIXES = (".yaml", ".yml")

_validate = fastjsonschema.compile(json.loads(SCHEMA_FILE.read_text()))


class _EntryLoader(yaml.CSafeLoader):
    """Safe YAML, with dates left as text (checked by field, below) and a key given twice refused:
    YAML forbids it, and 'last one wins' could silently open a restricted entry."""

    yaml_implicit_resolvers = {first: [(tag, regexp) for tag, regexp in resolvers
                                       if tag != "tag:yaml.org,2002:timestamp"]
                               for first, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()}

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"the field {key!r} is given twice",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


@dataclass(frozen=True, slots=True)
class EntryProblem:
    """One reason an entry file was refused: the file, the field (empty for the whole file) and why."""
    file: str
    field: str
    reason: str

    def describe(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}" if self.field else f"{self.file}: {self.reason}"


class EntryError(ValueError):
    """An entry file that cannot be loaded; carries the :class:`EntryProblem` that says why."""
    def __init__(self, problem: EntryProblem):
        super().__init__(problem.describe())
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Agent:
    """A publisher or creator of an entry (dct:publisher, dct:creator): a name and an optional home page."""
    name: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ContactPoint:
    """Whom to ask about an entry (dcat:contactPoint): a name and an e-mail address."""
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Place:
    """A place an entry covers (dct:spatial): a name and an optional IRI, e.g. a GeoNames one."""
    name: str
    uri: str | None = None


@dataclass(frozen=True, slots=True)
class Distribution:
    """One way to get an entry's data (dcat:Distribution): its format, location and size."""
    title: str
    format: str
    location: str
    byte_size: int | None = None
    description: str = ""
    sha256: str | None = None  # at curation: of the file, or of a directory's manifest (integrity.py)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a model entry is: its family, parameter count, task and the model it was tuned from."""
    family: str
    parameters: int
    task: str | None = None
    base_model: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One validated catalogue entry (a dataset or a model), as read from its YAML file."""
    id: str
    kind: str  # dataset | model
    title: str
    description: str
    keywords: tuple[str, ...]
    themes: tuple[str, ...]
    publisher: Agent
    contact_point: ContactPoint
    licence: str  # SPDX id
    access: str  # open | registered | restricted
    groups: tuple[str, ...]
    personal_data: bool
    provenance: Provenance
    intended_use: str
    limitations: str
    distributions: tuple[Distribution, ...]
    terms: str = ""
    lawful_basis: str | None = None
    retention: str | None = None
    issued: dt.date | None = None
    modified: dt.date | None = None
    temporal_start: dt.date | None = None
    temporal_end: dt.date | None = None
    spatial: tuple[Place, ...] = ()
    model: ModelInfo | None = None

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(sorted({d.format for d in self.distributions}))


MAX_VALUES = 20_000  # an entry has a few hundred; YAML aliases can make a small file expand without bound


def _plain(value, budget: list[int]):
    """YAML's dates and times as the ISO text the schema expects (the schema speaks JSON),
    counting values against ``budget`` so that an alias bomb stops here, not in the validator."""
    budget[0] -= 1
    if budget[0] < 0:
        raise ValueError(f"has more than {MAX_VALUES} values (are YAML aliases expanding?)")
    if isinstance(value, dict):
        return {k: _plain(v, budget) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, budget) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _date(file: str, field: str, text: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        raise EntryError(EntryProblem(file, field, f"{text!r} is not a date that exists")) from None


# the schema's conditional rules (allOf/if/then), and required fields that need a word of help
_REQUIRED_WHEN = {"groups": "is required when access is restricted",
                  "lawful_basis": "is required when personal_data is true",
                  "retention": "is required when personal_data is true",
                  "model": "is required for kind: model (family and parameters)",
                  "provenance.sources": "is required: where the data came from (name, licence, collected)",
                  "provenance.steps": "is required: what was done to the data, in order "
                                      "([] for data used as collected)",
                  "provenance.curated_by": "is required: who curated the entry (name, optional email)"}
_DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def _field_of(err: fastjsonschema.JsonSchemaValueException) -> tuple[str, str]:
    """('distributions[0].byte_size', 'must be integer') from fastjsonschema's 'data.…' message."""
    name = err.name if err.name != "data" else ""
    field = name.removeprefix("data.").removeprefix("data")
    reason = err.message.removeprefix(err.name).strip() or err.message
    definition = err.definition if isinstance(err.definition, dict) else {}
    if err.rule == "additionalProperties" and isinstance(err.value, dict):
        extra = sorted(set(err.value) - set(definition.get("properties", {})))
        reason = f"unknown field(s) {', '.join(extra)} (allowed: {', '.join(sorted(definition['properties']))})"
    elif err.rule == "pattern" and definition.get("pattern") == "\\S":
        reason = "must not be blank"
    elif err.rule == "pattern" and definition.get("pattern", "").startswith("^([A-Za-z0-9]"):
        reason = f"{err.value!r} is not an SPDX licence id (e.g. CC-BY-4.0) or LicenseRef-<name>"
    elif err.rule == "pattern" and definition.get("pattern") == _DATE_PATTERN:
        reason = f"{err.value!r} is not a date written YYYY-MM-DD"
    elif err.rule == "type" and field.endswith(".version") and isinstance(err.value, (int, float)):
        reason = f"must be text: quote it (\"{err.value}\"), or YAML reads a version like 2.10 as the number 2.1"
    elif err.rule == "type" and field == "provenance":
        reason = "must be a mapping of sources, steps and curated_by (docs/catalogue.md#provenance)"
    elif err.rule == "dependencies" and isinstance(err.value, dict):
        field, reason = ".".join(filter(None, [field, "version"])), "is given without tool (the version of what?)"
    elif err.rule == "enum":
        reason = f"{err.value!r} is not one of {', '.join(map(str, definition['enum']))}"
    elif err.rule == "required" and isinstance(err.value, dict):
        missing = [key for key in definition.get("required", []) if key not in err.value]
        field = ".".join(filter(None, [field, missing[0] if missing else ""]))
        reason = _REQUIRED_WHEN.get(field, "is required")
    elif err.rule == "not" and field == "" and isinstance(err.value, dict) and "model" in err.value:
        field, reason = "model", "only a model entry (kind: model) has a model block"
    return field, reason


def entry_from_document(entry_id: str, document: dict, file: str = "") -> Entry:
    """Validate one parsed entry and build it; EntryError names the field and the reason."""
    try:
        document = _plain(document, [MAX_VALUES])
    except ValueError as err:
        raise EntryError(EntryProblem(file or entry_id, "", str(err))) from None
    try:
        _validate(document)
    except fastjsonschema.JsonSchemaValueException as err:
        field, reason = _field_of(err)
        raise EntryError(EntryProblem(file or entry_id, field, reason)) from None
    file = file or entry_id
    temporal = document.get("temporal", {})
    model = document.get("model")
    entry = Entry(
        id=entry_id, kind=document["kind"], title=document["title"].strip(),
        description=document["description"].strip(), keywords=tuple(document["keywords"]),
        themes=tuple(document["themes"]), publisher=Agent(**document["publisher"]),
        contact_point=ContactPoint(**document["contact_point"]), licence=document["licence"],
        access=document["access"], groups=tuple(document.get("groups", ())),
        personal_data=document["personal_data"],
        provenance=_provenance(file, document["provenance"]),
        intended_use=document["intended_use"].strip(), limitations=document["limitations"].strip(),
        distributions=tuple(Distribution(**d) for d in document["distributions"]),
        terms=document.get("terms", "").strip(), lawful_basis=document.get("lawful_basis"),
        retention=document.get("retention"), issued=_date(file, "issued", document.get("issued")),
        modified=_date(file, "modified", document.get("modified")),
        temporal_start=_date(file, "temporal.start", temporal.get("start")),
        temporal_end=_date(file, "temporal.end", temporal.get("end")),
        spatial=tuple(Place(**p) for p in document.get("spatial", ())),
        model=ModelInfo(**model) if model else None)
    _check_meaning(entry, file or entry_id)
    return entry


def _provenance(file: str, value: str | dict) -> Provenance:
    try:
        return provenance_from(value, lambda field, text: _date(file, field, text))
    except ProvenanceProblem as err:
        raise EntryError(EntryProblem(file, err.field, err.reason)) from None


def entry_notices(entry: Entry, file: str) -> tuple[EntryProblem, ...]:
    """What a steward should fix in an entry that is served all the same (deprecated forms)."""
    if not entry.provenance.structured:
        return (EntryProblem(file, "provenance", FREE_TEXT_NOTICE),)
    return ()


def _check_meaning(entry: Entry, file: str) -> None:
    """What a schema cannot say: dates that exist and run forwards; groups only where they gate."""
    if entry.temporal_start and entry.temporal_end and entry.temporal_end < entry.temporal_start:
        raise EntryError(EntryProblem(file, "temporal.end", "is before temporal.start"))
    if entry.groups and entry.access != "restricted":
        raise EntryError(EntryProblem(file, "groups", f"only a restricted entry has groups (access is {entry.access})"))


def load_entry(path: Path) -> Entry:
    """One entry file; its id is the file name without the suffix."""
    file = str(path)
    entry_id = path.stem
    if not ENTRY_ID.fullmatch(entry_id):
        raise EntryError(EntryProblem(file, "", "the file name (the entry's id) must be lower-case letters, digits, "
                                                "'.', '_' or '-', at most 100 characters"))
    try:
        data = path.read_bytes()
    except OSError as err:
        raise EntryError(EntryProblem(file, "", f"cannot be read ({err.strerror})")) from None
    if len(data) > MAX_FILE_BYTES:
        raise EntryError(EntryProblem(file, "", f"is {len(data)} bytes; an entry may have at most {MAX_FILE_BYTES}"))
    try:
        document = yaml.load(data, Loader=_EntryLoader)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise EntryError(EntryProblem(file, "", f"is not valid YAML ({where}{getattr(err, 'problem', None) or err})")) \
            from None
    except ValueError as err:  # e.g. a date that does not exist (2024-02-30)
        raise EntryError(EntryProblem(file, "", f"is not valid YAML ({err})")) from None
    if not isinstance(document, dict):
        raise EntryError(EntryProblem(file, "", "must be a YAML mapping of fields (title:, description:, …)"))
    return entry_from_document(entry_id, document, file)


def entry_files(directory: Path) -> list[Path]:
    """Every entry file below ``directory`` (sub-folders group entries; hidden ones are skipped)."""
    return sorted(p for p in directory.rglob("*") if p.suffix in SUFFIXES and p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(directory).parts))
