"""An entry's provenance: where the data came from (sources with their licences and collection
dates), what was done to it (processing steps in order, with tool and version) and who curated it.

The entry schema checks the shape; this module builds the typed record and checks what a schema
cannot (dates that exist, curation after collection). A free-text provenance from before
structured provenance is still accepted, as a record with only the statement and
``structured=False``: the entry stays online and the stewards are told to give the structure.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

DOCS = "docs/catalogue.md#provenance"
FREE_TEXT_NOTICE = f"is free text; give sources, steps and curated_by ({DOCS})"


@dataclass(frozen=True, slots=True)
class ProvenanceSource:
    """Where data came from: its name, the licence it came under, when it was collected and an optional URL."""
    name: str
    licence: str  # SPDX id or LicenseRef-…, the licence of the source (not of the entry)
    collected: dt.date  # when the data was collected or retrieved from the source
    url: str | None = None


@dataclass(frozen=True, slots=True)
class ProcessingStep:
    """One thing done to the data, in order: the action, and the tool (with its version) that did it."""
    action: str
    tool: str | None = None  # None: done by hand (e.g. a manual review)
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Curator:
    """Who curated the entry for the catalogue: a person or a team, with an optional e-mail address."""
    name: str
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Provenance:
    """An entry's provenance: sources, processing steps, curator and an optional statement (e.g. an
    attribution line the source requires). ``structured`` is False for legacy free text, which
    then is the statement alone."""
    sources: tuple[ProvenanceSource, ...] = ()
    steps: tuple[ProcessingStep, ...] = ()
    curated_by: Curator | None = None
    curated_on: dt.date | None = None
    statement: str = ""
    structured: bool = True

    @property
    def text(self) -> str:
        """The provenance as one readable paragraph (the DCAT provenance statement, the lab panel)."""
        if not self.structured:
            return self.statement
        sentences = [("Source: " if len(self.sources) == 1 else "Sources: ")
                     + "; ".join(_source_text(s) for s in self.sources) + "."]
        if self.steps:
            sentences.append("Processing: " + "; ".join(f"{n}. {_step_text(s)}"
                                                         for n, s in enumerate(self.steps, 1)) + ".")
        else:
            sentences.append("Processing: none, used as collected.")
        if self.curated_by:
            on = f" on {self.curated_on.isoformat()}" if self.curated_on else ""
            sentences.append(f"Curated by {self.curated_by.name}{on}.")
        if self.statement:
            sentences.append(self.statement)
        return " ".join(sentences)

    def record(self) -> dict:
        """The provenance as JSON (the API's provenance_record): dates as ISO text."""
        return {
            "structured": self.structured,
            "sources": [{"name": s.name, "url": s.url, "licence": s.licence, "collected": s.collected.isoformat()}
                        for s in self.sources],
            "steps": [{"action": s.action, "tool": s.tool, "version": s.version} for s in self.steps],
            "curated_by": None if self.curated_by is None else {"name": self.curated_by.name,
                                                                "email": self.curated_by.email},
            "curated_on": self.curated_on.isoformat() if self.curated_on else None,
            "statement": self.statement or None,
        }


def _source_text(source: ProvenanceSource) -> str:
    where = f" <{source.url}>" if source.url else ""
    return f"{source.name}{where} (licence {source.licence}, collected {source.collected.isoformat()})"


def _step_text(step: ProcessingStep) -> str:
    action = step.action.rstrip(".")
    if not step.tool:
        return action
    return f"{action} (with {step.tool}{' ' + step.version if step.version else ''})"


class ProvenanceProblem(ValueError):
    """A provenance that passed the schema but means nothing possible; carries the field it names."""
    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def provenance_from(value: str | dict, parse_date: Callable[[str, str], dt.date]) -> Provenance:
    """Build the record from a schema-valid ``provenance`` value (free text or mapping).

    ``parse_date(field, text)`` turns text into a date or raises for a date that does not exist.
    """
    if isinstance(value, str):
        return Provenance(statement=value.strip(), structured=False)
    sources = tuple(ProvenanceSource(name=s["name"].strip(), licence=s["licence"], url=s.get("url"),
                                     collected=parse_date(f"provenance.sources[{n}].collected", s["collected"]))
                    for n, s in enumerate(value["sources"]))
    steps = tuple(ProcessingStep(action=s["action"].strip(), tool=_stripped(s.get("tool")),
                                 version=_stripped(s.get("version"))) for s in value["steps"])
    curator = value["curated_by"]
    curated_on = parse_date("provenance.curated_on", value["curated_on"]) if "curated_on" in value else None
    for n, source in enumerate(sources):
        if curated_on and curated_on < source.collected:
            raise ProvenanceProblem("provenance.curated_on", f"{curated_on.isoformat()} is before "
                                    f"provenance.sources[{n}].collected ({source.collected.isoformat()}): "
                                    "data cannot be curated before it was collected")
    return Provenance(sources=sources, steps=steps,
                      curated_by=Curator(curator["name"].strip(), curator.get("email")),
                      curated_on=curated_on, statement=(value.get("statement") or "").strip())


def _stripped(text: str | None) -> str | None:
    return text.strip() if text is not None else None
