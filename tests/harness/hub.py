"""Real JupyterHub processes for tests: free ports, a private state dir, clean stop.

A :class:`HubProcess` runs ``jupyterhub -f jupyterhub_config.py`` exactly as a user
would, with the site given through $FACTORYHUB_SITE (or none: the embedded default)
and only the listening ports overridden on the command line. A hub on Slurm runs as a site
runs it: as the unprivileged service user, from the hub environment installed for it.
"""
from __future__ import annotations

import json
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = REPO / "node_modules" / ".bin"
# A hub on Slurm runs as this unprivileged user from its own environment (tests/cluster/service_user.py).
SERVICE_USER = "factoryhub"
HUB_ENV = Path(os.environ.get("FACTORYHUB_TEST_HUB_ENV", "/opt/factoryhub/hub-env"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(condition, timeout: float, what: str, interval: float = 0.1):
    """Poll ``condition()`` until it returns a truthy value, which is returned."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = condition()
            if result:
                return result
        except (requests.RequestException, OSError) as err:
            last_error = err
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout:.0f} s (last error: {last_error})")


def descendants(pid: int) -> list[int]:
    """Every live process below ``pid`` (from /proc, parents before children)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = [], [pid]
    while frontier:
        children = [p for p, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def hand_over(workdir: Path, user: str) -> None:
    """Give ``workdir`` (site file, secrets the test wrote, the hub's state) to ``user`` and let it
    reach the folder (pytest's base folders are private to root: they get the search bit only)."""
    account = pwd.getpwnam(user)
    for parent in reversed(workdir.resolve().parents):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)
    for path in [workdir, *workdir.rglob("*")]:
        os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)


@dataclass
class HubProcess:
    """One hub under test. Use as a context manager, or call start()/stop()."""

    workdir: Path
    site_file: Path | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    extra_args: list[str] = field(default_factory=list)
    config_file: Path = REPO / "jupyterhub_config.py"
    port: int = field(default_factory=free_port)
    hub_port: int = field(default_factory=free_port)
    proxy_api_port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    # Who the hub runs as: None picks the unprivileged service user for a hub on Slurm (as a site
    # runs it, see tests/cluster/service_user.py) and the caller otherwise; "" forces the caller.
    run_as: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "hub.log"

    @property
    def service_user(self) -> str | None:
        """The Unix user the hub process runs as (None: the caller's)."""
        if self.run_as is not None:
            return self.run_as or None
        if self.site_file is None or self.config_file != REPO / "jupyterhub_config.py":
            return None
        site = yaml.safe_load(self.site_file.read_text()) or {}
        return SERVICE_USER if (site.get("sessions") or {}).get("backend") == "slurm" else None

    def argv(self) -> list[str]:
        python, config = sys.executable, self.config_file
        if self.service_user:  # the hub's own environment, as installed for the service user
            python, config = HUB_ENV / "bin" / "python", HUB_ENV / "etc" / "jupyterhub_config.py"
        return [
            str(python), "-m", "jupyterhub", "-f", str(config),
            f"--JupyterHub.bind_url=http://127.0.0.1:{self.port}/",
            f"--JupyterHub.hub_bind_url=http://127.0.0.1:{self.hub_port}",
            f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.proxy_api_port}",
            *self.extra_args,
        ]

    def env(self) -> dict[str, str]:
        env = {**os.environ, "PATH": f"{NODE_BIN}:{Path(sys.executable).parent}:{os.environ['PATH']}"}
        if self.service_user:
            home = pwd.getpwnam(self.service_user).pw_dir
            env = {k: v for k, v in env.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
            env.update(PATH=f"{HUB_ENV / 'proxy' / 'node_modules' / '.bin'}:{HUB_ENV / 'bin'}:/usr/bin:/bin",
                       HOME=home, USER=self.service_user, LOGNAME=self.service_user)
        env.pop("FACTORYHUB_SITE", None)
        if self.site_file is not None:
            env["FACTORYHUB_SITE"] = str(self.site_file)
        return {**env, **self.extra_env}

    def launch(self) -> subprocess.Popen:
        """Start the process without waiting for it to be ready."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        user = self.service_user
        if user:
            hand_over(self.workdir, user)
        self.proc = subprocess.Popen(self.argv(), cwd=self.workdir, env=self.env(), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                     user=user, group=user, extra_groups=[] if user else None)
        return self.proc

    def start(self, timeout: float = 60) -> HubProcess:
        """Launch and wait until the hub is healthy and has started every managed service (its API
        answers earlier, while the services still start)."""
        started_before = self.times_started()
        self.launch()

        def healthy():
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log_tail()}")
            return requests.get(f"{self.url}/hub/health", timeout=2).status_code == 200

        wait_until(healthy, timeout, "hub health")
        wait_until(lambda: healthy() and self.times_started() > started_before, timeout, "hub fully started")
        return self

    def times_started(self) -> int:
        """How often the log says a hub finished starting (the log is kept across restarts)."""
        if not self.log_path.exists():
            return 0
        return self.log_path.read_text(errors="replace").count("JupyterHub is now running at")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the hub (it stops its proxy and services), then make sure its group, and what it
        started in sessions of their own (the proxy), are gone: a hub that overran ``timeout`` must
        not leave its proxy running."""
        if self.proc is None or self.proc.poll() is not None:
            return
        children = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
        try:  # the services share the hub's process group
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """A crash as a service manager sees it: SIGKILL the hub, then everything it started
        (proxy, services: they run in sessions of their own, so its process group is not enough)."""
        children = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def kill_alone(self) -> list[int]:
        """A crash as an OOM kill does it: SIGKILL the hub process only; its proxy and managed
        services keep running (returns their pids)."""
        children = descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        return children

    def managed_services(self) -> dict[str, list[int]]:
        """Pids of the processes of each managed service started for this hub's API (old or new)."""
        found: dict[str, list[int]] = {}
        api = f"JUPYTERHUB_API_URL=http://127.0.0.1:{self.hub_port}/hub/api".encode()
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().split(b"\0")
                environ = (entry / "environ").read_bytes().split(b"\0")
                zombie = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
            except OSError:
                continue
            if zombie or api not in environ or b"-m" not in argv:
                continue
            module = argv[argv.index(b"-m") + 1].decode()
            found.setdefault(module, []).append(int(entry.name))
        return found

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def credentials(self) -> dict[str, str]:
        return json.loads((self.state_dir / "local-credentials.json").read_text())

    @property
    def state_dir(self) -> Path:
        """Tests keep site files in the workdir, so both layouts put state here."""
        return self.workdir / ".factoryhub"

    def login(self, username: str) -> requests.Session:
        """Log in through the login form, as a browser would; returns the session."""
        session = requests.Session()
        page = session.get(f"{self.url}/hub/login", timeout=10)
        xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
        resp = session.post(f"{self.url}/hub/login", timeout=10, allow_redirects=False,
                            data={"_xsrf": xsrf, "username": username, "password": self.credentials()[username]})
        if resp.status_code != 302:
            raise AssertionError(f"login of {username} failed: {resp.status_code}")
        session.headers["X-XSRFToken"] = session.cookies.get("_xsrf", path="/hub/") or xsrf
        return session

    def api_token(self, username: str) -> str:
        """A token for ``username``, made through the hub's REST API with the login cookie."""
        session = self.login(username)
        resp = session.post(f"{self.url}/hub/api/users/{username}/tokens", json={"note": "tests"}, timeout=10)
        resp.raise_for_status()
        return resp.json()["token"]

    def __enter__(self) -> HubProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def register_project(hub: HubProcess, admin_token: str, members: list[str], gpu_hours: float,
                     account: str = "proj-climate", track: str = "scaling") -> str:
    """A quota project with one allocation, made through the quota service's API as an admin;
    returns the service's API URL."""
    quota = f"{hub.url}/services/factoryhub-quota/api/v1"
    wait_until(lambda: requests.get(f"{quota}/health", timeout=2).status_code == 200, 60, "quota service")
    admin = {"Authorization": f"token {admin_token}"}
    made = requests.post(f"{quota}/projects", headers=admin, timeout=30, json={
        "account": account, "title": "Climate downscaling", "track": track, "sector": "research",
        "contact": "pi@uni.example", "members": members})
    assert made.status_code == 201, made.text
    granted = requests.post(f"{quota}/projects/{account}/allocations", headers=admin, timeout=30, json={
        "gpu_hours": gpu_hours, "starts_on": "2026-01-01", "ends_on": "2030-12-31"})
    assert granted.status_code == 201, granted.text
    return quota


def set_remaining_gpu_hours(quota: str, admin_token: str, account: str, gpu_hours: float) -> None:
    """Make ``account``'s balance exactly ``gpu_hours`` whatever it used or holds, by changing its
    first allocation through the quota API (``quota``: the API URL register_project returns)."""
    admin = {"Authorization": f"token {admin_token}"}
    project = requests.get(f"{quota}/projects/{account}", headers=admin, timeout=30).json()
    allocated = project["allocated_gpu_hours"] - project["remaining_gpu_hours"] + gpu_hours
    resp = requests.patch(f"{quota}/allocations/{project['allocations'][0]['id']}", headers=admin, timeout=30,
                          json={"gpu_hours": allocated})
    assert resp.status_code == 200, resp.text


@contextmanager
def running_session(hub: HubProcess, username: str, headers: dict, profile: str = "notebook-small"):
    """``username``'s default server started through the REST API with ``headers`` and ready inside the
    block, asked to stop after it."""
    server = f"{hub.url}/hub/api/users/{username}/server"
    started = requests.post(server, headers=headers, timeout=60, json={"user_options": {"profile": profile}})
    assert started.status_code in (201, 202), started.text
    try:
        wait_until(lambda: (requests.get(f"{hub.url}/hub/api/users/{username}", headers=headers, timeout=10)
                            .json()["servers"].get("") or {}).get("ready"), 90, f"{username}'s session")
        yield
    finally:
        requests.delete(server, headers=headers, timeout=60)
