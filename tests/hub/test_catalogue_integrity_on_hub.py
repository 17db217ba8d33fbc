"""Catalogue integrity behind a real hub: a file changed on disk after curation is found by the
service's scheduled verification and by ``factoryhub catalogue verify``; the entry shows
"changed since curation" in the API and the pages, the stewards get a notification, and
restoring the file clears both. Only stewards ask for verifications and read notifications."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from tests.harness.curated_data import make_data, write_curated_entry
from tests.harness.hub import HubProcess, wait_until

pytestmark = pytest.mark.hub

REPO = Path(__file__).resolve().parents[2]
DEFAULT_SITE = REPO / "extensions" / "hub" / "site" / "default.yaml"
ENTRY = "integrity-demo"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("integrity")
    data = workdir / "data"
    table, tiles = make_data(data)
    catalogue = workdir / "catalogue"
    write_curated_entry(catalogue, ENTRY, table, tiles, "Integrity demo", ("integrity",))
    site = yaml.safe_load(DEFAULT_SITE.read_text())
    site["auth"]["accounts"] += [{"name": "steward"}]
    site["services"] = {"quota": {"enabled": False}, "idle_culler": {"enabled": False},
                        "catalogue": {"directory": str(catalogue), "stewards": ["steward"],
                                      "verify_every_hours": 0.0005}}  # every 1.8 s
    (workdir / "site.yaml").write_text(yaml.safe_dump(site))
    with HubProcess(workdir, site_file=workdir / "site.yaml") as hub:
        hub.api = f"{hub.url}/services/factoryhub-catalogue/api/v1"
        hub.data, hub.site = data, workdir / "site.yaml"
        hub.tokens = {name: hub.api_token(name) for name in ("researcher", "steward")}
        wait_until(lambda: requests.get(f"{hub.api}/health", timeout=2).status_code == 200, 60, "catalogue service")
        yield hub


def call(hub, who, method, path, **kw) -> requests.Response:
    return requests.request(method, f"{hub.api}/{path}", headers={"Authorization": f"token {hub.tokens[who]}"},
                            timeout=30, **kw)


def integrity(hub) -> dict:
    return call(hub, "researcher", "GET", f"entries/{ENTRY}").json()["integrity"]


def state_becomes(hub, state: str) -> None:
    wait_until(lambda: integrity(hub)["state"] == state, 60, f"the entry's integrity to be {state}")


def open_notifications(hub) -> list[dict]:
    return call(hub, "steward", "GET", "notifications", params={"open": "1"}).json()["notifications"]


def page(hub, who, path) -> str:
    response = requests.get(f"{hub.url}/services/factoryhub-catalogue/{path}", timeout=30,
                            headers={"Authorization": f"token {hub.tokens[who]}"})
    assert response.status_code == 200, response.text[:500]
    return response.text


def test_the_schedule_finds_a_changed_file_notifies_the_stewards_and_restoring_clears_it(hub):
    state_becomes(hub, "verified")
    assert open_notifications(hub) == []
    table = hub.data / "table.csv"
    original = table.read_bytes()
    table.write_bytes(original[:-1] + (b"0" if original[-1:] != b"0" else b"1"))  # one byte, same size
    try:
        state_becomes(hub, "changed")
        shown = call(hub, "researcher", "GET", f"entries/{ENTRY}").json()
        assert [d["integrity"]["state"] for d in shown["distributions"]] == ["changed", "verified"]
        assert shown["integrity"]["message"].startswith("Distribution 1: Changed since curation")
        [note] = open_notifications(hub)
        assert (note["entry_id"], note["distribution"], note["kind"]) == (ENTRY, 1, "changed")
        listed = call(hub, "researcher", "GET", "entries", params={"q": "integrity"}).json()["entries"]
        assert listed[0]["integrity"]["state"] == "changed"
        assert "Changed since curation" in page(hub, "researcher", f"entries/{ENTRY}")
        assert "Changed since curation" in page(hub, "researcher", "?q=integrity")
        assert f'data-notification="{note["id"]}"' in page(hub, "steward", "steward")
        cli = subprocess.run([sys.executable, "-m", "factoryhub.cli", "catalogue", "verify", ENTRY,
                              "--site", str(hub.site)], capture_output=True, text=True, timeout=120,
                             env={**os.environ, "XDG_CACHE_HOME": str(hub.data.parent / "cache")})
        assert cli.returncode == 1, cli.stderr
        assert f"{ENTRY} #1 Table: changed" in cli.stdout and f"{ENTRY} #2 Tiles: verified" in cli.stdout
    finally:
        table.write_bytes(original)
    state_becomes(hub, "verified")
    assert open_notifications(hub) == []
    resolved = call(hub, "steward", "GET", "notifications").json()["notifications"]
    assert resolved[0]["resolved_at"] is not None
    assert "Changed since curation" not in page(hub, "researcher", f"entries/{ENTRY}")


def test_a_removed_tile_is_named_and_only_stewards_ask_for_verifications(hub):
    state_becomes(hub, "verified")
    tile = hub.data / "tiles" / "row-1" / "tile-2.bin"
    kept = tile.read_bytes()
    assert call(hub, "researcher", "POST", f"entries/{ENTRY}/verification").status_code == 403
    assert call(hub, "researcher", "GET", "notifications").status_code == 403
    assert call(hub, "steward", "POST", "entries/no-such-entry/verification").status_code == 404
    tile.unlink()
    try:
        asked = call(hub, "steward", "POST", f"entries/{ENTRY}/verification")
        assert asked.status_code == 202 and asked.json()["entry_id"] == ENTRY
        wait_until(lambda: any(n["distribution"] == 2 for n in open_notifications(hub)), 60, "a notification")
        [note] = [n for n in open_notifications(hub) if n["distribution"] == 2]
        assert note["details"]["removed"] == ["row-1/tile-2.bin"]
    finally:
        tile.write_bytes(kept)
    call(hub, "steward", "POST", f"entries/{ENTRY}/verification")
    wait_until(lambda: open_notifications(hub) == [], 60, "the notification to be resolved")
