"""The Slurm client against stand-in commands: argv exactness and failure kinds."""
from __future__ import annotations

import stat
from pathlib import Path

import pytest

from factoryhub.spawners.slurm.client import SlurmClient, SlurmError, SlurmUnreachable

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slurm"


def fake(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def client(tmp_path):
    return SlurmClient(bin_dir=tmp_path, submit_prefix=(), timeout=2)


async def test_submit_passes_the_script_on_stdin_and_returns_the_job_id(client, tmp_path):
    fake(tmp_path, "sbatch", f'printf "%s\\n" "$@" > {tmp_path}/argv; cat > {tmp_path}/script; echo "123;cluster"')
    assert await client.submit("#!/bin/bash\necho $(id)\n", "alice") == "123"
    assert (tmp_path / "argv").read_text().split() == ["--parsable"]
    assert (tmp_path / "script").read_text() == "#!/bin/bash\necho $(id)\n"


async def test_submit_as_another_user_uses_the_prefix_as_separate_arguments(tmp_path):
    client = SlurmClient(bin_dir=tmp_path, submit_prefix=(str(tmp_path / "as-user"), "{username}"))
    fake(tmp_path, "as-user", f'printf "%s\\n" "$@" > {tmp_path}/argv; shift; exec "$@"')
    fake(tmp_path, "scancel", "exit 0")
    await client.cancel("42", "jdoe@uni.example")
    assert (tmp_path / "argv").read_text().splitlines() == ["jdoe@uni.example", str(tmp_path / "scancel"), "42"]
    (tmp_path / "argv").unlink()
    with pytest.raises(SlurmError, match="not a username sessions may run as"):  # never reaches a command
        await client.cancel("42", "alice; rm -rf /")
    assert not (tmp_path / "argv").exists()


async def test_a_refusal_carries_command_code_and_stderr(client, tmp_path):
    fake(tmp_path, "sbatch", 'echo "sbatch: error: Batch job submission failed: Invalid account" >&2; exit 1')
    with pytest.raises(SlurmError) as info:
        await client.submit("#!/bin/bash\n", "bob")
    assert not isinstance(info.value, SlurmUnreachable)
    assert info.value.returncode == 1 and "Invalid account" in info.value.stderr


async def test_a_controller_that_does_not_answer_is_unreachable_not_gone(client, tmp_path):
    fake(tmp_path, "squeue",
         'echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1')
    with pytest.raises(SlurmUnreachable):
        await client.queue()
    fake(tmp_path, "squeue", "exec sleep 30")
    with pytest.raises(SlurmUnreachable, match="no answer within 2 s"):
        await client.queue()


async def test_json_errors_with_exit_code_zero_are_unreachable(client, tmp_path):
    # Recorded from squeue --json with slurmctld stopped: exit 0, "errors", no jobs.
    fake(tmp_path, "squeue", f"cat {FIXTURES / 'squeue-controller-down.json'}")
    with pytest.raises(SlurmUnreachable, match="slurm_load_jobs: Failed while looking for jobs"):
        await client.queue()


async def test_queue_parses_recorded_output(client, tmp_path):
    fake(tmp_path, "squeue", f"cat {FIXTURES / 'squeue-running-and-pending.json'}")
    data = await client.queue()
    assert {j["job_id"] for j in data["jobs"]} >= {5, 7}
    assert client.calls == {"squeue": 1}


async def test_a_missing_command_is_a_clear_error(tmp_path):
    client = SlurmClient(bin_dir=tmp_path / "nowhere")
    with pytest.raises(SlurmError, match="cannot run"):
        await client.queue()
