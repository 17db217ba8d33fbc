"""factoryhub-dashboard-server's start: the settings it forces over every config, and how it refuses to start."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_notebook

from factoryhub_lab.dashboard import launcher, server
from factoryhub_lab.dashboard.connection import ALLOWED_MESSAGE_TYPES, GuardedKernelConnection
from factoryhub_lab.dashboard.contents import ReadOnlyContentsManager
from factoryhub_lab.dashboard.identity import DashboardIdentityProvider
from factoryhub_lab.dashboard.kernels import DashboardKernelManager
from factoryhub_lab.dashboard.settings import read_settings
from factoryhub_lab.dashboard.viewers import note_renderer

SCRIPT = Path(sys.executable).with_name("factoryhub-dashboard-server")


@pytest.fixture
def home(tmp_path):
    (tmp_path / "dashboards").mkdir()
    nbformat.write(new_notebook(), tmp_path / "dashboards" / "sensors.ipynb")
    return tmp_path


def settings(home, **extra):
    env = {"FACTORYHUB_DASHBOARD": "dashboards/sensors.ipynb", "FACTORYHUB_DASHBOARD_MAX_VIEWERS": "4", **extra}
    return read_settings(env, str(home))


def test_the_forced_settings(home):
    c = server.forced_config(settings(home))
    app = c.ServerApp
    assert app.jpserver_extensions == {"jupyterhub": True, "voila.server_extension": True,
                                       "factoryhub_lab.dashboard.gate": True}
    assert app.default_url == "/voila/render/dashboards/sensors.ipynb"
    assert app.root_dir == str(home.resolve()) and app.terminals_enabled is False
    assert app.contents_manager_class is ReadOnlyContentsManager
    assert app.kernel_manager_class is DashboardKernelManager
    assert app.kernel_websocket_connection_class is GuardedKernelConnection
    assert app.identity_provider_class is DashboardIdentityProvider
    assert app.reraise_server_extension_failures is True and app.disable_check_xsrf is False
    assert app.tornado_settings == {} and app.extra_services == [] and app.allow_origin == ""
    kernels = c.DashboardKernelManager
    assert kernels.max_viewers == 4 and kernels.notebook == "dashboards/sensors.ipynb"
    assert (kernels.cull_idle_timeout, kernels.cull_interval, kernels.cull_connected) == (600, 60, True)
    assert kernels.allowed_message_types == list(ALLOWED_MESSAGE_TYPES) and kernels.allow_tracebacks is False
    voila = c.VoilaConfiguration
    assert voila.strip_sources is True and voila.show_tracebacks is False and voila.prelaunch_hook is note_renderer
    assert voila.allow_template_override == "NOTEBOOK" and voila.allow_theme_override == "NOTEBOOK"
    assert voila.preheat_kernel is False and voila.progressive_rendering is False and voila.http_header_envs == []
    assert "@factoryhub/lab" in voila.extension_denylist
    shown = server.forced_config(settings(home, FACTORYHUB_DASHBOARD_SOURCES="1"))
    assert shown.VoilaConfiguration.strip_sources is False


def test_bad_variables_end_the_launcher_with_one_sentence(home, monkeypatch, capsys):
    monkeypatch.setenv("JUPYTERHUB_ROOT_DIR", str(home))
    monkeypatch.setenv("FACTORYHUB_DASHBOARD", "dashboards/sensors.ipynb")
    monkeypatch.setenv("FACTORYHUB_DASHBOARD_MAX_VIEWERS", "0")
    with pytest.raises(SystemExit) as stopped:
        launcher.main([])
    assert stopped.value.code == 1
    assert capsys.readouterr().err == (
        "FactoryHub dashboard: FACTORYHUB_DASHBOARD_MAX_VIEWERS must be a whole number of at least 1, not '0'\n")


def run_script(home, notebook, **env):
    variables = {"PATH": "/usr/bin:/bin", "HOME": str(home), "JUPYTERHUB_ROOT_DIR": str(home),
                 "FACTORYHUB_DASHBOARD": notebook, "FACTORYHUB_DASHBOARD_MAX_VIEWERS": "2", **env}
    return subprocess.run([str(SCRIPT)], env=variables, cwd=home, capture_output=True, text=True, timeout=120)


def test_the_console_script_names_the_problem_without_a_traceback(home, tmp_path_factory):
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    nbformat.write(new_notebook(), elsewhere / "x.ipynb")
    (home / "dashboards" / "out.ipynb").symlink_to(elsewhere / "x.ipynb")
    for notebook, sentence in (
        ("dashboards/out.ipynb", f"dashboards/out.ipynb is outside the home directory {home.resolve()}"),
        ("../x.ipynb", f"../x.ipynb is outside the home directory {home.resolve()}"),
        ("dashboards/gone.ipynb", "dashboards/gone.ipynb does not exist"),
    ):
        done = run_script(home, notebook)
        assert done.returncode == 1 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"FactoryHub dashboard: {sentence}")


def test_without_a_hub_the_server_stops_instead_of_serving(home):
    done = run_script(home, "dashboards/sensors.ipynb", JUPYTERHUB_API_URL="http://127.0.0.1:9/hub/api")
    assert done.returncode != 0
    assert "Missing required environment $JUPYTERHUB_SERVICE_URL" in done.stderr
    assert "is running at" not in done.stderr
