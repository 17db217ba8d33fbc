"""Pure job-script builder: a fixed skeleton plus a header built from typed fields.

Nothing a user typed reaches the script except through :class:`JobRequest`, whose
fields are checked again here (defence in depth): header values must be single
tokens of a strict alphabet, and every value in the body is shell-quoted.
"""
from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from factoryhub.site.model import BIND, MODULE

_TOKEN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:@+-]{0,127}$")  # what may follow an #SBATCH option
_PATH = re.compile(r"^/[A-Za-z0-9_./%+-]{0,1023}$")
_ENV_NAME = re.compile(r"^[A-Z_][A-Z0-9_]{0,127}$")
# the site model's patterns, checked again here (defence in depth), from their one home
_MODULE = re.compile(MODULE)
_BIND = re.compile(BIND)
# Course material (a workshop's): what reaches nbgitpuller's argv, shell-quoted. The repository is an
# http(s), git or file URL (never an option, never git's ext:: or scp-like forms), the branch a git
# ref name, the folder one name inside the home directory.
COURSE_REPO = re.compile(r"(https?|git|file)://[A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=%-]{1,480}")
COURSE_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]{0,99}")
COURSE_DIR = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}")
# A pull that takes longer is stopped and the session starts without it: the hub waits for the
# port report only so long (SlurmSessionSpawner.port_timeout, 120 s by default).
COURSE_PULL_SECONDS = 90
JOB_NAME_PREFIX = "fh-"
COMMENT_PREFIX = "factoryhub"


class UnsafeJobField(ValueError):
    """A field would not be a single safe token in the job script."""


def token_ok(value: str) -> bool:
    """True if ``value`` may follow an #SBATCH option (account, reservation, QOS…)."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def _token(name: str, value: str) -> str:
    if not token_ok(value):  # fullmatch: "$" alone would accept a trailing newline
        raise UnsafeJobField(f"{name}: {value[:60]!r} is not a safe Slurm value")
    return value


def _path(name: str, value: str) -> str:
    if not _PATH.fullmatch(value) or "/../" in f"{value}/":
        raise UnsafeJobField(f"{name}: {value[:60]!r} is not a safe absolute path")
    return value


def slurm_time(minutes: int) -> str:
    """Minutes as Slurm's D-HH:MM:SS."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    return f"{days}-{hours:02d}:{mins:02d}:00"


def job_comment(hub_id: str, username: str, server_name: str) -> str:
    """The tag by which the reconciler recognises this hub's jobs."""
    return f"{COMMENT_PREFIX}:{hub_id}:{username}:{server_name}"


@dataclass(frozen=True)
class PythonEnv:
    """Run the server from a Python environment's bin/ on the cluster."""

    prefix: str


@dataclass(frozen=True)
class ApptainerEnv:
    """Run the server inside an Apptainer image, with the GPUs (--nv)."""

    image: str
    binds: tuple[str, ...] = ()


@dataclass(frozen=True)
class Course:
    """Course material pulled with nbgitpuller into ``~/<directory>`` before the server starts."""

    repo: str
    branch: str
    directory: str

    def __post_init__(self):
        if not isinstance(self.repo, str) or not COURSE_REPO.fullmatch(self.repo):
            raise UnsafeJobField(f"course_repo: {str(self.repo)[:60]!r} is not an http(s), git or file URL")
        branch = self.branch
        if (not isinstance(branch, str) or not COURSE_BRANCH.fullmatch(branch) or ".." in branch or "//" in branch
                or branch.endswith((".lock", "/", "."))):
            raise UnsafeJobField(f"course_branch: {str(branch)[:60]!r} is not a git branch name")
        if not isinstance(self.directory, str) or not COURSE_DIR.fullmatch(self.directory):
            raise UnsafeJobField(f"course_dir: {str(self.directory)[:60]!r} is not a folder name")


