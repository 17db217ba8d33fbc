"""Async Slurm client: every command an argv list, every failure a typed error.

No shell is ever involved; values a user influenced reach Slurm only as single argv
elements or inside the job script on stdin. Errors carry the command, exit code and
stderr. A controller that cannot be reached is told apart from a failing command,
so callers never read "scheduler down" as "job gone".
"""
from __future__ import annotations

import asyncio
import logging
import os
import stat
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from factoryhub.heap import gc_paused
from factoryhub.system_accounts import AccountPolicy

from .. import metrics

log = logging.getLogger(__name__)

# Texts with which Slurm commands say the controller or database did not answer.
UNREACHABLE_MARKERS = (
    "Unable to contact slurm controller",
    "Socket timed out",
    "Connection refused",
    "slurm_load_jobs error: Slurm backup controller in standby mode",
    "Zero Bytes were transmitted or received",
)


class SlurmError(RuntimeError):
    """A Slurm command failed."""

    def __init__(self, argv: Sequence[str], returncode: int | None, stderr: str):
        self.argv = list(argv)
        self.returncode = returncode
        self.stderr = stderr.strip()
        super().__init__(f"{' '.join(self.argv[:3])}… exited {returncode}: {self.stderr or '(no message)'}")


class SlurmUnreachable(SlurmError):
    """The controller (or accounting database) did not answer: nothing is known."""


@dataclass
class SlurmClient:
    """Runs Slurm's commands; one instance per hub."""

    bin_dir: Path | None = None
    slurm_conf: Path | None = None
    timeout: float = 10.0  # squeue answers in milliseconds; a dead controller makes it hang ~18 s
    # -n: a command the sudoers rule does not allow fails at once instead of asking for a password
    submit_prefix: tuple[str, ...] = ("sudo", "-n", "--preserve-env=SLURM_CONF", "-u", "{username}")
    calls: dict[str, int] = field(default_factory=dict)  # per command, for benchmarks and tests
    account_policy: AccountPolicy = field(default_factory=AccountPolicy)  # who commands may run as

    def _exe(self, name: str) -> str:
        return str(self.bin_dir / name) if self.bin_dir else name

    def _env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "CONFIGPROXY_"))}
        if self.slurm_conf:
            env["SLURM_CONF"] = str(self.slurm_conf)
        return env

    def as_user(self, username: str) -> list[str]:
        """The prefix that runs a command as ``username``; never as a system account."""
        refused = self.account_policy.refusal(username)
        if refused:
            raise SlurmError([*self.submit_prefix[:1], username], None, f"refusing to act as {username}: {refused}")
        return [part.replace("{username}", username) for part in self.submit_prefix]

    async def run(self, argv: Sequence[str], *, stdin: str | None = None, timeout: float | None = None) -> str:
        """Run ``argv``; return stdout, or raise SlurmError / SlurmUnreachable (never anything else).
        Each run is timed and each failure counted by command (spawners/metrics.py)."""
        argv = list(argv)
        name = command_name(argv)
        self.calls[name] = self.calls.get(name, 0) + 1
        started = time.monotonic()
        try:
            out = await self._run(argv, stdin, timeout or self.timeout)
        except SlurmError as err:
            metrics.command_done(name, time.monotonic() - started,
                                 "unreachable" if isinstance(err, SlurmUnreachable) else "error")
            raise
        metrics.command_done(name, time.monotonic() - started)
        return out

    async def _run(self, argv: list[str], stdin: str | None, limit: float) -> str:
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=self._env())
        except (OSError, ValueError) as err:  # ValueError: a NUL byte in an argument
            raise SlurmError(argv, None, f"cannot run {argv[0]}: {getattr(err, 'strerror', None) or err}") from None
        try:
            out, err = await asyncio.wait_for(proc.communicate(stdin.encode() if stdin is not None else None), limit)
        except TimeoutError:
            await _end(proc)
            raise SlurmUnreachable(argv, None, f"no answer within {limit:.0f} s") from None
        except BaseException:  # cancelled: leave no command running behind the caller
            _kill(proc)
            raise
        stderr = err.decode(errors="replace")
        if proc.returncode != 0:
            if proc.returncode < 0:
                stderr = f"{stderr.strip()} (killed by signal {-proc.returncode})".strip()
            kind = SlurmUnreachable if any(m in stderr for m in UNREACHABLE_MARKERS) else SlurmError
            raise kind(argv, proc.returncode, stderr)
        return out.decode(errors="replace")

    async def run_json(self, argv: Sequence[str], *, timeout: float | None = None) -> dict:
        """Run a ``--json`` query. Slurm reports a dead controller *inside* the JSON with exit
        code 0 and an empty list: that must read as "unknown", never as "no jobs"."""
        out = await self.run(argv, timeout=timeout)
        try:
            with gc_paused():  # sacct --json: ~2 kB per job; the collector would walk the heap again and
                data = orjson.loads(out)  # again while a 100,000-job document is built (7x slower)
        except orjson.JSONDecodeError as err:
            raise SlurmError(argv, 0, f"output is not JSON: {err}") from None
        if not isinstance(data, dict):
            raise SlurmError(argv, 0, f"output is a JSON {type(data).__name__}, not an object")
        errors = data.get("errors")
        if errors:
            metrics.SLURM_COMMAND_ERRORS.labels(command_name(list(argv)), "unreachable").inc()
            raise SlurmUnreachable(argv, 0, _describe_errors(errors))
        return data

    # --- the commands FactoryHub uses -------------------------------------------------

    async def submit(self, script: str, username: str) -> str:
        """sbatch as ``username``; return the job id."""
        out = await self.run([*self.as_user(username), self._exe("sbatch"), "--parsable"], stdin=script)
        job_id = out.strip().split(";")[0]
        if not job_id.isdigit():
            raise SlurmError(["sbatch"], 0, f"unexpected sbatch output {out.strip()[:80]!r}")
        return job_id

    async def cancel(self, job_id: str, username: str) -> None:
        await self.run([*self.as_user(username), self._exe("scancel"), job_id])

    async def cancel_as_hub(self, job_id: str) -> None:
        """scancel with the hub's own rights (the reconciler's orphans belong to other users)."""
        await self.run([self._exe("scancel"), job_id])

    async def queue(self) -> dict:
        """All jobs the controller knows (squeue --json)."""
        return await self.run_json([self._exe("squeue"), "--all", "--json"])

    async def nodes(self) -> dict:
        return await self.run_json([self._exe("sinfo"), "--json"])

    async def associations(self, user: str | None = None) -> list[tuple[str, str, str]]:
        """(user, account, qos list) for every user association, or only ``user``'s."""
        only = [f"user={user}"] if user else []
        out = await self.run([self._exe("sacctmgr"), "--noheader", "--parsable2", "show", "associations", *only,
                              "format=User,Account,QOS"])
        rows = [line.split("|") for line in out.splitlines() if line.strip()]
        return [(u, a, q) for u, a, q in rows if u]

    async def reservations(self) -> str:
        return await self.run([self._exe("scontrol"), "--oneliner", "show", "reservation"])

    async def partitions(self) -> str:
        return await self.run([self._exe("scontrol"), "--oneliner", "show", "partition"])

    async def job_output_tail(self, path: Path, username: str, owner_uid: int, lines: int = 20) -> str:
        """The last lines of a job's output file, read with no more rights than the job's user.

        The file lies in the user's home, which the user controls (a link there may point at
        /etc/shadow or at another user's file). Through the sudo prefix the file is read *as the
        user* (``tail``, allowed by the shipped sudoers rule): the hub, unprivileged, cannot read
        users' homes itself. Without a prefix (a hub that is that user, or tests) it is opened
        without following links and shown only if it is a regular file owned by the user."""
        if not self.submit_prefix:
            return await asyncio.to_thread(read_tail_owned_by, path, owner_uid, lines)
        try:
            return (await self.run([*self.as_user(username), "tail", "-n", str(lines), "--", str(path)],
                                   timeout=10)).rstrip("\n")
        except SlurmError as err:
            log.info("No output to show from %s: %s", path, err.stderr)
            return ""


