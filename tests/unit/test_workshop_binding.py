"""A workshop's hub group properties as the spawner reads and applies them (docs/workshops.md)."""
from __future__ import annotations

import asyncio
import copy
import datetime as dt
import logging
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from factoryhub.site import parse_site
from factoryhub.spawners.options import InvalidOptions, parse_user_options
from factoryhub.spawners.slurm.jobscript import COURSE_REPO, Course, UnsafeJobField
from factoryhub.spawners.workshop import WorkshopBinding, active_workshops, pin_options, usable_accounts

REPO = Path(__file__).resolve().parents[2]
PROFILES = parse_site(yaml.safe_load((REPO / "site.example.yaml").read_text()), "site.example.yaml").profiles
START = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
END = dt.datetime(2026, 12, 4, 16, 0, tzinfo=dt.UTC)
DURING = dt.datetime(2026, 12, 4, 11, 0, tzinfo=dt.UTC)


def properties(**changes) -> dict:
    """The contract's example (docs/workshops.md), with ``changes``."""
    binding = {"id": "gpu-intro", "title": "Introduction to GPU computing", "account": "ws-gpu-intro",
               "profile": "gpu-1", "reservation": "ws-gpu-intro", "course_repo": "https://git.example.eu/course.git",
               "course_branch": "main", "course_dir": "gpu-intro", "starts_at": "2026-12-04T10:00:00+00:00",
               "ends_at": "2026-12-04T16:00:00+00:00", "idle_timeout_minutes": 20}
    binding.update(changes)
    return {"factoryhub_workshop": binding}


def group(**changes) -> tuple[str, dict]:
    props = properties(**changes)
    return f"workshop-{props['factoryhub_workshop']['id']}", props


def binding(**changes) -> WorkshopBinding:
    return WorkshopBinding.from_properties(*group(**changes))


def test_the_contracts_example_parses():
    found = binding()
    assert (found.id, found.account, found.profile, found.reservation) == \
        ("gpu-intro", "ws-gpu-intro", "gpu-1", "ws-gpu-intro")
    assert found.course == Course("https://git.example.eu/course.git", "main", "gpu-intro")
    assert (found.starts_at, found.ends_at, found.idle_timeout_minutes) == (START, END, 20)
    assert found.group == "workshop-gpu-intro"
    other_zone = binding(starts_at="2026-12-04T11:00:00+01:00")
    assert other_zone.starts_at == START and other_zone.starts_at.tzinfo == dt.UTC
    assert binding(reservation=None, idle_timeout_minutes=None).reservation is None


@pytest.mark.parametrize("now, active", [
    (START - dt.timedelta(minutes=15, seconds=1), False),
    (START - dt.timedelta(minutes=15), True),
    (DURING, True),
    (END - dt.timedelta(seconds=1), True),
    (END, False),
    (END + dt.timedelta(days=1), False),
])
def test_active_from_15_minutes_before_the_start_until_the_end(now, active):
    assert bool(active_workshops([group()], now)) is active


def test_groups_without_workshop_properties_are_skipped_and_order_is_by_start():
    later = group(id="deep-learning", account="ws-deep-learning", starts_at="2026-12-04T10:30:00+00:00")
    found = active_workshops([("staff", {}), ("users", None), later, group()], DURING)
    assert [b.id for b in found] == ["gpu-intro", "deep-learning"]


