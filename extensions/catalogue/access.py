"""Who may use which entry, and what each viewer is shown. Pure decisions, no I/O.

- open: everyone, anonymous harvesters of the public export included;
- registered: every hub user;
- restricted: members of one of the entry's JupyterHub groups (granted after an approved
  access request) and data stewards. Everyone else sees that the entry exists and how to
  ask for it, never where it lies.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from .entries import Distribution, Entry

LAWFUL_BASIS_TEXT = {
    "consent": "the data subjects' consent (GDPR Art. 6(1)(a))",
    "contract": "the performance of a contract (GDPR Art. 6(1)(b))",
    "legal-obligation": "a legal obligation (GDPR Art. 6(1)(c))",
    "vital-interests": "the vital interests of a person (GDPR Art. 6(1)(d))",
    "public-task": "a task in the public interest (GDPR Art. 6(1)(e))",
    "legitimate-interests": "legitimate interests (GDPR Art. 6(1)(f))",
}


@dataclass(frozen=True)
class Viewer:
    """Who is looking at the catalogue: a user with their hub groups, a steward, or an anonymous harvester."""
    name: str | None  # None: an anonymous harvester of the public export
    groups: frozenset[str] = field(default_factory=frozenset)
    steward: bool = False

    @property
    def anonymous(self) -> bool:
        return self.name is None


ANONYMOUS = Viewer(None)


def may_use(entry: Entry, viewer: Viewer) -> bool:
    """May this viewer learn the entry's locations (and so use it)?"""
    if entry.access == "open":
        return True
    if viewer.anonymous:
        return False
    if entry.access == "registered" or viewer.steward:
        return True
    return not viewer.groups.isdisjoint(entry.groups)


def may_request(entry: Entry, viewer: Viewer) -> bool:
    """Whether ``viewer`` may ask for access to ``entry``: restricted, signed in and not yet allowed to use it."""
    return entry.access == "restricted" and not viewer.anonymous and not may_use(entry, viewer)


def terms_text(entry: Entry) -> str:
    """What a user acknowledges when asking for a restricted entry: the entry's own terms, its
    licence and, for personal data, the lawful basis and retention."""
    lines = [entry.terms] if entry.terms else []
    lines.append(f"Licence: {entry.licence} (https://spdx.org/licenses/{entry.licence}.html).")
    if entry.personal_data:
        lines.append(f"This entry holds personal data, processed on the basis of "
                     f"{LAWFUL_BASIS_TEXT.get(entry.lawful_basis or '', entry.lawful_basis)}; "
                     f"retention: {entry.retention}. Use it only for the purpose you state.")
    lines.append(f"Intended use: {entry.intended_use}")
    return "\n".join(lines)


def terms_digest(text: str) -> str:
    """Fingerprint of acknowledged terms: a request records exactly which text was agreed to."""
    return hashlib.sha256(text.encode()).hexdigest()


def _distribution(dist: Distribution, usable: bool) -> dict:
    shown = {"title": dist.title, "format": dist.format, "byte_size": dist.byte_size, "description": dist.description}
    if usable:
        shown["location"] = dist.location
    return shown


def summary(entry: Entry) -> dict:
    """What every viewer may see in a list of results (no locations)."""
    return {"id": entry.id, "kind": entry.kind, "title": entry.title, "description": entry.description[:300],
            "keywords": list(entry.keywords), "themes": list(entry.themes), "licence": entry.licence,
            "access": entry.access, "formats": list(entry.formats), "personal_data": entry.personal_data,
            "publisher": entry.publisher.name}


def details(entry: Entry, viewer: Viewer) -> dict:
    """One entry as this viewer may see it: locations only where they may use it."""
    usable = may_use(entry, viewer)
    shown = {
        **summary(entry), "description": entry.description, "usable": usable,
        "requestable": may_request(entry, viewer),
        "publisher": {"name": entry.publisher.name, "url": entry.publisher.url},
        "contact_point": {"name": entry.contact_point.name, "email": entry.contact_point.email},
        "groups": list(entry.groups), "lawful_basis": entry.lawful_basis, "retention": entry.retention,
        "provenance": entry.provenance.text, "provenance_record": entry.provenance.record(),
        "intended_use": entry.intended_use, "limitations": entry.limitations,
        "issued": entry.issued, "modified": entry.modified,
        "temporal": {"start": entry.temporal_start, "end": entry.temporal_end},
        "spatial": [{"name": p.name, "uri": p.uri} for p in entry.spatial],
        "distributions": [_distribution(d, usable) for d in entry.distributions],
        "model": None if entry.model is None else {
            "family": entry.model.family, "parameters": entry.model.parameters, "task": entry.model.task,
            "base_model": entry.model.base_model},
    }
    if entry.access == "restricted":
        shown["terms"] = terms_text(entry)
        shown["terms_sha256"] = terms_digest(shown["terms"])  # what a request acknowledges
    return shown
