"""The hub's unprivileged service user on the test cluster, set up as docs/admin.md tells a site.

- a system user ``factoryhub`` (the hub, its proxy and its services run as it, never root);
- a group ``factoryhub-users`` of the people who may run sessions, and homes only they can read;
- the shipped sudoers drop-in (extensions/hub/deploy/sudoers.in, rendered as
  ``factoryhub sudoers`` does), checked with visudo;
- Slurm operator rights for ``factoryhub`` in Slurm's own database (limits, orphan cancels);
- the hub's own environment under /opt (built from the system Python, so the service user
  can run it; the repository's .venv is built from a Python under /root) with
  configurable-http-proxy and a copy of jupyterhub_config.py.

Standard library only, like slurm_cluster.py.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from string import Template

REPO = Path(__file__).resolve().parents[2]
SERVICE_USER = "factoryhub"
USERS_GROUP = "factoryhub-users"
SUDOERS_FILE = Path("/etc/sudoers.d/factoryhub")
HUB_ENV = Path(os.environ.get("FACTORYHUB_TEST_HUB_ENV", "/opt/factoryhub/hub-env"))
# what goes into the hub's environment: a change means it must be reinstalled
HUB_SOURCES = ("pyproject.toml", "jupyterhub_config.py", "package.json", "package-lock.json", "spawners",
               "extensions/hub", "extensions/quota", "extensions/catalogue", "extensions/workshops",
               "extensions/dashboards", "extensions/announcements", "extensions/ai_act")


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(argv, check=True, capture_output=True, text=True, **kw)


def _exists(kind: str, name: str) -> bool:
    return subprocess.run(["getent", kind, name], capture_output=True).returncode == 0


def ensure_service_user(users: list[str], slurm_bin_dir: str = "/usr/bin") -> None:
    """The service user, the session users' group, private homes and the sudoers rule."""
    if not _exists("passwd", SERVICE_USER):
        _run(["useradd", "--system", "--user-group", "--create-home", "--home-dir", f"/var/lib/{SERVICE_USER}",
              "--shell", "/usr/sbin/nologin", SERVICE_USER])
    if not _exists("group", USERS_GROUP):
        _run(["groupadd", USERS_GROUP])
    for user in users:
        _run(["usermod", "--append", "--groups", USERS_GROUP, user])
        home = Path(os.path.expanduser(f"~{user}"))
        home.chmod(0o700)  # the hub reads a user's files only as that user (sudo tail), never itself
    template = (REPO / "extensions" / "hub" / "deploy" / "sudoers.in").read_text()
    text = Template(template).substitute(service_user=SERVICE_USER, users_group=USERS_GROUP,
                                         slurm_bin_dir=slurm_bin_dir)
    if not SUDOERS_FILE.exists() or SUDOERS_FILE.read_text() != text:
        staged = SUDOERS_FILE.with_name(".factoryhub.new")
        staged.write_text(text)
        staged.chmod(0o440)
        _run(["visudo", "-cf", str(staged)])
        staged.replace(SUDOERS_FILE)


def grant_operator(sacctmgr) -> None:
    """Slurm operator rights for the service user (sacctmgr modify, scancel of orphans): granted in
    Slurm's database, not through root. ``sacctmgr(*args)`` runs sacctmgr and returns its process."""
    users = sacctmgr("--noheader", "--parsable2", "list", "user", "format=User,AdminLevel").stdout.splitlines()
    if f"{SERVICE_USER}|Operator" in users:
        return
    if any(line.startswith(f"{SERVICE_USER}|") for line in users):
        sacctmgr("--immediate", "modify", "user", SERVICE_USER, "set", "AdminLevel=Operator")
    else:
        sacctmgr("--immediate", "add", "user", SERVICE_USER, "Account=root", "AdminLevel=Operator")


def _sources_digest() -> str:
    digest = hashlib.sha256()
    for name in HUB_SOURCES:
        path = REPO / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) \
            if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(REPO)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


def ensure_hub_env() -> Path:
    """Create or refresh the hub's environment from this checkout (non-editable, as a site installs it)."""
    stamp = HUB_ENV / "factoryhub-sources.sha256"
    wanted = _sources_digest()
    if stamp.exists() and stamp.read_text() == wanted:
        return HUB_ENV
    python = HUB_ENV / "bin" / "python"
    if not python.exists():
        _run(["/usr/bin/python3", "-m", "venv", str(HUB_ENV)])
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    build = Path(tempfile.mkdtemp(prefix="factoryhub-hub-env-"))
    try:  # build from a copy: an in-tree build would leave build/ and egg-info in the checkout
        shutil.copytree(REPO, build / "src", ignore=shutil.ignore_patterns(
            ".git", ".venv", "node_modules", "*.egg-info", "build", "dist", "test-artifacts", "notebooks",
            "__pycache__", ".factoryhub"))
        _run([*pip, "--upgrade", f"{build / 'src'}[local,postgres]"])
    finally:
        shutil.rmtree(build, ignore_errors=True)
    proxy = json.loads((REPO / "package.json").read_text())["dependencies"]["configurable-http-proxy"]
    (HUB_ENV / "proxy").mkdir(exist_ok=True)
    if not (HUB_ENV / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy").exists():
        _run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(HUB_ENV / "proxy"),
              f"configurable-http-proxy@{proxy}"])
    (HUB_ENV / "etc").mkdir(exist_ok=True)
    shutil.copy2(REPO / "jupyterhub_config.py", HUB_ENV / "etc" / "jupyterhub_config.py")
    stamp.write_text(wanted)
    return HUB_ENV


if __name__ == "__main__":
    print(ensure_hub_env() if sys.argv[1:] == ["hub-env"] else __doc__)
