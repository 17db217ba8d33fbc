"""Site keys for production installs: Apptainer binds, environment modules, the jobs' hub address."""
from __future__ import annotations

import pytest

from factoryhub.site import parse_site
from tests.harness.site_files import example_site, site_problems


def test_binds_modules_and_connect_url_are_accepted():
    data = example_site()
    data["profiles"][0]["environment"] = {"kind": "apptainer", "image": "/images/lab.sif",
                                          "binds": ["/srv/factoryhub/catalogue:/data:ro", "/project"]}
    data["profiles"][0]["modules"] = ["cuda/12.9", "nccl/2.27"]
    data["hub"]["hub_connect_url"] = "http://hub-api.factory.example.eu:8081"
    site = parse_site(data, "site.yaml")
    assert site.profiles[0].environment.binds == ["/srv/factoryhub/catalogue:/data:ro", "/project"]
    assert site.profiles[0].modules == ["cuda/12.9", "nccl/2.27"]


@pytest.mark.parametrize("where, value, key", [
    ("bind", "data:/data", "profiles[0].environment.binds[0]"),
    ("bind", "/a:/b:rwx", "profiles[0].environment.binds[0]"),
    ("module", "cuda; id", "profiles[0].modules[0]"),
    ("module", "$(reboot)", "profiles[0].modules[0]"),
    ("url", "hub-api:8081", "hub.hub_connect_url"),
])
def test_bad_values_are_refused_naming_the_key(where, value, key):
    data = example_site()
    if where == "bind":
        data["profiles"][0]["environment"] = {"kind": "apptainer", "image": "/images/lab.sif", "binds": [value]}
    elif where == "module":
        data["profiles"][0]["modules"] = [value]
    else:
        data["hub"]["hub_connect_url"] = value
    found = site_problems(data)
    assert any(p.startswith(f"{key}: {value!r} is not allowed") for p in found), found
