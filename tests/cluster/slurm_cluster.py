#!/usr/bin/env python3
"""A real single-node Slurm cluster for tests and development.

    python3 tests/cluster/slurm_cluster.py up      # install what is missing, start, seed
    python3 tests/cluster/slurm_cluster.py down    # stop everything this script started
    python3 tests/cluster/slurm_cluster.py dump    # sinfo, squeue, sacct and daemon logs
    python3 tests/cluster/slurm_cluster.py env     # shell exports (SLURM_CONF=...)
    python3 tests/cluster/slurm_cluster.py user-env  # Python env jobs run JupyterLab from
    python3 tests/cluster/slurm_cluster.py hub-env   # the unprivileged hub's environment (service_user.py)
    python3 tests/cluster/slurm_cluster.py stop-controller  # an outage (``up`` brings it back)
    python3 tests/cluster/slurm_cluster.py stop-munge  # munged down (``up`` brings it back)
    python3 tests/cluster/slurm_cluster.py reset   # no jobs, no reservations, no budget limits

munge, MariaDB, slurmdbd, slurmctld and slurmd run as one node with four fake H100
GPUs (GRES over character devices), partitions ``gpu`` and ``cpu``, accounting, a few
Unix users and Slurm accounts (projects). ``up`` is idempotent; ``down`` leaves no
process behind. Needs root (it runs apt, useradd, mknod and the daemons).
Standard library only: it runs before any virtual environment exists.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import service_user  # the hub's unprivileged service user, beside this script

CLUSTER_DIR = Path(os.environ.get("FACTORYHUB_TEST_CLUSTER_DIR", "/var/lib/factoryhub-test-cluster"))
APT_PACKAGES = ["slurm-wlm", "slurmdbd", "munge", "mariadb-server", "sudo", "procps", "python3-venv"]
# Jobs run as other Unix users: their Python must be reachable by everyone, so the
# environment lives under /opt and is built from the system Python, not a private one.
USER_ENV = Path(os.environ.get("FACTORYHUB_TEST_USER_ENV", "/opt/factoryhub/user-env"))
USER_ENV_REQUIREMENTS = Path(__file__).with_name("user-env-requirements.txt")
LAB = Path(__file__).resolve().parents[2] / "extensions" / "lab"
CLUSTER_NAME = "factoryhub"
GPU_COUNT = 4
# Advertised, not real (SlurmdParameters=config_overrides): room for 20 small sessions at once.
NODE_CPUS = int(os.environ.get("FACTORYHUB_TEST_NODE_CPUS", "32"))  # the restart benchmark asks for more
NODE_MEMORY_MB = 64000

# Projects are Slurm accounts; users are Unix users with associations to them.
ACCOUNTS = {
    "proj-climate": "Climate model emulation (research)",
    "proj-genomics": "Genomic variant calling (research)",
    "sme-visionai": "Visual inspection start-up (SME)",
    "proj-training": "The training team's project (workshop budgets come from it)",
}
USERS = {
    "alice": ["proj-climate", "sme-visionai"],
    "bob": ["proj-climate"],
    "carol": ["proj-genomics"],
    "erin": [],  # a Unix user in no project: the OIDC login refuses her, saying how to join one
    "tina": ["proj-training"],  # trainers
    "tom": ["proj-training"],
    # training pool accounts: Unix users lent to workshop participants without an account (no project)
    **{f"train{n:02d}": [] for n in range(1, 21)},  # 8 for the tests, 20 for benchmarks/workshop_joins.py
}
DAEMONS = ("slurmd", "slurmctld", "slurmdbd", "mariadb", "munged")  # stop order


class ClusterError(RuntimeError):
    """A bring-up step failed; the message says which and why."""


@dataclass
class State:
    """What ``up`` chose and started, kept in cluster.json so ``down`` can undo it."""

    node: str = ""
    ports: dict[str, int] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls) -> State:
        path = CLUSTER_DIR / "cluster.json"
        return cls(**json.loads(path.read_text())) if path.exists() else cls()

    def save(self) -> None:
        (CLUSTER_DIR / "cluster.json").write_text(json.dumps(asdict(self), indent=2))


def paths() -> dict[str, Path]:
    d = CLUSTER_DIR
    return {
        "etc": d / "etc", "log": d / "log", "run": d / "run", "gpus": d / "gpus",
        "ctld": d / "state" / "slurmctld", "spool": d / "state" / "slurmd",
        "mysql": d / "mysql", "mysql_run": d / "run" / "mysqld",
    }


def slurm_env() -> dict[str, str]:
    """The environment every Slurm command and daemon runs with."""
    return {**os.environ, "SLURM_CONF": str(paths()["etc"] / "slurm.conf")}


def run(argv: list[str], *, check: bool = True, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=slurm_env(), **kw)
    if check and proc.returncode != 0:
        raise ClusterError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def wait_for(what: str, probe, timeout: float = 30.0, interval: float = 0.2, pid: int | None = None) -> None:
    """Poll ``probe()`` until it is true; fail naming ``what`` after ``timeout`` seconds,
    or at once when the daemon ``pid`` that should answer has died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid is not None and not alive(pid):
            raise ClusterError(f"{what} exited during start-up:\n{log_tail(what)}")
        try:
            if probe():
                return
        except (subprocess.SubprocessError, OSError):
            pass
        time.sleep(interval)
    raise ClusterError(f"{what} not ready after {timeout:.0f} s (logs: {paths()['log']})")