HOSTILE = [
    ("id", "GPU_intro"), ("id", "ab"), ("id", "gpu-intro\n"), ("id", 7),
    ("title", ""), ("title", "two\nlines"), ("title", "x" * 201),
    ("account", "ws;id"), ("account", "ws\n#SBATCH --uid=0"), ("account", None),
    ("profile", "GPU 1"), ("profile", None),
    ("reservation", "$(id)"), ("reservation", 3),
    ("course_repo", "-uhttps://x"), ("course_repo", "ext::sh -c id"), ("course_repo", "git@host:repo.git"),
    ("course_repo", "https://host/x y"), ("course_repo", "https://host/x\n"), ("course_repo", "ssh://host/x"),
    ("course_repo", "https://" + "a" * 481), ("course_repo", None),
    ("course_branch", "--upload-pack=id"), ("course_branch", "-b"), ("course_branch", "a..b"),
    ("course_branch", "main.lock"), ("course_branch", "main/"), ("course_branch", "main\n"), ("course_branch", "a b"),
    ("course_branch", "$(id)"), ("course_branch", ""),
    ("course_dir", ".."), ("course_dir", "."), ("course_dir", "../etc"), ("course_dir", "a/b"), ("course_dir", "/tmp"),
    ("course_dir", ".ssh"), ("course_dir", "-rf"), ("course_dir", ""),
    ("starts_at", "2026-12-04T10:00:00"), ("starts_at", "tomorrow"), ("starts_at", 1764842400),
    ("ends_at", "2026-12-04T09:00:00+00:00"),
    ("idle_timeout_minutes", 0), ("idle_timeout_minutes", -5), ("idle_timeout_minutes", True),
    ("idle_timeout_minutes", 20.5), ("idle_timeout_minutes", "20"), ("idle_timeout_minutes", 10**6),
]


@pytest.mark.parametrize("key, value", HOSTILE)
def test_malformed_properties_are_ignored_with_a_warning_naming_the_group(key, value, caplog):
    name, props = group()
    props["factoryhub_workshop"][key] = value
    with caplog.at_level(logging.WARNING, logger="factoryhub.spawners.workshop"):
        assert active_workshops([(name, props), group(id="other-one", account="ws-other")], DURING)[0].id == "other-one"
    assert [r.getMessage() for r in caplog.records if "workshop-gpu-intro" in r.getMessage()], caplog.text


@pytest.mark.parametrize("props", [
    {"factoryhub_workshop": "gpu-intro"}, {"factoryhub_workshop": None}, {"factoryhub_workshop": []},
    {"factoryhub_workshop": {k: v for k, v in properties()["factoryhub_workshop"].items() if k != "course_dir"}},
    {"factoryhub_workshop": {**properties()["factoryhub_workshop"], "command": "id"}},
])
def test_missing_unknown_or_mistyped_fields_are_ignored_never_a_traceback(props, caplog):
    with caplog.at_level(logging.WARNING):
        assert active_workshops([("workshop-gpu-intro", props)], DURING) == ()
    assert "Ignoring the workshop properties of group workshop-gpu-intro" in caplog.text


def test_a_binding_counts_only_in_the_group_it_names():
    """Group properties are the hub's: a binding copied into another group is not a membership."""
    _, props = group()
    assert active_workshops([("workshop-other", props), ("staff", props)], DURING) == ()


def test_the_warning_goes_to_the_spawners_log_when_given():
    name, props = group(account="a b")
    logs = []
    logger = SimpleNamespace(warning=lambda *args: logs.append(args[0] % args[1:]))
    assert active_workshops([(name, props)], DURING, logger) == ()
    assert logs and logs[0].startswith("Ignoring the workshop properties of group workshop-gpu-intro: account")


# --- pinning ---------------------------------------------------------------------------------

INTRO = binding()
DEEP = binding(id="deep-learning", account="ws-deep-learning", profile="workshop", reservation=None,
               idle_timeout_minutes=None)


def test_the_chosen_workshop_fixes_profile_account_and_reservation():
    pinned = pin_options({"workshop": "gpu-intro", "walltime_hours": "1"}, [INTRO], ("proj-climate", "ws-gpu-intro"))
    assert pinned == {"workshop": "gpu-intro", "walltime_hours": "1", "profile": "gpu-1",
                      "account": "ws-gpu-intro", "reservation": "ws-gpu-intro"}
    same = pin_options({"workshop": ["gpu-intro"], "profile": ["gpu-1"], "account": "ws-gpu-intro"}, [INTRO], ())
    assert same["profile"] == "gpu-1" and same["reservation"] == "ws-gpu-intro"
    assert "reservation" not in pin_options({"workshop": "deep-learning"}, [DEEP], ())


