"""The example site description as data, and the problems the site loader names for changed data."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from factoryhub.site import SiteError, parse_site

REPO = Path(__file__).resolve().parents[2]


def example_site() -> dict:
    """site.example.yaml, parsed: tests change a key and see what the loader says."""
    return yaml.safe_load((REPO / "site.example.yaml").read_text())


def site_problems(data: dict) -> list[str]:
    """The loader's one-line problems for ``data`` (which must be invalid)."""
    with pytest.raises(SiteError) as info:
        parse_site(data, "site.yaml")
    return info.value.problems