def log_tail(name: str, lines: int = 15) -> str:
    log = paths()["log"] / f"{name}.out"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else "(no log)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def alive(pid: int | None) -> bool:
    """True if ``pid`` is a live (non-zombie) process."""
    if not pid:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# --- installation and host preparation -------------------------------------------------

def ensure_packages() -> None:
    missing = [p for p in APT_PACKAGES if subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", p], capture_output=True, text=True).stdout != "install ok installed"]
    if not missing:
        return
    if os.geteuid() != 0:
        raise ClusterError(f"missing Debian packages {missing}; run as root to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing], check=True, env=env)


def ensure_users() -> None:
    for user in USERS:
        if subprocess.run(["id", user], capture_output=True).returncode != 0:
            run(["useradd", "--create-home", "--shell", "/bin/bash", user])
    service_user.ensure_service_user(list(USERS))


def make_fake_gpus() -> None:
    gpus = paths()["gpus"]
    gpus.mkdir(parents=True, exist_ok=True)
    for i in range(GPU_COUNT):
        dev = gpus / f"nvidia{i}"
        if not dev.exists():  # Slurm 22.05 accepts only character devices as GPU files
            os.mknod(dev, 0o666 | 0o020000, os.makedev(195, i))


# --- configuration ---------------------------------------------------------------------

def write_configs(state: State) -> None:
    p = paths()
    node, ports = state.node, state.ports
    slurm_conf = f"""\
ClusterName={CLUSTER_NAME}
SlurmctldHost={node}(127.0.0.1)
SlurmctldPort={ports['slurmctld']}
SlurmdPort={ports['slurmd']}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation={p['ctld']}
SlurmdSpoolDir={p['spool']}
SlurmctldPidFile={p['run']}/slurmctld.pid
SlurmdPidFile={p['run']}/slurmd.pid
SlurmctldLogFile={p['log']}/slurmctld.log
SlurmdLogFile={p['log']}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
SlurmdParameters=config_overrides
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=1000
GresTypes=gpu
MinJobAge=60
DisableRootJobs=YES
KillWait=5
InactiveLimit=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort={ports['slurmdbd']}
AccountingStorageTRES=gres/gpu,gres/gpu:h100
AccountingStorageEnforce=associations,limits,qos,safe
PriorityType=priority/multifactor
PriorityDecayHalfLife=0
PriorityUsageResetPeriod=NONE
NodeName={node} NodeAddr=127.0.0.1 CPUs={NODE_CPUS} RealMemory={NODE_MEMORY_MB} Gres=gpu:h100:{GPU_COUNT} State=UNKNOWN
PartitionName=gpu Nodes={node} Default=YES DefaultTime=01:00:00 MaxTime=12:00:00 State=UP
PartitionName=cpu Nodes={node} DefaultTime=01:00:00 MaxTime=24:00:00 State=UP
"""
    gres_conf = f"AutoDetect=off\nNodeName={node} Name=gpu Type=h100 File={p['gpus']}/nvidia[0-{GPU_COUNT - 1}]\n"
    dbd_conf = f"""\
AuthType=auth/munge
DbdHost={node}
DbdAddr=127.0.0.1
DbdPort={ports['slurmdbd']}
SlurmUser=root
LogFile={p['log']}/slurmdbd.log
PidFile={p['run']}/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort={ports['mariadb']}
StorageUser=slurm
StoragePass=factoryhub-test
StorageLoc=slurm_acct_db
"""
    (p["etc"] / "slurm.conf").write_text(slurm_conf)
    (p["etc"] / "gres.conf").write_text(gres_conf)
    dbd = p["etc"] / "slurmdbd.conf"
    dbd.write_text(dbd_conf)
    dbd.chmod(0o600)  # slurmdbd refuses a readable file: it holds the database password


# --- daemons ---------------------------------------------------------------------------

def spawn(state: State, name: str, argv: list[str]) -> None:
    """Start a foreground daemon in its own session; its pid goes into the state file."""
    log = open(paths()["log"] / f"{name}.out", "ab")
    # cwd "/": a daemon outlives the checkout that started it, and job steps inherit its folder
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=slurm_env(), start_new_session=True, cwd="/")
    state.pids[name] = proc.pid
    state.save()


def start_munge(state: State) -> None:
    def munge_works() -> bool:
        enc = subprocess.run(["munge", "-n"], capture_output=True, timeout=5)
        return enc.returncode == 0 and subprocess.run(
            ["unmunge"], input=enc.stdout, capture_output=True, timeout=5).returncode == 0

    if munge_works():
        return  # a munged is already serving this host (ours or the system's): reuse it
    Path("/run/munge").mkdir(parents=True, exist_ok=True)
    shutil.chown("/run/munge", "munge", "munge")
    if not Path("/etc/munge/munge.key").exists():
        subprocess.run(["mungekey", "--create"], check=True)
        shutil.chown("/etc/munge/munge.key", "munge", "munge")
    spawn(state, "munged", ["runuser", "-u", "munge", "--", "munged", "--foreground"])
    wait_for("munged", munge_works, pid=state.pids["munged"])


def mariadb_sql(sql: str) -> subprocess.CompletedProcess:
    sock = paths()["mysql_run"] / "mysqld.sock"
    return run(["mariadb", "--no-defaults", f"--socket={sock}", "-u", "root", "-e", sql], check=False, timeout=10)


def start_mariadb(state: State) -> None:
    if is_daemon(state.pids.get("mariadb", 0), "mariadb") and mariadb_sql("select 1").returncode == 0:
        return
    data = paths()["mysql"]
    if not (data / "mysql").exists():
        data.mkdir(parents=True, exist_ok=True)
        shutil.chown(data, "mysql", "mysql")
        run(["mariadb-install-db", "--no-defaults", "--user=mysql", f"--datadir={data}",
             "--auth-root-authentication-method=socket", "--skip-test-db"], timeout=120)
    run_dir = paths()["mysql_run"]
    shutil.chown(run_dir, "mysql", "mysql")
    spawn(state, "mariadb", [
        "mariadbd", "--no-defaults", "--user=mysql", f"--datadir={data}",
        f"--socket={run_dir}/mysqld.sock", f"--pid-file={run_dir}/mysqld.pid",
        f"--port={state.ports['mariadb']}", "--bind-address=127.0.0.1",
        "--innodb-buffer-pool-size=128M", "--innodb-lock-wait-timeout=900",
    ])
    # A stale socket file lies; only a real query proves the server is up.
    wait_for("mariadb", lambda: mariadb_sql("select 1").returncode == 0, pid=state.pids["mariadb"])
    for host in ("127.0.0.1", "localhost"):
        mariadb_sql(f"CREATE USER IF NOT EXISTS 'slurm'@'{host}' IDENTIFIED BY 'factoryhub-test';"
                    f"GRANT ALL ON slurm_acct_db.* TO 'slurm'@'{host}';")


def sacctmgr(*args: str) -> subprocess.CompletedProcess:
    return run(["sacctmgr", "--immediate", *args], check=False, timeout=30)


def start_slurmdbd(state: State) -> None:
    if not is_daemon(state.pids.get("slurmdbd", 0), "slurmdbd"):
        spawn(state, "slurmdbd", ["slurmdbd", "-D"])
    wait_for("slurmdbd", lambda: sacctmgr("--noheader", "list", "cluster").returncode == 0,
             pid=state.pids["slurmdbd"])


def seed_accounting() -> None:
    """Register the cluster, accounts and users; each is skipped when already there."""
    clusters = sacctmgr("--noheader", "--parsable2", "list", "cluster", "format=Cluster").stdout.split()
    if CLUSTER_NAME not in clusters:
        run(["sacctmgr", "--immediate", "add", "cluster", CLUSTER_NAME])
    accounts = sacctmgr("--noheader", "--parsable2", "list", "account", "format=Account").stdout.split()
    for account, description in ACCOUNTS.items():
        if account not in accounts:
            run(["sacctmgr", "--immediate", "add", "account", account,
                 f"Description={description}", "Organization=factoryhub"])
    assocs = set(sacctmgr("--noheader", "--parsable2", "list", "assoc", "format=User,Account").stdout.split())
    for user, accounts_of_user in USERS.items():
        missing = [a for a in accounts_of_user if f"{user}|{a}" not in assocs]
        if missing:
            run(["sacctmgr", "--immediate", "add", "user", user, f"Account={','.join(missing)}",
                 f"DefaultAccount={accounts_of_user[0]}"])
    service_user.grant_operator(lambda *args: run(["sacctmgr", *args]))


def start_slurmctld(state: State) -> None:
    if not is_daemon(state.pids.get("slurmctld", 0), "slurmctld"):
        spawn(state, "slurmctld", ["slurmctld", "-D", "-i"])
    wait_for("slurmctld", lambda: "is UP" in run(["scontrol", "ping"], check=False, timeout=10).stdout,
             pid=state.pids["slurmctld"])


def node_state(state: State) -> str:
    out = run(["sinfo", "--noheader", "--nodes", state.node, "--format=%T"], check=False, timeout=10).stdout
    return out.strip().splitlines()[0].rstrip("*~#") if out.strip() else ""


def start_slurmd(state: State) -> None:
    if not is_daemon(state.pids.get("slurmd", 0), "slurmd"):
        spawn(state, "slurmd", ["slurmd", "-D", "-N", state.node])
    wait_for("slurmd", lambda: node_state(state) in {"idle", "mixed", "allocated", "down", "drained"},
             pid=state.pids["slurmd"])
    if node_state(state) in {"down", "drained"}:  # e.g. after an unclean stop
        run(["scontrol", "update", f"nodename={state.node}", "state=resume"])
    wait_for("node idle", lambda: node_state(state) in {"idle", "mixed", "allocated"})


def up() -> State:
    if os.geteuid() != 0:
        raise ClusterError("the test cluster must be started as root (daemons, useradd, mknod)")
    ensure_packages()
    for d in paths().values():
        d.mkdir(parents=True, exist_ok=True)
    CLUSTER_DIR.chmod(0o755)
    state = State.load()
    if not state.ports:
        state.node = socket.gethostname().split(".")[0]
        state.ports = {name: free_port() for name in ("slurmctld", "slurmd", "slurmdbd", "mariadb")}
    state.save()
    ensure_users()
    make_fake_gpus()
    write_configs(state)
    start_munge(state)
    start_mariadb(state)
    start_slurmdbd(state)
    seed_accounting()
    start_slurmctld(state)
    start_slurmd(state)
    return state


def _lab_sources_digest() -> str:
    """The FactoryHub lab extension's sources: a change means the jobs' copy is stale."""
    digest = hashlib.sha256()
    for path in sorted(p for pattern in ("package.json", "yarn.lock", "pyproject.toml", "src/*.ts", "style/*",
                                         "factoryhub_lab/**/*.py") for p in LAB.glob(pattern)):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def ensure_user_env() -> Path:
    """Create (or refresh, when the requirements or the lab extension changed) the jobs' Python
    environment: JupyterLab plus FactoryHub's lab extension, as on a site's GPU nodes."""
    wanted = USER_ENV_REQUIREMENTS.read_text() + f"# factoryhub-lab {_lab_sources_digest()}\n"
    stamp = USER_ENV / "factoryhub-requirements.txt"
    if stamp.exists() and stamp.read_text() == wanted:
        return USER_ENV
    ensure_packages()
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--clear", str(USER_ENV)], check=True)
    pip = [str(USER_ENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "-r", str(USER_ENV_REQUIREMENTS)], check=True)
    # built like `make` builds it for the hub's environment (npm registry, jlpm from the build env)
    subprocess.run([*pip, str(LAB)], check=True, env={**os.environ, "PATH": f"{sys.prefix}/bin:{os.environ['PATH']}"})
    stamp.write_text(wanted)
    return USER_ENV


def reset() -> None:
    """A clean slate for a test session: state (jobs, reservations, limits) outlives ``down``."""
    for partition in ("gpu", "cpu"):
        run(["scancel", "--full", f"--partition={partition}"], check=False)
    listing = run(["scontrol", "--oneliner", "show", "reservation"], check=False).stdout
    for line in listing.splitlines():
        if line.startswith("ReservationName="):
            run(["scontrol", "delete", f"reservationname={line.split()[0].split('=', 1)[1]}"], check=False)
    for account in ACCOUNTS:
        run(["sacctmgr", "--immediate", "modify", "account", account, "set", "GrpTRESMins=gres/gpu=-1"], check=False)
    # training accounts a failed workshop test left behind (a workshop's end removes its own)
    listed = run(["sacctmgr", "--noheader", "--parsable2", "list", "account", "format=Account"], check=False).stdout
    for account in (a for a in listed.split() if a.startswith("ws-")):
        run(["sacctmgr", "--immediate", "delete", "account", account], check=False)


# --- teardown --------------------------------------------------------------------------

def stray_slurm_processes() -> list[int]:
    """Job steps left by slurmd (proctrack/linuxproc does not kill them with it)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and alive(int(proc.name)):
            try:
                if (proc / "comm").read_text().strip() == "slurmstepd":
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def is_daemon(pid: int, name: str) -> bool:
    """True if ``pid`` is alive and still the daemon we started (pids get reused)."""
    try:
        return alive(pid) and name.encode() in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def stop(pid: int, timeout: float = 15.0) -> None:
    """Stop the daemon ``pid`` and its process group."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if alive(pid):
        os.killpg(pid, signal.SIGKILL)


def down() -> None:
    state = State.load()
    if is_daemon(state.pids.get("slurmctld", 0), "slurmctld"):
        for partition in ("gpu", "cpu"):  # every job, whoever submitted it
            run(["scancel", "--full", f"--partition={partition}"], check=False)
    for name in DAEMONS:
        pid = state.pids.pop(name, None)
        if pid and is_daemon(pid, name):  # never killpg(0): that is our own group
            stop(pid)
    for pid in stray_slurm_processes():
        os.kill(pid, signal.SIGKILL)
    if CLUSTER_DIR.exists():
        state.save()


def dump() -> str:
    """Everything worth reading when a Slurm test fails."""
    out = []
    for argv in (["sinfo", "--long", "--Node"], ["squeue", "--all", "--long"],
                 ["sacct", "--allusers", "--starttime=now-1days",
                  "--format=JobID,JobName,User,Account,Partition,AllocTRES%40,State,ExitCode,Elapsed"]):
        proc = run(argv, check=False, timeout=20)
        out.append(f"$ {' '.join(argv)}\n{proc.stdout}{proc.stderr}")
    logs = sorted(paths()["log"].glob("*"))
    for log in logs:
        if log.suffix == ".out" and log.with_suffix(".log") in logs:
            continue  # a daemon's stdout repeats its log file
        lines = log.read_text(errors="replace").splitlines()[-25:]
        out.append(f"--- {log} (last {len(lines)} lines)\n" + "\n".join(lines))
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "dump", "env", "user-env", "hub-env", "stop-controller",
                                            "stop-munge", "reset"])
    args = parser.parse_args(argv)
    try:
        if args.command == "up":
            started = time.monotonic()
            state = up()
            print(f"slurm test cluster up on node {state.node} in {time.monotonic() - started:.1f} s; "
                  f"export SLURM_CONF={paths()['etc'] / 'slurm.conf'}")
        elif args.command == "down":
            down()
            print("slurm test cluster stopped")
        elif args.command in ("stop-controller", "stop-munge"):
            daemon = "slurmctld" if args.command == "stop-controller" else "munged"
            pid = State.load().pids.get(daemon, 0)
            if pid and is_daemon(pid, daemon):
                stop(pid)
            print(f"{daemon} stopped")
        elif args.command == "reset":
            reset()
            print("slurm test cluster reset: no jobs, no reservations, no account limits")
        elif args.command == "hub-env":
            print(f"hub environment ready at {service_user.ensure_hub_env()}")
        elif args.command == "user-env":
            print(f"jobs' Python environment ready at {ensure_user_env()}")
        elif args.command == "dump":
            print(dump())
        else:
            print(f"export SLURM_CONF={paths()['etc'] / 'slurm.conf'}")
    except ClusterError as err:
        print(f"slurm test cluster: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
