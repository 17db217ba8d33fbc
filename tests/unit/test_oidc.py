"""OIDC login's decisions, without a provider: claims to Unix names and hub groups, what a login
adds and removes, discovery refusals and the site's OIDC settings."""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

import factoryhub.site
from factoryhub.oidc import (
    DiscoveryError,
    claim_values,
    discover,
    group_changes,
    groups_from_claims,
    load_username_map,
    unix_username,
)
from factoryhub.site import SiteError, load_site

DEFAULT_SITE = Path(factoryhub.site.__file__).with_name("default.yaml")
URN = re.compile(r"^urn:mace:example\.eu:group:(?P<group>[a-z0-9-]+)$")
PLAIN = re.compile(r"^(?P<group>[A-Za-z0-9][A-Za-z0-9._-]{0,63})$")


def test_groups_come_from_the_values_the_rules_match_and_nothing_else():
    values = ["urn:mace:example.eu:group:proj-climate", "urn:mace:example.eu:group:hub-admins",
              "urn:mace:other.example:group:proj-climate-evil", "urn:mace:example.eu:group:Bad Name", ""]
    assert groups_from_claims(values, [URN]) == {"proj-climate", "hub-admins"}


def test_the_first_matching_rule_names_the_group():
    assert groups_from_claims(["urn:mace:example.eu:group:a"], [URN, PLAIN]) == {"a"}
    assert groups_from_claims(["plain-group"], [URN, PLAIN]) == {"plain-group"}


@pytest.mark.parametrize("claims, path, expected", [
    ({"groups": ["a", "b", 3, None]}, "groups", ["a", "b"]),
    ({"groups": "solo"}, "groups", ["solo"]),
    ({"realm_access": {"roles": ["r1"]}}, "realm_access.roles", ["r1"]),
    ({"realm_access": "not a mapping"}, "realm_access.roles", []),
    ({}, "groups", []),
    ({"groups": {"a": 1}}, "groups", []),
])
def test_claim_values_read_lists_strings_and_nested_paths(claims, path, expected):
    assert claim_values(claims, path) == expected


@pytest.mark.parametrize("claims, mapping, expected", [
    ({"hpc_username": "alice"}, None, "alice"),
    ({"hpc_username": "Alice"}, None, None),               # not a Unix name: refused, not lower-cased
    ({"hpc_username": "root; rm -rf /"}, None, None),
    ({"hpc_username": ["alice"]}, None, None),
    ({}, None, None),
    ({"hpc_username": "alice@uni.example"}, {"alice@uni.example": "alice"}, "alice"),
    ({"hpc_username": "mallory@uni.example"}, {"alice@uni.example": "alice"}, None),  # unmapped
])
def test_unix_username_from_the_claim_or_the_lookup(claims, mapping, expected):
    assert unix_username(claims, "hpc_username", mapping) == expected


def test_a_login_adds_claimed_groups_and_removes_only_what_claims_gave_before():
    changes = group_changes(current={"proj-a", "hub-admins", "granted-by-catalogue"},
                            claimed={"proj-a", "proj-b"}, previously_claimed={"proj-a", "hub-admins"})
    assert changes.add == {"proj-b"}
    assert changes.remove == {"hub-admins"}  # the catalogue's grant stays


def test_a_group_left_by_hand_is_not_forced_back_or_removed_twice():
    changes = group_changes(current=set(), claimed=set(), previously_claimed={"old"})
    assert changes.add == set() and changes.remove == set()


