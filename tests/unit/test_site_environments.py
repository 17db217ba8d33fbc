"""Site keys for production installs: Apptainer binds, environment modules, the jobs' hub address."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from factoryhub.site import SiteError, parse_site

REPO = Path(__file__).resolve().parents[2]


def example() -> dict:
    return yaml.safe_load((REPO / "site.example.yaml").read_text())


def problems(data: dict) -> list[str]:
    with pytest.raises(SiteError) as info:
        parse_site(data, "site.yaml")
    return info.value.problems


def test_binds_modules_and_connect_url_are_accepted():
    data = example()
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
    data = example()
    if where == "bind":
        data["profiles"][0]["environment"] = {"kind": "apptainer", "image": "/images/lab.sif", "binds": [value]}
    elif where == "module":
        data["profiles"][0]["modules"] = [value]
    else:
        data["hub"]["hub_connect_url"] = value
    found = problems(data)
    assert any(p.startswith(f"{key}: {value!r} is not allowed") for p in found), found
