"""System accounts never become session identities: the policy and every door that asks it."""
from __future__ import annotations

import json
import os
import pwd
from pathlib import Path

import pytest
import yaml

from factoryhub.cli import main as cli_main
from factoryhub.local_accounts import LocalAccountsAuthenticator
from factoryhub.site import SiteError, parse_site
from factoryhub.system_accounts import AccountPolicy, hub_service_user

REPO = Path(__file__).resolve().parents[2]


def example() -> dict:
    return yaml.safe_load((REPO / "site.example.yaml").read_text())


def passwd(name: str, uid: int, gid: int | None = None) -> pwd.struct_passwd:
    return pwd.struct_passwd((name, "x", uid, uid if gid is None else gid, "", f"/home/{name}", "/bin/bash"))


def lookup(table: dict[str, pwd.struct_passwd]):
    def get(name: str) -> pwd.struct_passwd:
        return table[name]
    return get


ACCOUNTS = {a.pw_name: a for a in [
    passwd("root", 0), passwd("toor", 0), passwd("daemon", 1), passwd("nobody", 65534),
    passwd("svc-backup", 998), passwd("alice", 1001), passwd("rooty", 1002, gid=0), passwd("edge", 1000),
    passwd("top", 60000), passwd("above", 60001),
]}


@pytest.mark.parametrize("name, refused", [
    ("root", "system or service account"),
    ("toor", "root's user or group id"),
    ("daemon", "system or service account"),
    ("nobody", "system or service account"),
    ("svc-backup", "uid 998 is below 1000"),
    ("rooty", "root's user or group id"),
    ("above", "uid 60001 is above 60000"),
    ("denied-one", "system or service account"),
])
def test_system_accounts_are_refused(name, refused):
    policy = AccountPolicy(denied=frozenset({"denied-one"}))
    reason = policy.refusal(name, lookup(ACCOUNTS))
    assert reason is not None and refused in reason


@pytest.mark.parametrize("name", ["#0", "#1001", "%wheel", "-u", "1000", "a\0b", "al ice", "alice:x", "", "../root",
                                  "x" * 65])
def test_names_that_tools_would_read_as_something_else_are_refused(name):
    reason = AccountPolicy().refusal(name, lookup(ACCOUNTS))
    assert reason is not None and "is not a username sessions may run as" in reason


@pytest.mark.parametrize("name", ["alice", "edge", "top", "no-unix-account", "jdoe@uni.example", "_svc.x"])
def test_personal_accounts_and_names_without_unix_account_pass(name):
    assert AccountPolicy().refusal(name, lookup(ACCOUNTS)) is None


def test_the_policy_of_a_process_denies_its_own_user():
    policy = AccountPolicy.of(1000, 60000, ["x"])
    assert hub_service_user() in policy.denied and "x" in policy.denied
    assert policy.refusal(hub_service_user()) is not None


def test_real_system_accounts_of_this_machine_are_refused():
    policy = AccountPolicy()
    for name in ("root", "daemon", "nobody"):
        assert policy.refusal(name) is not None, name
    low = next((a for a in pwd.getpwall() if 0 < a.pw_uid < 1000), None)
    if low is not None:
        assert policy.refusal(low.pw_name) is not None


@pytest.mark.parametrize("name", ["root", "daemon", "nobody"])
def test_check_site_refuses_system_accounts_among_local_accounts(name):
    data = example()
    data["auth"] = {"kind": "local", "accounts": [{"name": "alice-dev"}, {"name": name, "admin": True}]}
    with pytest.raises(SiteError) as info:
        parse_site(data, "site.yaml")
    assert any(p.startswith(f"auth.accounts[1].name: '{name}' is not allowed — sessions never run as system "
                            "accounts") for p in info.value.problems), info.value.problems


def test_check_site_refuses_a_denied_user_and_bounds_in_the_wrong_order():
    data = example()
    data["hub"].update(denied_users=["researcher"], min_uid=5000, max_uid=4000)
    data["auth"] = {"kind": "local", "accounts": [{"name": "researcher"}]}
    with pytest.raises(SiteError) as info:
        parse_site(data, "site.yaml")
    problems = info.value.problems
    assert any(p.startswith("auth.accounts[0].name: 'researcher' is not allowed") for p in problems), problems
    assert any(p.startswith("hub.min_uid: 5000 is not allowed — must be <= hub.max_uid (4000)") for p in problems)


def test_check_site_catches_a_slurm_profile_without_a_software_environment():
    data = example()
    data["slurm"].pop("default_environment", None)
    data["profiles"][0].pop("environment", None)
    with pytest.raises(SiteError) as info:
        parse_site(data, "site.yaml")
    assert any(p.startswith("profiles[0].environment: is required on Slurm") for p in info.value.problems), \
        info.value.problems


def test_check_site_without_a_path_reads_the_file_the_hub_would_read(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FACTORYHUB_SITE", raising=False)
    assert cli_main(["check-site"]) == 0
    assert "checking embedded default" in capsys.readouterr().err
    (tmp_path / "site.yaml").write_text("name: [broken\n")
    assert cli_main(["check-site"]) == 1
    err = capsys.readouterr().err
    assert "checking " + str(tmp_path / "site.yaml") in err and "not valid YAML" in err
    named = tmp_path / "elsewhere.yaml"
    named.write_text((REPO / "site.example.yaml").read_text())
    monkeypatch.setenv("FACTORYHUB_SITE", str(named))
    assert cli_main(["check-site"]) == 0
    captured = capsys.readouterr()
    assert f"checking {named}" in captured.err and captured.out.startswith(f"{named}: OK")


def test_site_schema_is_json_schema_with_every_section(capsys):
    assert cli_main(["site-schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"hub", "auth", "sessions", "slurm", "profiles", "services"} <= set(schema["properties"])
    hub = schema["$defs"]["HubSettings"]["properties"]
    assert hub["min_uid"]["default"] == 1000 and "description" in hub["min_uid"]


async def test_local_login_refuses_a_system_account_even_with_a_password():
    auth = LocalAccountsAuthenticator(passwords={"root": "pw", "alice": "pw2"})
    assert await auth.get_authenticated_user(None, {"username": "root", "password": "pw"}) is None
    user = await auth.get_authenticated_user(None, {"username": "alice", "password": "pw2"})
    assert user is not None and user["name"] == "alice"


def test_example_site_still_loads():
    data = yaml.safe_load((REPO / "site.example.yaml").read_text())
    assert parse_site(data, "site.yaml").account_policy.min_uid == 1000
    assert os.geteuid() != 0 or parse_site(data, "site.yaml").account_policy.refusal("root")


def test_check_site_refuses_local_accounts_on_a_published_hub():
    data = example()
    data["hub"]["public_url"] = "https://hub.factory.example.eu/"  # loopback bind, behind a reverse proxy
    with pytest.raises(SiteError) as info:
        parse_site(data, "site.yaml")
    assert any(p.startswith("hub.public_url: 'https://hub.factory.example.eu/' is not allowed — local accounts are "
                            "for development") for p in info.value.problems), info.value.problems
    data["hub"]["public_url"] = "http://127.0.0.1:8000/"
    assert parse_site(data, "site.yaml").hub.public_url == "http://127.0.0.1:8000/"