@dataclass(frozen=True)
class JobRequest:
    """Everything a session's job script is made of, already validated."""

    username: str
    hub_id: str
    server_name: str
    account: str
    partition: str
    cpus: int
    memory_gb: int
    walltime_minutes: int
    home: str
    environment: PythonEnv | ApptainerEnv
    gpus: int = 0
    gpu_type: str | None = None
    qos: str | None = None
    reservation: str | None = None
    price: float = 1.0  # GPU-hours charged per GPU-hour (the profile's)
    env: dict[str, str] = field(default_factory=dict)
    command: tuple[str, ...] = ("jupyterhub-singleuser",)
    modules: tuple[str, ...] = ()  # environment modules loaded before the session starts
    course: Course | None = None  # a workshop's course material, pulled before the server starts
    idle_timeout_minutes: int | None = None  # the server stops itself after this long without activity
    output_dir: str | None = None  # the site's project storage for this session's outputs

    def __post_init__(self):
        for name in ("username", "hub_id", "account", "partition"):
            _token(name, getattr(self, name))
        for name in ("qos", "reservation", "gpu_type"):
            if getattr(self, name) is not None:
                _token(name, getattr(self, name))
        if self.server_name:
            _token("server_name", self.server_name)
        _path("home", self.home)
        env_path = self.environment.prefix if isinstance(self.environment, PythonEnv) else self.environment.image
        _path("environment", env_path)
        for name, low, high in (("cpus", 1, 4096), ("memory_gb", 1, 65536), ("walltime_minutes", 1, 525600),
                                ("gpus", 0, 64)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise UnsafeJobField(f"{name}: {value!r} is outside {low}..{high}")
        if self.course is not None and not isinstance(self.course, Course):
            raise UnsafeJobField("course: must be a Course")
        if self.idle_timeout_minutes is not None and (
                isinstance(self.idle_timeout_minutes, bool) or not isinstance(self.idle_timeout_minutes, int)
                or not 1 <= self.idle_timeout_minutes <= 525600):
            raise UnsafeJobField(f"idle_timeout_minutes: {self.idle_timeout_minutes!r} is outside 1..525600")
        if self.gpus and self.gpu_type is None:
            raise UnsafeJobField("gpu_type: required when gpus > 0")
        for key, value in self.env.items():
            if not _ENV_NAME.fullmatch(key) or "\0" in value:
                raise UnsafeJobField(f"env: {key[:60]!r} is not a safe environment variable")
        for module in self.modules:
            if not _MODULE.fullmatch(module):
                raise UnsafeJobField(f"modules: {module[:60]!r} is not a safe module name")
        if isinstance(self.environment, ApptainerEnv):
            for bind in self.environment.binds:
                if not _BIND.fullmatch(bind) or "/../" in f"{bind}/":
                    raise UnsafeJobField(f"binds: {bind[:60]!r} is not a safe SRC[:DST[:ro|rw]]")

    @property
    def job_name(self) -> str:
        return f"{JOB_NAME_PREFIX}{self.username}"

    @property
    def comment(self) -> str:
        return job_comment(self.hub_id, self.username, self.server_name)

    @property
    def output_path(self) -> str:
        return str(PurePosixPath(self.home) / ".factoryhub-session-%j.log")


def header(req: JobRequest) -> list[str]:
    """The #SBATCH lines, one option per line, values from typed fields only."""
    options = [
        f"--job-name={req.job_name}",
        f"--comment={req.comment}",
        f"--account={req.account}",
        f"--partition={req.partition}",
        "--nodes=1",
        "--ntasks=1",
        f"--cpus-per-task={req.cpus}",
        f"--mem={req.memory_gb}G",
        f"--time={slurm_time(req.walltime_minutes)}",
        f"--chdir={req.home}",
        f"--output={req.output_path}",
        "--export=NONE",
        "--signal=B:TERM@60",
    ]
    if req.gpus:
        options.append(f"--gres=gpu:{req.gpu_type}:{req.gpus}")
    if req.qos:
        options.append(f"--qos={req.qos}")
    if req.reservation:
        options.append(f"--reservation={req.reservation}")
    return [f"#SBATCH {option}" for option in options]


def session_environment(req: JobRequest) -> dict[str, str]:
    """The FACTORYHUB_* variables that tell tools inside the session who they are."""
    return {
        "FACTORYHUB_USER": req.username,
        "FACTORYHUB_ACCOUNT": req.account,
        "FACTORYHUB_PARTITION": req.partition,
        "FACTORYHUB_GPUS": str(req.gpus),
        "FACTORYHUB_GPU_TYPE": req.gpu_type or "",
        "FACTORYHUB_QOS": req.qos or "",
        "FACTORYHUB_RESERVATION": req.reservation or "",
        "FACTORYHUB_WALLTIME_MINUTES": str(req.walltime_minutes),
        "FACTORYHUB_PRICE": f"{req.price:g}",
        **({"FACTORYHUB_NOTEBOOK_OUTPUT": _path("output_dir", req.output_dir)} if req.output_dir else {}),
    }


# Runs inside the job with the session's own Python: picks a free port, reports it to
# the hub (retrying while the hub restarts, unlike batchspawner-singleuser, whose job
# dies if the hub is briefly away), then becomes the single-user server.
LAUNCHER = r"""
import json, os, shutil, socket, sys, time, urllib.error, urllib.request

if shutil.which(sys.argv[1]) is None:
    sys.exit(f"FactoryHub: {sys.argv[1]} is not installed in this session's environment (PATH={os.environ['PATH']})")
with socket.socket() as s:
    s.bind(("", 0))
    port = s.getsockname()[1]
request = urllib.request.Request(
    os.environ["JUPYTERHUB_API_URL"].rstrip("/") + "/batchspawner", method="POST",
    data=json.dumps({"port": port}).encode(),
    headers={"Authorization": "token " + os.environ["JUPYTERHUB_API_TOKEN"], "Content-Type": "application/json"})
deadline = time.monotonic() + float(os.environ.get("FACTORYHUB_PORT_REPORT_SECONDS", "900"))
while True:
    try:
        urllib.request.urlopen(request, timeout=10).close()
        break
    except urllib.error.HTTPError as err:
        if err.code < 500:
            sys.exit(f"FactoryHub: the hub refused the port report: {err.code} {err.read()[:200]!r}")
        reason = f"HTTP {err.code}"
    except (urllib.error.URLError, OSError) as err:
        reason = str(err)
    if time.monotonic() > deadline:
        sys.exit(f"FactoryHub: could not report the port to the hub: {reason}")
    print(f"FactoryHub: hub not reachable ({reason}); retrying", file=sys.stderr, flush=True)
    time.sleep(5)
url = os.environ.get("JUPYTERHUB_SERVICE_URL")
if url:
    scheme, rest = url.split("://", 1)
    host, _, path = rest.partition("/")
    os.environ["JUPYTERHUB_SERVICE_URL"] = f"{scheme}://{host.rsplit(':', 1)[0]}:{port}/{path}"
os.execvp(sys.argv[1], sys.argv[1:])
"""


def server_command(req: JobRequest) -> tuple[str, ...]:
    """The server's argv: the spawner's command, plus the workshop's idle timeout where set.

    jupyter-server stops itself once it has had no kernel, no terminal and no activity for
    ``shutdown_no_activity_timeout`` (its activity includes every ``*_last_activity`` setting, so
    FactoryHub's busy-GPU mark counts); idle kernels are culled after the same time, also with
    a notebook tab open (``cull_connected``), busy ones never (``cull_busy`` stays off)."""
    if req.idle_timeout_minutes is None:
        return req.command
    seconds = req.idle_timeout_minutes * 60
    return (*req.command, f"--ServerApp.shutdown_no_activity_timeout={seconds}",
            f"--MappingKernelManager.cull_idle_timeout={seconds}", "--MappingKernelManager.cull_interval=60",
            "--MappingKernelManager.cull_connected=True")


def _in_environment(req: JobRequest, gpus: bool = True) -> str:
    """The prefix that runs a command in the session's software environment, as the server runs."""
    env = req.environment
    if isinstance(env, PythonEnv):
        return ""  # its bin/ leads PATH
    binds = "".join(f" --bind {shlex.quote(b)}" for b in env.binds)
    return f"apptainer exec{' --nv' if gpus else ''} --cleanenv{binds} {shlex.quote(env.image)} "


def launch_line(req: JobRequest) -> str:
    """Start the launcher with the session's Python (its script follows on stdin)."""
    return f"exec {_in_environment(req)}python3 - {shlex.join(server_command(req))} <<'FACTORYHUB_LAUNCHER'"


def course_lines(req: JobRequest) -> list[str]:
    """Pull the course material with nbgitpuller (it merges: the participant's edits are kept).

    A failed or slow pull is reported in the job's output and the session starts without it."""
    course = req.course
    if course is None:
        return []
    target = str(PurePosixPath(req.home) / course.directory)
    pull = shlex.join(["gitpuller", course.repo, course.branch, target])
    return [
        f"echo {shlex.quote(f'FactoryHub: pulling the course material {course.repo} ({course.branch}) into {target}')}",
        # git must fail, not wait for a password nobody types (--cleanenv passes APPTAINERENV_* only)
        f"{'' if isinstance(req.environment, PythonEnv) else 'APPTAINERENV_'}GIT_TERMINAL_PROMPT=0 "
        f"timeout {COURSE_PULL_SECONDS} {_in_environment(req, gpus=False)}{pull} "
        '|| echo "FactoryHub: could not pull the course material (exit status $?, 124: it took over'
        f' {COURSE_PULL_SECONDS} s); the session starts without it" >&2',
    ]


def render(req: JobRequest) -> str:
    """The complete batch script for ``req``."""
    exports = {**req.env, **session_environment(req)}
    lines = ["#!/bin/bash", *header(req), "", "set -euo pipefail",
             "# What the session knows about itself (see docs/sessions.md)."]
    lines += [f"export {key}={shlex.quote(value)}" for key, value in sorted(exports.items())]
    lines += [
        'export FACTORYHUB_JOB_ID="$SLURM_JOB_ID"',
        f'export FACTORYHUB_WALLTIME_END="$(( $(date +%s) + {req.walltime_minutes * 60} ))"',
        f"export HOME={shlex.quote(req.home)} USER={shlex.quote(req.username)}",
    ]
    if isinstance(req.environment, PythonEnv):
        lines.append(f'export PATH={shlex.quote(req.environment.prefix + "/bin")}:"$PATH"')
    else:  # --cleanenv: pass the session's variables into the container explicitly
        lines.append('for v in $(compgen -e | grep -E "^(JUPYTERHUB|FACTORYHUB|SLURM|CUDA)_"); do '
                     'export "APPTAINERENV_$v=${!v}"; done')
    if req.modules:  # batch shells may not have sourced the site's module setup (--export=NONE)
        lines += ["set +u  # the site's module setup is not written for nounset",
                  "type module >/dev/null 2>&1 || . /etc/profile >/dev/null 2>&1 || true",
                  "module load " + " ".join(shlex.quote(m) for m in req.modules), "set -u"]
    lines += course_lines(req)
    lines += ['echo "FactoryHub session of $USER: job $SLURM_JOB_ID on $(hostname) until '
              '$(date -d @$FACTORYHUB_WALLTIME_END)"', launch_line(req), LAUNCHER.strip(),
              "FACTORYHUB_LAUNCHER", ""]
    return "\n".join(lines)
