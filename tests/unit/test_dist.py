"""`make dist`: both wheels, the lab extension prebuilt inside its wheel, the hub's package data
inside the hub's, and environment.yml naming the wheel that `make dist` writes.

Builds into a temporary DIST (~15 s with the lab's frontend already built by .installed-lab;
longer once after its sources change, as `make test` would)."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from tests.harness.hub import REPO

LAB = REPO / "extensions" / "lab"
LAB_VERSION = json.loads((LAB / "package.json").read_text())["version"]
HUB_VERSION = re.search(r'^version = "(.+)"', (REPO / "pyproject.toml").read_text(), re.M).group(1)
LAB_WHEEL = f"factoryhub_lab-{LAB_VERSION}-py3-none-any.whl"
HUB_WHEEL = f"factoryhub-{HUB_VERSION}-py3-none-any.whl"
LABEXTENSION = f"factoryhub_lab-{LAB_VERSION}.data/data/share/jupyter/labextensions/@factoryhub/lab"

# The hub's package data: source folder -> where it lands in the wheel (pyproject's package-dir).
PACKAGE_DATA = {
    "extensions/hub/templates/*.html": "factoryhub/templates",
    "extensions/hub/service_templates/*.html": "factoryhub/service_templates",
    "extensions/hub/site/*.yaml": "factoryhub/site",
    "extensions/quota/openapi.yaml": "factoryhub/quota",
    "extensions/quota/templates/*.html": "factoryhub/quota/templates",
    "extensions/quota/migrations/script.py.mako": "factoryhub/quota/migrations",
    "extensions/quota/migrations/versions/*.py": "factoryhub/quota/migrations/versions",
    "extensions/catalogue/openapi.yaml": "factoryhub/catalogue",
    "extensions/catalogue/entry.schema.json": "factoryhub/catalogue",
    "extensions/catalogue/templates/*.html": "factoryhub/catalogue/templates",
    "extensions/catalogue/example/*.yaml": "factoryhub/catalogue/example",
    "extensions/catalogue/migrations/script.py.mako": "factoryhub/catalogue/migrations",
    "extensions/catalogue/migrations/versions/*.py": "factoryhub/catalogue/migrations/versions",
    "extensions/workshops/openapi.yaml": "factoryhub/workshops",
    "extensions/workshops/templates/*.html": "factoryhub/workshops/templates",
    "extensions/workshops/migrations/script.py.mako": "factoryhub/workshops/migrations",
    "extensions/workshops/migrations/versions/*.py": "factoryhub/workshops/migrations/versions",
    "extensions/announcements/openapi.yaml": "factoryhub/announcements",
    "extensions/announcements/templates/*.html": "factoryhub/announcements/templates",
    "extensions/announcements/migrations/script.py.mako": "factoryhub/announcements/migrations",
    "extensions/announcements/migrations/versions/*.py": "factoryhub/announcements/migrations/versions",
}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    if not shutil.which("make") or not shutil.which("node"):
        pytest.skip("make dist needs make and Node.js (the lab's frontend build)")
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PYTHON": sys.executable}
    done = subprocess.run(["make", "--no-print-directory", "dist", f"DIST={out}"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"make dist failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return out


def names(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as zf:
        return set(zf.namelist())


def test_make_dist_writes_exactly_the_two_wheels(dist):
    assert sorted(p.name for p in dist.iterdir()) == sorted([HUB_WHEEL, LAB_WHEEL])


def test_the_lab_wheel_carries_the_prebuilt_extension(dist):
    inside = names(dist / LAB_WHEEL)
    for name in ("package.json", "install.json", "static/style.js"):
        assert f"{LABEXTENSION}/{name}" in inside, f"{LAB_WHEEL} lacks {name}"
    with zipfile.ZipFile(dist / LAB_WHEEL) as zf:
        meta = json.loads(zf.read(f"{LABEXTENSION}/package.json"))
    assert (meta["name"], meta["version"]) == ("@factoryhub/lab", LAB_VERSION)
    # the frontend JupyterLab loads (remoteEntry) is the one built, not a stale one's name
    assert f"{LABEXTENSION}/{meta['jupyterlab']['_build']['load']}" in inside
    assert (f"factoryhub_lab-{LAB_VERSION}.data/data/etc/jupyter/jupyter_server_config.d/factoryhub_lab.json"
            in inside), "the server extension is not enabled by the wheel"
    assert not any(n.startswith("factoryhub/") for n in inside), "hub code in the user-side wheel"


def test_the_hub_wheel_carries_its_package_data(dist):
    inside = names(dist / HUB_WHEEL)
    for pattern, target in PACKAGE_DATA.items():
        sources = sorted(REPO.glob(pattern))
        assert sources, f"nothing matches {pattern}: update PACKAGE_DATA"
        missing = [p.name for p in sources if f"{target}/{p.name}" not in inside]
        assert not missing, f"{HUB_WHEEL} lacks {target}/{missing}"
    assert not any(n.startswith("factoryhub_lab/") for n in inside), "the lab extension in the hub wheel"


def test_environment_yml_installs_the_lab_wheel_make_dist_writes():
    spec = yaml.safe_load((REPO / "environment.yml").read_text())
    pip = next(dep["pip"] for dep in spec["dependencies"] if isinstance(dep, dict))
    assert f"./dist/{LAB_WHEEL}" in pip, f"environment.yml should install ./dist/{LAB_WHEEL} (package.json's version)"
    assert not any("extensions/lab" in entry for entry in pip), "the lab extension from a checkout needs Node.js"
    assert not any(str(dep).startswith("nodejs") for dep in spec["dependencies"]), "nothing on the nodes builds"
