"""``factoryhub doctor``: checks a live install end to end, one line per check with its fix.

Run it as the hub's service user on the service node (``sudo -u factoryhub factoryhub doctor
--test-user <someone>``). Each check is a small function returning a :class:`Check`; none of
them changes anything except the short test job, which runs as the test user and ends at once.
"""
from __future__ import annotations

import importlib.util
import os
import pwd
import re
import stat
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .deploy import sudoers
from .site import LoadedSite, SiteError, load_site
from .site.checks import _loopback


@dataclass(frozen=True)
class Check:
    """One check's outcome: what was checked, whether it holds, what was seen and how to fix it."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """The line ``doctor`` prints for this check."""
        status = "OK  " if self.ok else "FAIL"
        return f"{status} {self.name}: {self.detail}" + (f" — fix: {self.fix}" if not self.ok and self.fix else "")


@dataclass(frozen=True)
class Options:
    """What doctor was asked to check against."""

    site_path: str | None
    test_user: str | None
    users_group: str = "factoryhub-users"
    hub_connect_url: str | None = None
    timeout: float = 20.0


def _run(argv: list[str], loaded: LoadedSite | None, *, stdin: str | None = None,
         timeout: float = 20.0) -> subprocess.CompletedProcess:
    env = {**os.environ}
    if loaded is not None and loaded.site.slurm.conf:
        env["SLURM_CONF"] = str(loaded.site.slurm.conf)
    try:
        return subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
    except FileNotFoundError:
        return subprocess.CompletedProcess(argv, 127, "", f"{argv[0]}: command not found")
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(argv, 124, "", f"no answer within {timeout:.0f} s")


def _slurm(loaded: LoadedSite, name: str) -> str:
    bin_dir = loaded.site.slurm.bin_dir
    return str(Path(bin_dir) / name) if bin_dir else name


def _said(proc: subprocess.CompletedProcess) -> str:
    return (proc.stderr.strip() or proc.stdout.strip() or f"exit {proc.returncode}").splitlines()[-1][:200]


# --- the checks ------------------------------------------------------------------------------

def check_site(opts: Options) -> tuple[Check, LoadedSite | None]:
    """The site file the hub reads is valid."""
    try:
        loaded = load_site(opts.site_path)
    except SiteError as err:
        return Check("site", False, f"{err.source}: {len(err.problems)} problem(s): {err.problems[0]}",
                     "correct the file; `factoryhub check-site` lists every problem"), None
    return Check("site", True, f"{loaded.source} is valid ({loaded.site.sessions.backend} sessions)"), loaded


def check_service_user(loaded: LoadedSite) -> Check:
    """The hub runs as an unprivileged user, not root."""
    name = pwd.getpwuid(os.geteuid()).pw_name
    if os.geteuid() == 0:
        return Check("service user", False, "doctor runs as root, so the hub would too",
                     "run the hub (and doctor) as its service user, e.g. `sudo -u factoryhub factoryhub doctor`")
    return Check("service user", True, f"running as {name} (uid {os.geteuid()})")


def check_state_dir(loaded: LoadedSite) -> Check:
    """The state folder belongs to the service user, is private and writable."""
    path = loaded.state_dir
    me = pwd.getpwuid(os.geteuid()).pw_name
    fix = f"chown -R {me}: {path} && chmod 700 {path}"
    try:
        info = path.stat()
    except FileNotFoundError:
        return Check("state dir", False, f"{path} does not exist", f"mkdir -p {path} && {fix}")
    if info.st_uid != os.geteuid():
        return Check("state dir", False, f"{path} belongs to uid {info.st_uid}, not {me}", fix)
    if stat.S_IMODE(info.st_mode) & 0o077:
        return Check("state dir", False, f"{path} is mode {stat.S_IMODE(info.st_mode):o}: others may read the "
                     "cookie secret and databases", f"chmod 700 {path}")
    if not os.access(path, os.W_OK | os.X_OK):
        return Check("state dir", False, f"{path} is not writable by {me}", fix)
    return Check("state dir", True, f"{path} is {me}'s, mode 700, writable")


def check_munge(loaded: LoadedSite) -> Check:
    """munged answers: a credential encodes and decodes."""
    encoded = _run(["munge", "-n"], loaded, timeout=10)
    decoded = _run(["unmunge"], loaded, stdin=encoded.stdout, timeout=10) if encoded.returncode == 0 else encoded
    if decoded.returncode != 0:
        return Check("munge", False, _said(decoded), "start munged (systemctl start munge) with the cluster's key")
    return Check("munge", True, "a credential encodes and decodes")


def check_slurm(loaded: LoadedSite) -> Check:
    """slurmctld answers."""
    ping = _run([_slurm(loaded, "scontrol"), "ping"], loaded)
    if ping.returncode != 0 or "is UP" not in ping.stdout:
        return Check("slurm", False, _said(ping), "check slurm.conf (slurm.conf in site.yaml), munge and slurmctld")
    return Check("slurm", True, " ".join(ping.stdout.split())[:120])


def check_root_jobs(loaded: LoadedSite) -> Check:
    """Slurm itself refuses jobs of root (DisableRootJobs=YES)."""
    config = _run([_slurm(loaded, "scontrol"), "show", "config"], loaded)
    match = re.search(r"^DisableRootJobs\s*=\s*(\S+)", config.stdout, re.MULTILINE)
    if match is None:
        return Check("root jobs", False, f"cannot read Slurm's configuration: {_said(config)}",
                     "make `scontrol show config` work for the service user")
    if match.group(1).lower() != "yes":
        return Check("root jobs", False, f"DisableRootJobs={match.group(1)}",
                     "set DisableRootJobs=YES in slurm.conf and `scontrol reconfigure`")
    return Check("root jobs", True, "DisableRootJobs=YES")


def _expected_commands(loaded: LoadedSite, group: str) -> set[str]:
    """The commands of the shipped rule, as ``sudo -l`` lists them (whitespace normalised)."""
    rendered = sudoers(pwd.getpwuid(os.geteuid()).pw_name, group, str(loaded.site.slurm.bin_dir or "/usr/bin"))
    alias = next(line for line in rendered.replace("\\\n", " ").splitlines()
                 if line.startswith("Cmnd_Alias FACTORYHUB_SESSIONS ="))
    return {" ".join(c.split()) for c in alias.split("=", 1)[1].split(",") if c.strip()}


def check_sudo_rule(loaded: LoadedSite, opts: Options) -> Check:
    """The shipped sudoers rule is in force, and nothing wider."""
    fix = (f"install the shipped rule: factoryhub sudoers --users-group {opts.users_group} "
           "> /etc/sudoers.d/factoryhub && chmod 440 /etc/sudoers.d/factoryhub (as root; docs/admin.md)")
    listing = _run(["sudo", "-n", "-l"], loaded, timeout=10)
    if listing.returncode != 0:
        return Check("sudo rule", False, f"no sudo rights: {_said(listing)}", fix)
    text = listing.stdout.split("may run the following commands", 1)[-1]
    granted: list[tuple[str, set[str]]] = []
    for spec in re.split(r"\n\s*(?=\()", "\n" + text):
        head = re.match(r"\s*\(([^)]*)\)\s*((?:[A-Z_]+:\s*)*)(.*)", spec, re.DOTALL)
        if head:
            commands = {" ".join(c.split()) for c in head.group(3).split(",") if c.strip()}
            granted.append((head.group(1).strip(), commands))
    expected = _expected_commands(loaded, opts.users_group)
    wider = [f"({runas}) {', '.join(sorted(cmds - expected))}" for runas, cmds in granted
             if runas != f"%{opts.users_group}" or not cmds <= expected]
    if wider:
        return Check("sudo rule", False, f"wider than shipped: {'; '.join(wider)[:200]}",
                     "remove every other rule for the service user; keep only /etc/sudoers.d/factoryhub")
    if not any(cmds == expected for _, cmds in granted):
        return Check("sudo rule", False, "the shipped rule is missing or altered", fix)
    return Check("sudo rule", True, f"exactly the shipped rule, as the members of %{opts.users_group}")


def _test_job(loaded: LoadedSite, user: str, body: str, timeout: float) -> tuple[bool, str]:
    """Submit a tiny job as ``user`` through the sudo rule and wait for its end; (succeeded, what was seen)."""
    partition = loaded.site.profiles[0].partition
    script = (f"#!/bin/bash\n#SBATCH --job-name=factoryhub-doctor\n#SBATCH --partition={partition}\n"
              "#SBATCH --time=1\n#SBATCH --ntasks=1\n#SBATCH --output=/dev/null\n" + body + "\n")
    submit = _run(["sudo", "-n", "--preserve-env=SLURM_CONF", "-u", user, _slurm(loaded, "sbatch"), "--parsable"],
                  loaded, stdin=script)
    if submit.returncode != 0:
        return False, f"sbatch as {user} failed: {_said(submit)}"
    job = submit.stdout.strip().split(";")[0]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = _run([_slurm(loaded, "sacct"), "-n", "-X", "-P", "-j", job, "--format=State,ExitCode"], loaded)
        fields = state.stdout.strip().split("|") if state.stdout.strip() else []
        if fields and fields[0] not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING", ""):
            return fields[0] == "COMPLETED", f"job {job} {fields[0]} (exit {fields[1] if len(fields) > 1 else '?'})"
        time.sleep(0.5)
    _run(["sudo", "-n", "-u", user, _slurm(loaded, "scancel"), job], loaded)
    return False, f"job {job} did not end within {timeout:.0f} s (cancelled): is the partition busy?"


def check_submit(loaded: LoadedSite, opts: Options) -> Check:
    """The service user submits a job as the test user, and it runs."""
    if not opts.test_user:
        return Check("submit", False, "not checked", "give --test-user NAME (a member of the users group)")
    ok, seen = _test_job(loaded, opts.test_user, "true", opts.timeout)
    return Check("submit", ok, f"as {opts.test_user}: {seen}",
                 f"check the sudo rule, that {opts.test_user} is in the users group and has a Slurm project")


def check_hub_reachable(loaded: LoadedSite, opts: Options) -> Check:
    """A job on a compute node reaches the hub's API address (the port report goes there)."""
    url = opts.hub_connect_url or loaded.site.hub.hub_connect_url or loaded.site.hub.hub_bind_url
    if not opts.test_user:
        return Check("hub from compute nodes", False, f"{url} not checked", "give --test-user NAME")
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    body = f"timeout 10 bash -c 'exec 3<>/dev/tcp/{host}/{port}'"
    ok, seen = _test_job(loaded, opts.test_user, body, opts.timeout)
    return Check("hub from compute nodes", ok, f"{url}: {seen}",
                 f"make {host}:{port} reachable from the compute nodes (firewall, hub.hub_connect_url)")


