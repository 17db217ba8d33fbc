"""The job script: a fixed skeleton, a header from typed fields, nothing else."""
from __future__ import annotations

import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factoryhub.spawners.slurm.jobscript import (
    ApptainerEnv,
    Course,
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


# --- a workshop's course material and idle timeout -------------------------------------------

COURSE = Course("https://git.example.eu/course.git", "main", "gpu-intro")


def test_the_course_is_pulled_in_the_sessions_environment_before_the_server_starts():
    lines = render(request(course=COURSE)).splitlines()
    pull = next(i for i, line in enumerate(lines) if "gitpuller" in line)
    assert lines[pull] == ("GIT_TERMINAL_PROMPT=0 timeout 90 gitpuller https://git.example.eu/course.git main "
                           "/home/alice/gpu-intro || echo \"FactoryHub: could not pull the course material (exit "
                           "status $?, 124: it took over 90 s); the session starts without it\" >&2")
    assert pull < next(i for i, line in enumerate(lines) if line.startswith("exec python3"))
    assert pull > next(i for i, line in enumerate(lines) if line.startswith("export PATH="))  # the env's gitpuller
    apptainer = render(request(course=COURSE, environment=ApptainerEnv("/images/lab.sif", binds=("/data",))))
    assert ("APPTAINERENV_GIT_TERMINAL_PROMPT=0 timeout 90 apptainer exec --cleanenv --bind /data /images/lab.sif "
            "gitpuller https://git.example.eu/course.git main /home/alice/gpu-intro ||") in apptainer
    assert "gitpuller" not in render(request())


def test_course_values_are_shell_quoted():
    odd = Course("https://h/x?a=1&b=$(id);touch$IFS'pwned'", "release/2026.12", "gpu-intro")
    script = render(request(course=odd))
    assert ("gitpuller 'https://h/x?a=1&b=$(id);touch$IFS'\"'\"'pwned'\"'\"'' release/2026.12 /home/alice/gpu-intro"
            in script)
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


@pytest.mark.parametrize("field, value", [
    ("repo", "-uhttps://x"), ("repo", "ext::sh -c id"), ("repo", "git@host:r.git"), ("repo", "ssh://h/r"),
    ("repo", "https://h/x y"), ("repo", "https://h/x\n"), ("repo", "https://h/\nid"), ("repo", "https://"),
    ("repo", "https://" + "a" * 481), ("repo", "/srv/course"), ("repo", None),
    ("branch", "--upload-pack=id"), ("branch", "-b"), ("branch", "a..b"), ("branch", "main.lock"), ("branch", "m/"),
    ("branch", "main\n"), ("branch", "a b"), ("branch", "$(id)"), ("branch", ""), ("branch", "a//b"),
    ("directory", ".."), ("directory", "."), ("directory", "../etc"), ("directory", "a/b"), ("directory", "/tmp"),
    ("directory", ".ssh"), ("directory", "-rf"), ("directory", ""), ("directory", "a\n"), ("directory", "a b"),
])
def test_hostile_course_values_are_refused(field, value):
    with pytest.raises(UnsafeJobField, match=f"course_{field.replace('directory', 'dir')}"):
        Course(**{"repo": COURSE.repo, "branch": COURSE.branch, "directory": COURSE.directory, field: value})


def test_a_failed_pull_is_reported_and_the_session_starts_all_the_same(tmp_path):
    """Run the real script with a fake environment: gitpuller gets exactly three arguments, and
    when it fails the job says so and still starts the server."""
    prefix, home = tmp_path / "env", tmp_path / "home"
    (prefix / "bin").mkdir(parents=True)
    home.mkdir()
    record = tmp_path / "calls"
    (prefix / "bin" / "gitpuller").write_text(
        f'#!/bin/bash\nprintf "%s\\n" gitpuller "$@" >> {record}\necho "fatal: repository not found" >&2\nexit 3\n')
    (prefix / "bin" / "python3").write_text(f'#!/bin/bash\nprintf "%s\\n" server "$@" >> {record}\ncat >/dev/null\n')
    for tool in ("gitpuller", "python3"):
        (prefix / "bin" / tool).chmod(0o755)
    odd = Course("https://h/x?a=1&b=$(id);touch$IFS'pwned'", "main", "gpu-intro")  # unquoted: runs touch
    script = render(request(course=odd, home=str(home), environment=PythonEnv(str(prefix)), idle_timeout_minutes=5))
    done = subprocess.run(["bash", "-c", script], env={"PATH": "/usr/bin:/bin", "SLURM_JOB_ID": "7"},
                          capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    calls = record.read_text().splitlines()
    assert calls[:4] == ["gitpuller", odd.repo, "main", f"{home}/gpu-intro"]
    assert calls[4:] == ["server", "-", "jupyterhub-singleuser", "--ServerApp.shutdown_no_activity_timeout=300",
                         "--MappingKernelManager.cull_idle_timeout=300", "--MappingKernelManager.cull_interval=60",
                         "--MappingKernelManager.cull_connected=True"]
    assert "FactoryHub: could not pull the course material (exit status 3" in done.stderr
    assert "fatal: repository not found" in done.stderr
    assert f"pulling the course material {odd.repo} (main) into {home}/gpu-intro" in done.stdout
    assert not (tmp_path / "pwned").exists() and not (home / "pwned").exists()


def test_the_idle_timeout_reaches_the_server_and_kernel_culling():
    script = render(request(idle_timeout_minutes=20))
    assert ("exec python3 - jupyterhub-singleuser --ServerApp.shutdown_no_activity_timeout=1200 "
            "--MappingKernelManager.cull_idle_timeout=1200 --MappingKernelManager.cull_interval=60 "
            "--MappingKernelManager.cull_connected=True <<'FACTORYHUB_LAUNCHER'") in script
    assert "shutdown_no_activity_timeout" not in render(request())
    for bad in (0, -1, True, 20.0, "20", 10**7):
        with pytest.raises(UnsafeJobField, match="idle_timeout_minutes"):
            request(idle_timeout_minutes=bad)


def test_the_idle_timeout_counts_the_gpu_activity_mark():
    """jupyter-server's own activity sum reads every ``*_last_activity`` setting: the busy-GPU mark
    of factoryhub_lab.gpu_activity is one, so a busy GPU keeps a workshop session alive."""
    import ast
    import inspect
    from pathlib import Path

    from jupyter_server.serverapp import ServerWebApplication

    source = Path(__file__).resolve().parents[2] / "extensions/lab/factoryhub_lab/gpu_activity.py"
    setting = next(node.value.value for node in ast.walk(ast.parse(source.read_text()))
                   if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "ACTIVITY_SETTING")
    assert setting.endswith("_last_activity")
    assert 'key.endswith("_last_activity")' in inspect.getsource(ServerWebApplication.last_activity)


def test_the_sites_project_storage_is_where_the_session_writes_its_outputs():
    from factoryhub.spawners.slurm.jobscript import session_environment

    env = session_environment(request(output_dir="/proj/proj-climate/alice/outputs"))
    assert env["FACTORYHUB_NOTEBOOK_OUTPUT"] == "/proj/proj-climate/alice/outputs"
    assert "FACTORYHUB_NOTEBOOK_OUTPUT" not in session_environment(request())
    with pytest.raises(UnsafeJobField):
        session_environment(request(output_dir="/proj/$(id)/x"))
