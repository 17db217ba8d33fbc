"""Announcements' pure rules: the request body's checks, the time window and who an announcement reaches."""
from __future__ import annotations

import datetime as dt
import json
from types import SimpleNamespace

import pytest

from factoryhub.announcements.audience import Reader, for_reader, projects_named, reaches, state
from factoryhub.announcements.schemas import AnnouncementCreate
from factoryhub.webservice import ApiError, read_body

NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)


def body(**changes) -> dict:
    return {"title": "Maintenance", "text": "The cluster stops at 18:00.", "ends_at": "2026-12-05T00:00:00Z",
            **changes}


def refused(data) -> ApiError:
    with pytest.raises(ApiError) as caught:
        read_body(json.dumps(data).encode(), AnnouncementCreate)
    assert caught.value.status_code == 400
    return caught.value


def test_a_minimal_body_is_for_everyone_at_info_level_from_now():
    made = read_body(json.dumps(body()).encode(), AnnouncementCreate)
    assert (made.level, made.audience, made.starts_at, made.audience_name) == ("info", "everyone", None, "")
    group = read_body(json.dumps(body(audience="group", group="gpu-users", level="warning")).encode(),
                      AnnouncementCreate)
    assert (group.audience_name, group.level) == ("gpu-users", "warning")


@pytest.mark.parametrize("changes, field, words", [
    ({"level": "danger"}, "level", "'info' or 'warning'"),
    ({"title": "   "}, "title", "not allowed"),
    ({"text": ""}, "text", "at least 1"),
    ({"title": "x" * 121}, "title", "at most 120"),
    ({"text": "y" * 2001}, "text", "at most 2000"),
    ({"ends_at": "2026-12-05T00:00:00"}, "ends_at", "timezone"),
    ({"ends_at": "tomorrow"}, "ends_at", "datetime"),
    ({"starts_at": "2026-12-05T00:00:00Z"}, "ends_at", "after starts_at"),
    ({"starts_at": "2026-01-01T00:00:00Z", "ends_at": "2027-01-02T00:00:00Z"}, "ends_at", "less than 366 days"),
    ({"audience": "group"}, "group", "required when audience is group"),
    ({"audience": "project"}, "project", "required when audience is project"),
    ({"group": "gpu-users"}, "group", "only with audience group"),
    ({"audience": "group", "group": "a b"}, "group", "not allowed"),
    ({"audience": "project", "project": "../x"}, "project", "not allowed"),
    ({"audience": "the world"}, "audience", "'everyone', 'group' or 'project'"),
    ({"colour": "red"}, "colour", "unknown field"),
    ({"ends_at": 1764892800}, "ends_at", ""),
])
def test_bad_bodies_are_refused_naming_the_field(changes, field, words):
    err = refused(body(**changes))
    assert err.field == field and words in err.message, err.message


def test_a_missing_end_is_named():
    data = body()
    del data["ends_at"]
    assert refused(data).message == "ends_at: required"


def announcement(audience="everyone", name="", level="info", starts=NOW - HOUR, ends=NOW + HOUR, withdrawn=None,
                 id=1):
    return SimpleNamespace(id=id, level=level, starts_at=starts, ends_at=ends, audience=audience, audience_name=name,
                           withdrawn_at=withdrawn)


def test_the_window_includes_its_start_and_excludes_its_end():
    a = announcement(starts=NOW, ends=NOW + HOUR)
    assert state(a, NOW - dt.timedelta(seconds=1)) == "scheduled"
    assert state(a, NOW) == "current"
    assert state(a, NOW + HOUR - dt.timedelta(microseconds=1)) == "current"
    assert state(a, NOW + HOUR) == "ended"
    assert state(announcement(withdrawn=NOW), NOW) == "withdrawn"


def test_a_targeted_announcement_reaches_its_group_or_project_only():
    alice = Reader("alice", frozenset({"gpu-users"}), frozenset({"proj-a"}))
    bob = Reader("bob", frozenset({"students"}), frozenset())
    for target, alice_sees, bob_sees in [(announcement(), True, True),
                                         (announcement("group", "gpu-users"), True, False),
                                         (announcement("group", "students"), False, True),
                                         (announcement("project", "proj-a"), True, False),
                                         (announcement("project", "gpu-users"), False, False),  # a group, not a project
                                         (announcement("somebody", "alice"), False, False)]:
        assert (reaches(target, alice), reaches(target, bob)) == (alice_sees, bob_sees), target


def test_a_reader_sees_current_ones_warnings_first_then_newest():
    old_info = announcement(starts=NOW - 3 * HOUR)
    new_info = announcement(starts=NOW - HOUR)
    warning = announcement(level="warning", starts=NOW - 5 * HOUR)
    hidden = [announcement(starts=NOW + HOUR, ends=NOW + 2 * HOUR), announcement(ends=NOW),
              announcement(withdrawn=NOW - HOUR), announcement("group", "admins")]
    assert for_reader([old_info, *hidden, new_info, warning], Reader("alice"), NOW) == [warning, new_info, old_info]


def test_only_projects_some_announcement_names_are_asked_about():
    assert projects_named([announcement(), announcement("project", "p1"), announcement("group", "g"),
                           announcement("project", "p2")]) == {"p1", "p2"}


def test_the_posting_form_reads_utc_times_and_only_the_chosen_audiences_name():
    from factoryhub.announcements.pages import form_request
    made = form_request({"level": "warning", "title": "Maintenance", "text": "Friday.", "starts_at": "",
                         "ends_at": "2026-12-11T22:00", "audience": "project", "group": "left-over",
                         "project": "proj-a"})
    assert made.ends_at == dt.datetime(2026, 12, 11, 22, 0, tzinfo=dt.UTC) and made.starts_at is None
    assert (made.audience, made.group, made.project) == ("project", None, "proj-a")
    with pytest.raises(ValueError, match="group"):
        form_request({"title": "t", "text": "x", "ends_at": "2026-12-11T22:00", "audience": "group", "group": ""})
