"""Dashboard servers' options: a dash- server shows one notebook of its owner's home, others none."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from factoryhub.site import parse_site
from factoryhub.spawners.dashboard import DashboardRequest, InvalidDashboard, notebook_path, parse_dashboard
from factoryhub.spawners.local import LocalSessionSpawner
from factoryhub.spawners.options import InvalidOptions, parse_user_options

REPO = Path(__file__).resolve().parents[2]
PROFILES = parse_site(yaml.safe_load((REPO / "site.example.yaml").read_text()), "site.example.yaml").profiles


@pytest.mark.parametrize("text, expected", [
    ("dashboards/demo.ipynb", "dashboards/demo.ipynb"),
    ("  demo.ipynb ", "demo.ipynb"),
    ("./a//b/demo.ipynb", "a/b/demo.ipynb"),
    ("My Dashboards/démo.ipynb", "My Dashboards/démo.ipynb"),
])
def test_paths_inside_the_home_are_normalised(text, expected):
    assert notebook_path(text) == expected


@pytest.mark.parametrize("text, words", [
    ("/etc/passwd.ipynb", "outside your home"),
    ("~bob/x.ipynb", "outside your home"),
    ("../bob/x.ipynb", "leaves your home"),
    ("a/../../x.ipynb", "leaves your home"),
    ("dashboards/demo.py", "is not a notebook"),
    ("dashboards/", "is not a notebook"),
    (".ipynb", "is not a notebook"),
    ("a\\..\\x.ipynb", "not a usable path"),
    ("a\nb.ipynb", "not a usable path"),
    ("x" * 300 + ".ipynb", "not a usable path"),
    ("", "give the notebook"),
])
def test_paths_leaving_the_home_or_not_notebooks_are_refused(text, words):
    with pytest.raises(InvalidDashboard, match=words):
        notebook_path(text)


def test_a_dash_server_must_show_a_dashboard_and_others_must_not():
    assert parse_dashboard({}, "") is None
    assert parse_dashboard({"profile": "cpu-small"}, "analysis") is None
    with pytest.raises(InvalidDashboard, match="only servers named dash-"):
        parse_dashboard({"dashboard": "demo.ipynb"}, "analysis")
    with pytest.raises(InvalidDashboard, match="only servers named dash-") as refused:
        parse_dashboard({"dashboard_sources": True}, "")
    assert refused.value.field == "dashboard_sources"
    with pytest.raises(InvalidDashboard, match="shows a dashboard: give its notebook"):
        parse_dashboard({}, "dash-demo")
    with pytest.raises(InvalidDashboard, match="shows a dashboard"):
        parse_dashboard({"dashboard": 3}, "dash-demo")


@pytest.mark.parametrize("value, shown", [(True, True), (False, False), (["true"], True), ("0", False), ("on", True)])
def test_sources_flag(value, shown):
    request = parse_dashboard({"dashboard": "d.ipynb", "dashboard_sources": value}, "dash-d")
    assert request == DashboardRequest("d.ipynb", shown)


def test_a_sources_flag_that_is_not_a_boolean_is_refused():
    with pytest.raises(InvalidDashboard, match="'maybe' is not true or false"):
        parse_dashboard({"dashboard": "d.ipynb", "dashboard_sources": "maybe"}, "dash-d")


def test_session_options_carry_the_dashboard_and_name_the_field_when_refused():
    request = parse_user_options({"profile": "cpu-small", "dashboard": "d/x.ipynb"}, PROFILES, server_name="dash-x")
    assert request.dashboard == DashboardRequest("d/x.ipynb")
    assert parse_user_options({"profile": "cpu-small"}, PROFILES).dashboard is None
    with pytest.raises(InvalidOptions) as refused:
        parse_user_options({"profile": "cpu-small", "dashboard": "../x.ipynb"}, PROFILES, server_name="dash-x")
    assert refused.value.field == "dashboard"
    assert str(refused.value).startswith("dashboard: '../x.ipynb' leaves your home")


def test_the_server_environment_tells_the_dashboard_server_what_to_show():
    env = DashboardRequest("d/x.ipynb", True).environment(max_viewers=7, recheck_seconds=1.5)
    assert env == {"FACTORYHUB_DASHBOARD": "d/x.ipynb", "FACTORYHUB_DASHBOARD_SOURCES": "1",
                   "FACTORYHUB_DASHBOARD_MAX_VIEWERS": "7", "FACTORYHUB_DASHBOARD_RECHECK_SECONDS": "1.5"}
    assert DashboardRequest("d/x.ipynb").url == "/voila/render/d/x.ipynb"


class _User:
    name = "alice"


class _OrmSpawner:
    def __init__(self, name):
        self.name, self.server, self.user_options = name, None, {}


def _spawner(name: str) -> LocalSessionSpawner:
    return LocalSessionSpawner(profiles=[p.model_dump(mode="json") for p in PROFILES], default_profile="cpu-small",
                               dashboard_max_viewers=4, dashboard_idle_minutes=5, orm_spawner=_OrmSpawner(name),
                               user=_User())


def test_a_dash_server_runs_the_dashboard_server_with_an_idle_stop():
    spawner = _spawner("dash-x")
    spawner.apply_user_options(spawner, {"profile": "cpu-small", "dashboard": "x.ipynb"})
    assert Path(spawner.cmd[0]).name == "factoryhub-dashboard-server"
    assert spawner.default_url == "/voila/render/x.ipynb"
    assert spawner.environment["FACTORYHUB_DASHBOARD"] == "x.ipynb"
    assert spawner.environment["FACTORYHUB_DASHBOARD_MAX_VIEWERS"] == "4"
    assert "--ServerApp.shutdown_no_activity_timeout=300" in spawner.get_args()


def test_an_ordinary_server_keeps_its_command():
    spawner = _spawner("analysis")
    spawner.apply_user_options(spawner, {"profile": "cpu-small"})
    assert Path(spawner.cmd[0]).name == "jupyterhub-singleuser"
    assert not any("shutdown_no_activity" in a for a in spawner.get_args())
