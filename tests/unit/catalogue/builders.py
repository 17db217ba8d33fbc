"""Small catalogue entries for the tests: a valid document with only the fields a test cares about changed."""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from factoryhub.catalogue.entries import Entry, entry_from_document

# Neutral words, so that searches in the tests match only what a test put there.
REQUIRED = {
    "kind": "dataset", "title": "Untitled table", "description": "Nothing worth noting here.",
    "keywords": ["sample"], "themes": ["TECH"], "publisher": {"name": "Publisher"},
    "contact_point": {"name": "Data desk", "email": "desk@example.eu"}, "licence": "CC0-1.0",
    "access": "open", "personal_data": False, "provenance": {
        "sources": [{"name": "Made up for the test", "licence": "CC0-1.0", "collected": "2024-01-02"}],
        "steps": [], "curated_by": {"name": "Data desk"}},
    "intended_use": "Testing the catalogue.", "limitations": "None worth noting.",
    "distributions": [{"title": "Table", "format": "csv", "location": "/srv/factoryhub/datasets/test/table.csv"}],
}
MODEL = {"family": "BERT", "parameters": 22_700_000, "task": "sentence-similarity"}


def document(**changes) -> dict:
    """A valid entry document with ``changes``; a model gets a model block unless one is given."""
    doc = {**REQUIRED, **changes}
    if doc["kind"] == "model" and "model" not in changes:
        doc["model"] = MODEL
    if doc["access"] == "restricted" and "groups" not in changes:
        doc["groups"] = ["medical-imaging"]
    return doc


def entry(entry_id: str = "test-entry", **changes) -> Entry:
    return entry_from_document(entry_id, document(**changes))


_clock = iter(range(1_000_000))


def write(path: Path, text: str) -> Path:
    """Write ``text`` and give the file a modification time no other write in this run had, so
    change detection (mtime, size) never depends on the filesystem's clock resolution."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    stamp = 1_700_000_000_000_000_000 + next(_clock) * 1_000_000_000
    os.utime(path, ns=(stamp, stamp))
    return path


def write_entry(directory: Path, name: str, **changes) -> Path:
    """``directory/name.yaml`` holding a valid entry with ``changes``."""
    return write(directory / f"{name}.yaml", yaml.safe_dump(document(**changes), sort_keys=False))