def check_tls(loaded: LoadedSite) -> Check:
    """Users reach the hub over TLS, or only through a local reverse proxy that adds it."""
    hub = loaded.site.hub
    if hub.public_url.startswith("https://") or hub.bind_url.startswith("https://"):
        return Check("tls", True, f"users reach {hub.public_url or hub.bind_url}")
    if _loopback(hub.bind_url):
        return Check("tls", True, f"{hub.bind_url} is loopback only: the reverse proxy in front must serve https "
                     "(set hub.public_url to its https address)")
    return Check("tls", False, f"{hub.bind_url} serves plain http to the network",
                 "bind the hub to 127.0.0.1 behind a TLS reverse proxy and set hub.public_url to its https:// URL")


def _revision(url: str, version_table: str) -> tuple[str | None, str | None]:
    """(current revision, error) of the database at ``url``."""
    from alembic.runtime.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection, opts={"version_table": version_table}) \
                .get_current_revision(), None
    except Exception as err:  # any driver error: reported, not raised
        return None, str(err).splitlines()[0][:200]
    finally:
        engine.dispose()


def _head(package: str) -> str | None:
    from alembic.script import ScriptDirectory

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return ScriptDirectory(str(Path(spec.submodule_search_locations[0]) / "migrations")).get_current_head()