def test_the_username_map_must_map_to_unix_names(tmp_path):
    good = tmp_path / "map.yaml"
    good.write_text("alice@uni.example: alice\n")
    assert load_username_map(good) == {"alice@uni.example": "alice"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("alice@uni.example: 'Alice Smith'\n")
    with pytest.raises(ValueError, match="not Unix usernames: Alice Smith"):
        load_username_map(bad)
    (tmp_path / "list.yaml").write_text("- alice\n")
    with pytest.raises(ValueError, match="must be a YAML mapping"):
        load_username_map(tmp_path / "list.yaml")


@pytest.fixture
def metadata_server():
    documents = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = documents.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.end_headers()
            self.wfile.write((body or "").encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", documents
    server.shutdown()
    server.server_close()


def test_discovery_reads_the_endpoints_and_refuses_another_issuer(metadata_server):
    base, documents = metadata_server
    path = "/realms/hpc/.well-known/openid-configuration"
    documents[path] = json.dumps({"issuer": f"{base}/realms/hpc", "authorization_endpoint": f"{base}/auth",
                                  "token_endpoint": f"{base}/token", "userinfo_endpoint": f"{base}/me"})
    assert discover(f"{base}/realms/hpc")["token_endpoint"] == f"{base}/token"
    documents[path] = json.dumps({"issuer": "https://evil.example/", "authorization_endpoint": "x",
                                  "token_endpoint": "y", "userinfo_endpoint": "z"})
    with pytest.raises(DiscoveryError, match="names issuer 'https://evil.example/'"):
        discover(f"{base}/realms/hpc")
    documents[path] = json.dumps({"issuer": f"{base}/realms/hpc", "authorization_endpoint": "x"})
    with pytest.raises(DiscoveryError, match="does not give token_endpoint, userinfo_endpoint"):
        discover(f"{base}/realms/hpc")
    with pytest.raises(DiscoveryError, match="cannot read"):
        discover(f"{base}/nowhere")


def oidc_site(tmp_path, **auth):
    secret = tmp_path / "secret"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    site = yaml.safe_load(DEFAULT_SITE.read_text())  # the embedded default, switched to OIDC
    site["auth"] = {"kind": "oidc", "issuer": "https://login.example.eu/realms/hpc", "client_id": "hub",
                    "client_secret_file": str(secret), **auth}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(site))
    return path


def problems(path) -> str:
    with pytest.raises(SiteError) as err:
        load_site(path)
    return str(err.value)


def test_an_oidc_site_loads_with_defaults(tmp_path):
    site = load_site(oidc_site(tmp_path, admin_groups=["hub-admins"])).site
    assert site.auth.username_claim == "preferred_username" and "offline_access" in site.auth.scopes
    assert site.admin_groups == ["hub-admins"]


@pytest.mark.parametrize("auth, said", [
    ({"group_rules": [{"pattern": "^urn:(.*)$"}]}, "needs a named group (?P<group>...)"),
    ({"group_rules": [{"pattern": "^(unclosed"}]}, "not a regular expression"),
    ({"groups_claim": "groups; drop"}, "a claim name, or a dotted path of names"),
    ({"scopes": ["profile"]}, "must include openid"),
    ({"admin_groups": ["has space"]}, "auth.admin_groups"),
    ({"issuer": "login.example.eu"}, "auth.issuer"),
])
def test_bad_oidc_settings_are_named(tmp_path, auth, said):
    assert said in problems(oidc_site(tmp_path, **auth))


def test_admins_come_only_from_the_claim_and_the_secret_must_be_private(tmp_path):
    path = oidc_site(tmp_path)
    site = yaml.safe_load(path.read_text())
    site["hub"]["admin_users"] = ["ops"]
    path.write_text(yaml.safe_dump(site))
    (tmp_path / "secret").chmod(0o644)
    said = problems(path)
    assert "hub.admin_users" in said and "admins are the members of auth.admin_groups" in said
    assert "readable by its owner only (chmod 600)" in said


def test_the_refusal_page_escapes_what_it_shows():
    from factoryhub.oidc import Refusal

    refusal = Refusal(403, "You signed in as <b>x</b>", "Write to <script>alert(1)</script>",
                      'https://help.example.eu/?a=1&b="2"')
    html = refusal.jupyterhub_html_message
    assert "<b>" not in html and "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="https://help.example.eu/?a=1&amp;b=&quot;2&quot;"' in html


def test_the_help_link_must_be_https(tmp_path):
    assert "auth.account_help_url" in problems(oidc_site(tmp_path, account_help_url="javascript:alert(1)"))
