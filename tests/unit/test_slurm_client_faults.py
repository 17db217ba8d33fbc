"""Fault injection for SlurmClient: every way a command can fail is a SlurmError (or its
SlurmUnreachable kind) carrying argv, exit code and stderr, never another exception."""
from __future__ import annotations

import asyncio
import os
import stat
from pathlib import Path

import pytest

from factoryhub.spawners.slurm import client as client_module
from factoryhub.spawners.slurm.client import SlurmClient, SlurmError, SlurmUnreachable, read_tail_owned_by


def fake(bin_dir: Path, name: str, body: str) -> Path:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.fixture
def client(tmp_path):
    return SlurmClient(bin_dir=tmp_path, submit_prefix=(), timeout=1)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # the process may be reaped between the signal and the read
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


async def until(condition, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)


async def test_a_hanging_command_is_unreachable_and_killed(client, tmp_path):
    fake(tmp_path, "squeue", f"echo $$ > {tmp_path}/pid; exec sleep 60")
    with pytest.raises(SlurmUnreachable) as info:
        await client.queue()
    assert info.value.argv[0] == str(tmp_path / "squeue") and info.value.returncode is None
    assert "no answer within 1 s" in info.value.stderr
    assert not pid_alive(int((tmp_path / "pid").read_text()))


async def test_a_command_that_ends_exactly_as_its_timeout_fires(client, tmp_path, monkeypatch):
    """The process has exited (and been reaped) when the timeout is delivered: kill() would raise
    ProcessLookupError; the caller must still get SlurmUnreachable."""
    fake(tmp_path, "squeue", 'echo "{}"')

    async def finish_then_time_out(awaitable, timeout):
        await awaitable
        raise TimeoutError

    monkeypatch.setattr(client_module.asyncio, "wait_for", finish_then_time_out)
    with pytest.raises(SlurmUnreachable) as info:
        await client.queue()
    assert info.value.argv == [str(tmp_path / "squeue"), "--all", "--json"]


async def test_commands_racing_their_timeout_only_succeed_or_are_unreachable(tmp_path):
    client = SlurmClient(bin_dir=tmp_path, submit_prefix=(), timeout=0.15)
    fake(tmp_path, "scontrol", "sleep 0.15; echo ok")
    outcomes = set()
    for _ in range(15):
        try:
            outcomes.add(await client.reservations())
        except SlurmUnreachable:
            outcomes.add("unreachable")
    assert outcomes <= {"ok\n", "unreachable"}


async def test_a_command_killed_by_a_signal_is_a_slurm_error_with_the_signal(client, tmp_path):
    fake(tmp_path, "sbatch", 'echo "about to die" >&2; kill -KILL $$')
    with pytest.raises(SlurmError) as info:
        await client.submit("#!/bin/bash\n", "alice")
    assert info.value.returncode == -9 and "about to die" in info.value.stderr
    assert "killed by signal 9" in info.value.stderr


@pytest.mark.parametrize("errors, expected", [
    ('[{"error": "Unable to contact slurm controller", "error_number": 1007, "source": "slurm_load_jobs"}]',
     "slurm_load_jobs: Unable to contact slurm controller"),
    ('["just a string"]', "just a string"),
    ('{"unexpected": "shape"}', "unexpected"),
    ('[{"error_number": 1007}]', "?: 1007"),
])
async def test_errors_inside_json_are_unreachable_whatever_their_shape(client, tmp_path, errors, expected):
    fake(tmp_path, "squeue", f"cat <<'JSON'\n{{\"errors\": {errors}, \"jobs\": []}}\nJSON")
    with pytest.raises(SlurmUnreachable) as info:
        await client.queue()
    assert info.value.returncode == 0 and expected in info.value.stderr


@pytest.mark.parametrize("output, message", [
    ("not json at all", "output is not JSON"),
    ("[1, 2, 3]", "output is a JSON list, not an object"),
    ("", "output is not JSON"),
])
async def test_output_that_is_no_json_object_is_a_slurm_error(client, tmp_path, output, message):
    fake(tmp_path, "sinfo", f"printf '%s' '{output}'")
    with pytest.raises(SlurmError, match=message) as info:
        await client.nodes()
    assert not isinstance(info.value, SlurmUnreachable)