@pytest.mark.parametrize("options, field, fragment", [
    ({"workshop": "gpu-intro", "profile": "gpu-4-finetune"}, "profile",
     "Profile (profile): workshop gpu-intro uses 'gpu-1', not 'gpu-4-finetune': leave it out"),
    ({"workshop": "gpu-intro", "account": "proj-climate"}, "account",
     "Project (account): workshop gpu-intro uses 'ws-gpu-intro', not 'proj-climate'"),
    ({"workshop": "gpu-intro", "reservation": "maint"}, "reservation", "uses 'ws-gpu-intro', not 'maint'"),
    ({"workshop": "deep-learning", "reservation": "ws-gpu-intro"}, "reservation",
     "workshop deep-learning runs without one"),
    ({"workshop": "ml-101"}, "workshop",
     "Workshop (workshop): 'ml-101' is not an active workshop you take part in (gpu-intro, deep-learning)"),
    ({"workshop": ["gpu-intro", "deep-learning"]}, "workshop", "give exactly one value"),
    ({"workshop": {"$ne": ""}}, "workshop", "must be a string or number"),
    ({"account": "ws-gpu-intro", "profile": "cpu-small"}, "profile", "workshop gpu-intro uses 'gpu-1'"),
])
def test_conflicts_and_strangers_are_refused_naming_the_field(options, field, fragment):
    with pytest.raises(InvalidOptions) as info:
        pin_options(options, [INTRO, DEEP], ("proj-climate", "ws-gpu-intro", "ws-deep-learning"))
    assert info.value.field == field
    assert fragment in str(info.value)


def test_a_workshop_that_is_not_active_cannot_be_chosen():
    before, after = START - dt.timedelta(hours=1), END + dt.timedelta(minutes=1)
    for now in (before, after):
        with pytest.raises(InvalidOptions, match="'gpu-intro' is not an active workshop you take part in \\(none\\)"):
            pin_options({"workshop": "gpu-intro"}, active_workshops([group()], now), ("ws-gpu-intro",))


def test_a_user_whose_only_accounts_are_an_active_workshops_gets_it():
    assert pin_options({}, [INTRO], ("ws-gpu-intro",))["workshop"] == "gpu-intro"
    assert pin_options({"walltime_hours": 1}, [INTRO, DEEP], ("ws-deep-learning",))["profile"] == "workshop"
    # an own project besides: an ordinary session unless the workshop (or its account) is chosen
    assert pin_options({}, [INTRO], ("proj-climate", "ws-gpu-intro")) == {}
    chosen_by_account = pin_options({"account": "ws-gpu-intro"}, [INTRO], ("proj-climate", "ws-gpu-intro"))
    assert chosen_by_account["workshop"] == "gpu-intro"
    assert pin_options({}, [], ("ws-gpu-intro",)) == {}  # the workshop is over: its account is no workshop
    assert pin_options({}, [INTRO], ()) == {}
    with pytest.raises(InvalidOptions, match=r"several active workshops: choose one \(gpu-intro, deep-learning\)"):
        pin_options({}, [INTRO, DEEP], ("ws-gpu-intro", "ws-deep-learning"))


def test_the_one_validator_pins_and_carries_the_binding():
    accounts = ("proj-climate", "ws-gpu-intro")
    request = parse_user_options({"workshop": "gpu-intro"}, PROFILES, "cpu-small", accounts, (), [INTRO])
    assert (request.profile.id, request.account, request.reservation) == ("gpu-1", "ws-gpu-intro", "ws-gpu-intro")
    assert request.workshop is INTRO
    ordinary = parse_user_options({}, PROFILES, "cpu-small", accounts, (), [INTRO])
    assert ordinary.workshop is None and ordinary.account == "proj-climate"
    with pytest.raises(InvalidOptions, match="is not an active workshop you take part in"):
        parse_user_options({"workshop": "gpu-intro"}, PROFILES, "cpu-small", accounts)
    with pytest.raises(InvalidOptions, match="workshop: unknown option"):  # no workshops on the local backend
        parse_user_options({"workshop": "gpu-intro"}, PROFILES, "cpu-small")
    with pytest.raises(InvalidOptions, match="'gpu-intro' is not offered"):  # the site dropped the profile
        parse_user_options({}, PROFILES, None, ("ws-x",), (), [binding(profile="gpu-intro", account="ws-x")])


