"""Who sees which announcement, and when: pure decisions, no database and no network.

An announcement is *current* from ``starts_at`` (included) to ``ends_at`` (excluded) unless
withdrawn; it *reaches* everyone, the members of one hub group, or the members of one project
(a Slurm account of the quota ledger).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol


class Targeted(Protocol):
    """What the decisions read of an announcement (models.Announcement has it)."""
    id: int
    level: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    audience: str
    audience_name: str
    withdrawn_at: dt.datetime | None


@dataclass(frozen=True)
class Reader:
    """A user as announcements see them: their hub groups and their projects."""
    name: str
    groups: frozenset[str] = frozenset()
    projects: frozenset[str] = frozenset()


def state(announcement: Targeted, now: dt.datetime) -> str:
    """withdrawn, scheduled, current or ended."""
    if announcement.withdrawn_at is not None:
        return "withdrawn"
    if now < announcement.starts_at:
        return "scheduled"
    return "current" if now < announcement.ends_at else "ended"


def reaches(announcement: Targeted, reader: Reader) -> bool:
    """Whether the announcement is for ``reader`` (whatever its time)."""
    if announcement.audience == "everyone":
        return True
    if announcement.audience == "group":
        return announcement.audience_name in reader.groups
    if announcement.audience == "project":
        return announcement.audience_name in reader.projects
    return False


def projects_named(announcements: Iterable[Targeted]) -> set[str]:
    """The projects some of ``announcements`` are for: the only memberships worth asking about."""
    return {a.audience_name for a in announcements if a.audience == "project"}


def for_reader(announcements: Iterable[Targeted], reader: Reader, now: dt.datetime) -> list:
    """The current announcements that reach ``reader``: warnings first, then the newest first (the latest
    start, then the latest posted)."""
    shown = [a for a in announcements if state(a, now) == "current" and reaches(a, reader)]
    return sorted(shown, key=lambda a: (a.level != "warning", -a.starts_at.timestamp(), -a.id))