def check_databases(loaded: LoadedSite) -> Iterator[Check]:
    """Each service database answers and is at its newest migration; the hub's database answers."""
    site, state = loaded.site, loaded.state_dir
    services = [("quota", site.services.quota.enabled, site.databases.quota, "alembic_version"),
                ("catalogue", site.services.catalogue.enabled, site.databases.catalogue, "catalogue_alembic_version")]
    for name, enabled, url_template, table in services:
        if not enabled:
            continue
        url = url_template.format(state_dir=state)
        current, error = _revision(url, table)
        head = _head(f"factoryhub.{name}")
        fix = "start the hub once (services migrate at start) or restore the database; see docs/upgrading.md"
        if error:
            yield Check(f"{name} database", False, f"unreachable: {error}", "check databases." + name)
        elif current != head:
            yield Check(f"{name} database", False, f"at migration {current or 'none'}, the code needs {head}", fix)
        else:
            yield Check(f"{name} database", True, f"reachable, at the newest migration ({head})")
    current, error = _revision(site.databases.hub.format(state_dir=state), "alembic_version")
    if error:
        yield Check("hub database", False, f"unreachable: {error}", "check databases.hub")
    else:
        yield Check("hub database", True, f"reachable (JupyterHub schema {current or 'not created yet'})")


def run_checks(opts: Options) -> list[Check]:
    """Every check, in the order an operator fixes things."""
    site_check, loaded = check_site(opts)
    checks = [site_check]
    if loaded is None:
        return checks
    steps: list[Callable[[], Check | Iterator[Check]]] = [
        lambda: check_service_user(loaded), lambda: check_state_dir(loaded), lambda: check_tls(loaded),
        lambda: check_databases(loaded)]
    if loaded.site.sessions.backend == "slurm":
        steps += [lambda: check_munge(loaded), lambda: check_slurm(loaded), lambda: check_root_jobs(loaded),
                  lambda: check_sudo_rule(loaded, opts), lambda: check_submit(loaded, opts),
                  lambda: check_hub_reachable(loaded, opts)]
    for step in steps:
        result = step()
        checks.extend([result] if isinstance(result, Check) else result)
    return checks


def main(opts: Options) -> int:
    """Print one line per check; exit 0 only when every check holds."""
    checks = run_checks(opts)
    for check in checks:
        print(check.line(), flush=True)
    failed = [c for c in checks if not c.ok]
    print(f"{len(checks) - len(failed)} of {len(checks)} checks passed")
    return 1 if failed else 0