def test_hostile_option_values_never_reach_a_session():
    for value in ("gpu-intro; id", "gpu-intro\nx", "../gpu-intro", "", "GPU-INTRO", 7, None):
        with pytest.raises(InvalidOptions):
            pin_options({"workshop": value}, [INTRO], ("ws-gpu-intro",))


# --- the spawner reads the user's hub groups ---------------------------------------------------

class FakeCluster:
    def __init__(self, view):
        self._view = view

    async def view(self, max_age=None, fresher_than=None):
        return self._view

    @staticmethod
    def clock():
        return 0.0


def spawner_for(groups, accounts):
    from factoryhub.spawners.slurm.cluster import ClusterView
    from factoryhub.spawners.slurm.spawner import SlurmSessionSpawner

    view = ClusterView({"alice": tuple(accounts)})

    class Spawner(SlurmSessionSpawner):
        cluster = FakeCluster(view)

    user = SimpleNamespace(name="alice", groups=[SimpleNamespace(name=n, properties=p) for n, p in groups])
    return Spawner(user=user, profiles=[p.model_dump(mode="json") for p in PROFILES], default_profile="cpu-small",
                   default_environment={"kind": "python", "prefix": "/opt/factoryhub/user-env"})


def test_the_spawner_applies_the_binding_of_the_users_active_workshop(monkeypatch):
    now = dt.datetime.now(dt.UTC)
    live = group(starts_at=(now - dt.timedelta(hours=1)).isoformat(), ends_at=(now + dt.timedelta(hours=1)).isoformat())
    over = group(id="old-course", account="ws-old", starts_at="2025-01-01T10:00:00+00:00",
                 ends_at="2025-01-01T12:00:00+00:00")
    spawner = spawner_for([("users", {}), live, over], ("ws-gpu-intro",))
    request = asyncio.run(spawner._validate({}))
    assert request.workshop.id == "gpu-intro" and request.reservation == "ws-gpu-intro"
    monkeypatch.setattr("pwd.getpwnam", lambda name: SimpleNamespace(pw_uid=1000, pw_dir="/home/alice"))
    monkeypatch.setattr(spawner, "get_env", dict)  # the hub's variables: none without a hub
    job = spawner.job_request(request)
    assert job.course == Course("https://git.example.eu/course.git", "main", "gpu-intro")
    assert job.idle_timeout_minutes == 20 and job.account == "ws-gpu-intro"
    with pytest.raises(InvalidOptions, match="'old-course' is not an active workshop"):
        asyncio.run(spawner._validate({"workshop": "old-course"}))
    assert 'name="workshop"' in asyncio.run(spawner.options_form(spawner))


def test_a_participant_who_joined_a_moment_ago_starts_before_the_cached_view_shows_the_account():
    """The service associates a participant in Slurm before adding them to the workshop's group:
    the group's binding is the spawner's word that the account is theirs."""
    now = dt.datetime.now(dt.UTC)
    live = group(starts_at=(now - dt.timedelta(hours=1)).isoformat(), ends_at=(now + dt.timedelta(hours=1)).isoformat())
    spawner = spawner_for([live], ())  # the cached view has no association for alice yet
    request = asyncio.run(spawner._validate({"workshop": "gpu-intro"}))
    assert request.account == "ws-gpu-intro" and request.workshop.id == "gpu-intro"
    with pytest.raises(InvalidOptions, match="no project"):  # an ordinary session still needs a real one
        asyncio.run(spawner_for([], ())._validate({}))


