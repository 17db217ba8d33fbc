"""A real OpenID Connect provider on loopback (npm oidc-provider, see oidc_provider.mjs).

The provider's people are a JSON file: :meth:`OIDCProvider.set_person` rewrites it, and the next
login (or userinfo call) sees the change — how a claim disappears between two logins.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.harness.hub import REPO, free_port, wait_until

SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID, CLIENT_SECRET = "factoryhub", "test-client-secret-0123456789abcdef"


@dataclass
class OIDCProvider:
    workdir: Path
    redirect_uri: str
    access_token_ttl: int = 3600
    port: int = field(default_factory=free_port)
    people: dict[str, dict] = field(default_factory=dict)
    proc: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def accounts_file(self) -> Path:
        return self.workdir / "oidc-people.json"

    def set_person(self, login: str, **claims) -> None:
        self.people[login] = claims
        self.accounts_file.write_text(json.dumps(self.people))

    def write_client_secret(self, path: Path) -> Path:
        path.write_text(CLIENT_SECRET + "\n")
        path.chmod(0o600)
        return path

    def start(self) -> OIDCProvider:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.accounts_file.write_text(json.dumps(self.people))
        client = self.workdir / "oidc-client.json"
        client.write_text(json.dumps({"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
                                      "redirect_uris": [self.redirect_uri],
                                      "access_token_ttl": self.access_token_ttl}))
        log = open(self.workdir / "oidc-provider.log", "ab")
        self.proc = subprocess.Popen(["node", str(SCRIPT), str(self.port), str(self.accounts_file), str(client)],
                                     cwd=REPO, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True, env={**os.environ, "NODE_ENV": "test"})

        def discovered():
            if self.proc.poll() is not None:
                raise RuntimeError(f"oidc-provider exited: {(self.workdir / 'oidc-provider.log').read_text()}")
            return requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=2).status_code == 200

        wait_until(discovered, 30, "OIDC discovery document")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)

    def __enter__(self) -> OIDCProvider:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
