"""What happens to a pool account's home at the end of its workshop, as the site's policy says.

``keep``: nothing; the account stays lent (expired) until an admin frees it. ``clean`` and
``archive``: a short Slurm job *as the pool account itself* (the hub's sudo rule already lets
it submit as members of the sessions' group, so the service needs no new right over homes)
empties the home — after packing it into the site's archive folder, for ``archive`` — and
the account is free again once that job has completed. A job that fails leaves the account
lent and the workshop's problem says why.
"""
from __future__ import annotations

import asyncio
import re
import secrets
import shlex

from factoryhub.spawners.slurm.client import SlurmClient, SlurmError

_NAME = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_TOKEN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_PATH = re.compile(r"/[A-Za-z0-9_./-]{0,255}")
TERMINAL = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL",
            "DEADLINE"}
JOB_NAME = "factoryhub-pool-clean"


def clean_script(workshop_id: str, account: str, slurm_account: str, partition: str, archive_dir: str | None,
                 reservation: str | None = None) -> str:
    """The batch script that (archives and) empties ``account``'s home; every value checked, then quoted."""
    for value in (workshop_id, slurm_account, partition, *([reservation] if reservation else [])):
        if not _TOKEN.fullmatch(value):
            raise ValueError(f"{value[:40]!r} is not a safe Slurm value")
    if not _NAME.fullmatch(account):
        raise ValueError(f"{account[:40]!r} is not a Unix account name")
    if archive_dir is not None and (not _PATH.fullmatch(archive_dir) or "/../" in f"{archive_dir}/"):
        raise ValueError(f"{archive_dir[:60]!r} is not a safe absolute path")
    header = ["#!/bin/bash", f"#SBATCH --job-name={JOB_NAME}", f"#SBATCH --account={slurm_account}",
              f"#SBATCH --partition={partition}", "#SBATCH --ntasks=1", "#SBATCH --cpus-per-task=1",
              "#SBATCH --mem=256M", "#SBATCH --time=00:15:00", "#SBATCH --output=/dev/null",
              "#SBATCH --chdir=/tmp"]
    if reservation:
        header.append(f"#SBATCH --reservation={reservation}")
    body = ["set -eu", 'cd "$HOME"', "umask 077"]
    if archive_dir is not None:
        # an unguessable name: the next participant lent this account must not find it
        name = f"{workshop_id}-{account}-{secrets.token_hex(8)}.tar.gz"
        body.append(f"tar --create --gzip --file {shlex.quote(f'{archive_dir}/{name}')} --directory \"$HOME\" .")
    body.append('find "$HOME" -mindepth 1 -maxdepth 1 -exec rm -rf -- {} +')
    return "\n".join([*header, "", *body, ""])


async def run_clean_jobs(client: SlurmClient, scripts: dict[str, str], timeout: float = 600.0,
                         poll: float = 2.0) -> dict[str, str]:
    """Submit each account's script as that account and wait; account -> final state ('' : not submitted)."""
    jobs: dict[str, str] = {}
    states: dict[str, str] = {}
    for account, script in scripts.items():
        try:
            jobs[account] = await client.submit(script, account)
        except SlurmError as err:
            states[account] = f"not submitted: {err}"
    deadline = asyncio.get_running_loop().time() + timeout
    while jobs and asyncio.get_running_loop().time() < deadline:
        out = await client.run([client._exe("sacct"), "-X", "-n", "-P", "-j", ",".join(jobs.values()),
                                "--format=JobID,State"])
        by_id = dict(line.split("|", 1) for line in out.splitlines() if "|" in line)
        for account, job_id in list(jobs.items()):
            state = by_id.get(job_id, "").split()[0] if by_id.get(job_id) else ""
            if state in TERMINAL:
                states[account] = state
                del jobs[account]
        if jobs:
            await asyncio.sleep(poll)
    for account in jobs:
        states[account] = "TIMEOUT (still queued or running)"
    return states
