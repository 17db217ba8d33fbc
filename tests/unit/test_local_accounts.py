"""Local accounts of the embedded default."""
from __future__ import annotations

import stat

from factoryhub.local_accounts import CREDENTIALS_FILE, LocalAccountsAuthenticator, ensure_credentials


def test_passwords_are_generated_once_and_kept_private(tmp_path):
    first = ensure_credentials(tmp_path, ["admin", "researcher"])
    assert set(first) == {"admin", "researcher"} and all(len(p) >= 16 for p in first.values())
    assert first["admin"] != first["researcher"]
    assert ensure_credentials(tmp_path, ["admin", "researcher"]) == first
    assert stat.S_IMODE((tmp_path / CREDENTIALS_FILE).stat().st_mode) == 0o600


def test_accounts_follow_the_site(tmp_path):
    first = ensure_credentials(tmp_path, ["admin", "researcher"])
    second = ensure_credentials(tmp_path, ["admin", "trainer"])
    assert set(second) == {"admin", "trainer"} and second["admin"] == first["admin"]


async def test_authenticate_checks_the_password():
    auth = LocalAccountsAuthenticator(passwords={"alice": "s3cret-pass"})
    assert await auth.authenticate(None, {"username": "alice", "password": "s3cret-pass"}) == "alice"
    assert await auth.authenticate(None, {"username": "alice", "password": "wrong"}) is None
    assert await auth.authenticate(None, {"username": "mallory", "password": "s3cret-pass"}) is None
    assert await auth.authenticate(None, {"username": "alice"}) is None
    assert auth.check_allowed("alice") and not auth.check_allowed("mallory")