def read_tail_owned_by(path: Path, owner_uid: int, lines: int = 20, max_bytes: int = 64 * 1024) -> str:
    """The last ``lines`` lines of ``path`` if it is a regular file of ``owner_uid`` (else "")."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return ""
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != owner_uid:
            log.warning("Not showing %s: not a regular file of uid %s", path, owner_uid)
            return ""
        data = os.pread(fd, max_bytes, max(0, info.st_size - max_bytes))
    except OSError:
        return ""
    finally:
        os.close(fd)
    return "\n".join(data.decode(errors="replace").splitlines()[-lines:])


def command_name(argv: list[str]) -> str:
    """The Slurm command an argv runs (after sudo and its options), for counting and metrics."""
    return next((Path(a).name for a in argv if Path(a).name in KNOWN_COMMANDS), Path(argv[0]).name if argv else "")


def _describe_errors(errors: object) -> str:
    """Slurm's ``errors`` list as one line, whatever shape its entries have."""
    if not isinstance(errors, list):
        return str(errors)[:500]
    parts = []
    for e in errors:
        if isinstance(e, dict):
            parts.append(f"{e.get('source', '?')}: {e.get('description') or e.get('error') or e.get('error_number')}")
        else:
            parts.append(str(e))
    return "; ".join(parts)[:2000]


def _kill(proc: asyncio.subprocess.Process) -> None:
    try:
        proc.kill()
    except ProcessLookupError:  # it ended just as the timeout fired
        pass


async def _end(proc: asyncio.subprocess.Process) -> None:
    """Kill a command that ran out of time and reap it (it may have ended on its own meanwhile)."""
    _kill(proc)
    await proc.wait()


KNOWN_COMMANDS = {"sbatch", "squeue", "scancel", "sinfo", "sacct", "sacctmgr", "scontrol", "sdiag", "sshare"}
