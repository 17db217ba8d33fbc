"""The job script: a fixed skeleton, a header from typed fields, nothing else."""
from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factoryhub.spawners.slurm.jobscript import (
    ApptainerEnv,
    JobRequest,
    PythonEnv,
    UnsafeJobField,
    render,
    slurm_time,
)


def request(**changes) -> JobRequest:
    fields = dict(username="alice", hub_id="factoryhub", server_name="", account="proj-climate",
                  partition="gpu", cpus=2, memory_gb=8, walltime_minutes=90, home="/home/alice",
                  environment=PythonEnv("/opt/factoryhub/user-env"), gpus=2, gpu_type="h100",
                  env={"JUPYTERHUB_API_TOKEN": "secret'$(id)`x`"})
    fields.update(changes)
    return JobRequest(**fields)


def sbatch_lines(script: str) -> list[str]:
    return [line for line in script.splitlines() if line.startswith("#SBATCH")]


def test_header_carries_account_partition_gres_time_and_the_hub_tag():
    lines = sbatch_lines(render(request(qos="normal", reservation="workshop-1")))
    for expected in ("--account=proj-climate", "--partition=gpu", "--gres=gpu:h100:2", "--cpus-per-task=2",
                     "--mem=8G", "--time=0-01:30:00", "--qos=normal", "--reservation=workshop-1",
                     "--comment=factoryhub:factoryhub:alice:", "--job-name=fh-alice", "--export=NONE",
                     "--output=/home/alice/.factoryhub-session-%j.log"):
        assert f"#SBATCH {expected}" in lines


def test_cpu_profile_has_no_gres_and_optional_fields_are_left_out():
    script = render(request(gpus=0, gpu_type=None))
    assert "--gres" not in script and "--qos" not in script and "--reservation" not in script


def test_environment_values_are_quoted_and_the_script_is_valid_bash():
    script = render(request())
    assert "export JUPYTERHUB_API_TOKEN='secret'\"'\"'$(id)`x`'" in script
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    assert "export FACTORYHUB_ACCOUNT=proj-climate" in script
    assert "exec python3 - jupyterhub-singleuser <<'FACTORYHUB_LAUNCHER'" in script
    assert script.rstrip().endswith("FACTORYHUB_LAUNCHER")


def test_apptainer_profile_runs_the_server_in_the_image_with_gpus():
    script = render(request(environment=ApptainerEnv("/images/pytorch.sif", binds=("/data",))))
    assert ("exec apptainer exec --nv --cleanenv --bind /data /images/pytorch.sif python3 - jupyterhub-singleuser"
            in script)
    assert "APPTAINERENV_" in script
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


@pytest.mark.parametrize("field, value", [
    ("account", "proj\n#SBATCH --uid=0"), ("account", "proj\n"), ("account", "a;b"), ("account", "$(id)"),
    ("partition", "gpu cpu"),
    ("username", "`id`"), ("qos", "x\x00"), ("reservation", "#SBATCH"), ("home", "/home/../etc"),
    ("home", "relative"), ("cpus", 0), ("cpus", -1), ("walltime_minutes", 10**9), ("gpus", True),
    ("memory_gb", "8"), ("env", {"BAD NAME": "x"}),
])
def test_unsafe_fields_are_refused(field, value):
    with pytest.raises(UnsafeJobField):
        request(**{field: value})


@settings(max_examples=2000, deadline=None)
@given(st.text(max_size=40))
def test_no_text_can_add_a_line_to_the_header(value):
    try:
        script = render(request(account=value))
    except UnsafeJobField:
        return
    assert len(sbatch_lines(script)) == len(sbatch_lines(render(request())))
    assert f"#SBATCH --account={value}" in script.splitlines()


@pytest.mark.parametrize("minutes, expected", [(1, "0-00:01:00"), (90, "0-01:30:00"), (24 * 60 + 5, "1-00:05:00")])
def test_slurm_time(minutes, expected):
    assert slurm_time(minutes) == expected


def test_profile_modules_are_loaded_before_the_launcher_and_checked():
    from factoryhub.spawners.slurm.jobscript import UnsafeJobField

    base = dict(username="alice", hub_id="hub", server_name="", account="proj", partition="gpu", cpus=1,
                memory_gb=1, walltime_minutes=60, home="/home/alice",
                environment=ApptainerEnv(image="/images/lab.sif", binds=("/srv/catalogue:/data:ro", "/project")))
    script = render(JobRequest(**base, modules=("cuda/12.9", "nccl/2.27")))
    lines = script.splitlines()
    load = lines.index("module load cuda/12.9 nccl/2.27")
    assert lines[load - 2] == "set +u  # the site's module setup is not written for nounset"
    assert lines[load + 1] == "set -u"
    assert load < next(i for i, line in enumerate(lines) if line.startswith("exec apptainer"))
    assert "--bind /srv/catalogue:/data:ro --bind /project" in script
    assert "module load" not in render(JobRequest(**base))
    for bad in ("cuda; id", "$(id)", "../x y", ""):
        with pytest.raises(UnsafeJobField, match="modules"):
            JobRequest(**base, modules=(bad,))
    for bad in ("relative:/x", "/a:/b:rwx", "/a b", "/a/../etc"):
        with pytest.raises(UnsafeJobField, match="binds"):
            JobRequest(**{**base, "environment": ApptainerEnv(image="/images/lab.sif", binds=(bad,))})