async def test_undecodable_output_is_read_with_replacement(client, tmp_path):
    fake(tmp_path, "scontrol", r"printf 'ReservationName=r\xff\xfe\n'; printf '\xff' >&2")
    assert "ReservationName=r" in await client.reservations()


async def test_a_nul_byte_in_an_argument_is_a_slurm_error(client, tmp_path):
    fake(tmp_path, "sacctmgr", "exit 0")
    with pytest.raises(SlurmError, match="cannot run"):
        await client.associations("alice\0root")


async def test_a_command_that_cannot_be_executed_is_a_slurm_error(client, tmp_path):
    (tmp_path / "squeue").write_text("#!/bin/bash\n")  # not executable
    with pytest.raises(SlurmError, match="cannot run") as info:
        await client.queue()
    assert info.value.returncode is None


async def test_a_cancelled_caller_leaves_no_command_running(client, tmp_path):
    client.timeout = 60
    fake(tmp_path, "squeue", f"echo $$ > {tmp_path}/pid; exec sleep 60")
    task = asyncio.ensure_future(client.queue())
    await until(lambda: (tmp_path / "pid").exists() and (tmp_path / "pid").read_text().strip())
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = int((tmp_path / "pid").read_text())
    await until(lambda: not pid_alive(pid))


async def test_commands_are_never_run_as_a_system_account(tmp_path):
    client = SlurmClient(bin_dir=tmp_path, submit_prefix=(str(tmp_path / "as-user"), "{username}"))
    fake(tmp_path, "as-user", f"touch {tmp_path}/ran")
    for name in ("root", "daemon", "nobody"):
        with pytest.raises(SlurmError, match=f"refusing to act as {name}"):
            await client.submit("#!/bin/bash\n", name)
    assert not (tmp_path / "ran").exists()


# --- reading a job's output with more rights than its user ---------------------------------

def test_the_tail_of_the_users_own_file_is_read(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("".join(f"line {i}\n" for i in range(100)))
    assert read_tail_owned_by(log, os.getuid(), lines=3) == "line 97\nline 98\nline 99"


def test_a_symlink_is_never_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("root:$6$hash:19000:0:99999:7:::\n")
    (tmp_path / "job.log").symlink_to(secret)
    assert read_tail_owned_by(tmp_path / "job.log", os.getuid()) == ""
    (tmp_path / "shadow.log").symlink_to("/etc/shadow")
    assert read_tail_owned_by(tmp_path / "shadow.log", os.getuid()) == ""


def test_a_file_of_another_owner_is_not_shown(tmp_path):
    log = tmp_path / "job.log"
    log.write_text("someone else's secret\n")
    assert read_tail_owned_by(log, os.getuid() + 4242) == ""
    assert read_tail_owned_by(Path("/etc/passwd"), os.getuid() + 4242) == ""


def test_a_fifo_or_a_folder_does_not_block_and_shows_nothing(tmp_path):
    os.mkfifo(tmp_path / "job.log")
    assert read_tail_owned_by(tmp_path / "job.log", os.getuid()) == ""
    assert read_tail_owned_by(tmp_path, os.getuid()) == ""
    assert read_tail_owned_by(tmp_path / "absent.log", os.getuid()) == ""


def test_only_the_end_of_a_huge_file_is_read(tmp_path):
    log = tmp_path / "job.log"
    with log.open("w") as out:
        out.write("x" * 10_000_000 + "\nthe end\n")
    assert read_tail_owned_by(log, os.getuid(), lines=1) == "the end"


async def test_through_sudo_the_tail_is_read_as_the_jobs_user(tmp_path):
    client = SlurmClient(bin_dir=tmp_path, submit_prefix=(str(tmp_path / "as-user"), "{username}"))
    fake(tmp_path, "as-user", f'printf "%s\\n" "$@" > {tmp_path}/argv; echo "line one"; echo "line two"')
    assert await client.job_output_tail(Path("/home/alice/.factoryhub-session-7.log"), "alice", 1001) == \
        "line one\nline two"
    assert (tmp_path / "argv").read_text().splitlines() == [
        "alice", "tail", "-n", "20", "--", "/home/alice/.factoryhub-session-7.log"]
    fake(tmp_path, "as-user", 'echo "tail: cannot open: Permission denied" >&2; exit 1')
    assert await client.job_output_tail(Path("/home/alice/.factoryhub-session-7.log"), "alice", 1001) == ""