def test_a_user_without_groups_gets_an_ordinary_session():
    spawner = spawner_for([], ("proj-climate",))
    request = asyncio.run(spawner._validate({}))
    assert request.workshop is None and request.account == "proj-climate"
    assert 'name="workshop"' not in asyncio.run(spawner.options_form(spawner))


# --- one table for the service's checks and the spawner's ------------------------------------

def test_the_service_and_the_spawner_accept_the_same_course_values():
    """The workshops service checks the values it writes; the spawner checks them again. Both
    against one table, so a workshop the service accepts is never ignored by the spawner."""
    schemas = pytest.importorskip("factoryhub.workshops.schemas")
    repos = ["https://git.example.eu/course.git", "http://h/x?a=b&c=d#f", "git://h/r", "file:///srv/course",
             "https://user@h:8443/x/(y)/z;w,'!*+$", "ssh://h/r", "git@h:r.git", "-uhttps://h", "https://h/a b",
             "https://h/\n", "ext::sh", "https://" + "a" * 480, "https://" + "a" * 481]
    for repo in repos:
        assert bool(re.fullmatch(schemas.COURSE_REPO.strip("^$"), repo)) == bool(COURSE_REPO.fullmatch(repo)), repo
    for branch in ["main", "release/2026.12", "v1.0", "feature_x-y", "-b", "a..b", "a b", "main\n", "main.lock",
                   "x" * 100, "x" * 101]:
        service = bool(re.fullmatch(schemas.BRANCH.strip("^$"), branch))
        if service:
            try:
                schemas._safe_branch(branch)
            except ValueError:
                service = False
        try:
            Course("https://h/r", branch, "d")
            spawner = True
        except UnsafeJobField:
            spawner = False
        assert service == spawner, branch


def test_binding_properties_survive_a_json_round_trip_unchanged():
    """The hub stores group properties as JSON: what the service writes is what the spawner reads."""
    import json

    props = json.loads(json.dumps(properties()))
    assert WorkshopBinding.from_properties("workshop-gpu-intro", copy.deepcopy(props)) == INTRO


# --- a workshop's account pays for its own sessions, during it only --------------------------

def test_a_workshops_account_is_not_usable_outside_its_window():
    accounts = ("proj-climate", "ws-gpu-intro")
    before = START - dt.timedelta(hours=2)
    assert usable_accounts(accounts, [INTRO], before) == ("proj-climate",)
    assert usable_accounts(accounts, [INTRO], DURING) == accounts
    assert usable_accounts(accounts, [], before) == accounts  # not the user's workshop: an ordinary account
    with pytest.raises(InvalidOptions) as info:
        usable_accounts(("ws-gpu-intro",), [INTRO], before)
    assert info.value.field == "account"
    assert "your only project ws-gpu-intro is workshop gpu-intro's, which opens for sessions at 2026-12-04 09:45 UTC" \
        in str(info.value)
    with pytest.raises(InvalidOptions, match="which has ended"):
        usable_accounts(("ws-gpu-intro",), [INTRO], END)


def test_the_spawner_refuses_a_workshop_account_before_the_workshop(monkeypatch):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    early = group(starts_at=soon.isoformat(), ends_at=(soon + dt.timedelta(hours=2)).isoformat())
    spawner = spawner_for([early], ("proj-climate", "ws-gpu-intro"))
    with pytest.raises(InvalidOptions, match="'ws-gpu-intro' is not one of your projects"):
        asyncio.run(spawner._validate({"account": "ws-gpu-intro", "profile": "gpu-4-finetune"}))
    assert asyncio.run(spawner._validate({})).account == "proj-climate"
    form = asyncio.run(spawner.options_form(spawner))
    assert 'value="ws-gpu-intro"' not in form and 'name="workshop"' not in form
    only = spawner_for([early], ("ws-gpu-intro",))
    with pytest.raises(InvalidOptions, match="is workshop gpu-intro's, which opens for sessions at"):
        asyncio.run(only._validate({}))
    assert "which opens for sessions at" in asyncio.run(only.options_form(only))
