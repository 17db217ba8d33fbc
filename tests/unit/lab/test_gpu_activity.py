"""GPU utilisation as session activity: nvidia-smi parsed, busy GPUs mark the server active."""
from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

import pytest

from factoryhub_lab.gpu_activity import ACTIVITY_SETTING, GpuActivity, parse_utilization, session_gpus


def fake_nvidia_smi(folder: Path, body: str) -> Path:
    path = folder / "nvidia-smi"
    path.write_text(f"#!/bin/bash\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def test_utilization_lines_are_parsed_and_unknown_values_skipped():
    assert parse_utilization("0\n97\n[N/A]\n 12 %\n\n[Not Supported]\n") == [0, 97, 12]


@pytest.mark.parametrize("env, expected", [
    ({"FACTORYHUB_GPUS": "0"}, None),
    ({}, None),
    ({"FACTORYHUB_GPUS": "2", "CUDA_VISIBLE_DEVICES": "1,3"}, "1,3"),
    ({"CUDA_VISIBLE_DEVICES": "0"}, "0"),
    ({"FACTORYHUB_GPUS": "1"}, ""),
    ({"FACTORYHUB_GPUS": "1", "CUDA_VISIBLE_DEVICES": "NoDevFiles"}, ""),
])
def test_only_sessions_with_gpus_are_sampled_and_only_their_gpus(env, expected):
    assert session_gpus(env) == expected


async def test_a_busy_gpu_marks_the_server_active_and_asks_for_the_sessions_gpus_only(tmp_path):
    fake_nvidia_smi(tmp_path, f'printf "%s\\n" "$@" > {tmp_path}/argv; echo 3; echo 88')
    settings: dict = {}
    activity = GpuActivity.for_session(settings, {"FACTORYHUB_GPUS": "2", "CUDA_VISIBLE_DEVICES": "1,3",
                                                  "PATH": str(tmp_path)})
    before = dt.datetime.now(dt.UTC)
    assert await activity.sample() == [3, 88]
    assert settings[ACTIVITY_SETTING] >= before
    assert (tmp_path / "argv").read_text().split() == ["--query-gpu=utilization.gpu", "--format=csv,noheader,nounits",
                                                       "--id=1,3"]


@pytest.mark.parametrize("body", ["echo 0; echo 9", "echo 'NVIDIA-SMI has failed' >&2; exit 9", "exec sleep 30"])
async def test_idle_failing_or_hanging_nvidia_smi_marks_nothing(tmp_path, body):
    fake_nvidia_smi(tmp_path, body)
    settings: dict = {}
    activity = GpuActivity.for_session(settings, {"FACTORYHUB_GPUS": "1", "PATH": str(tmp_path)})
    activity.timeout = 1
    await activity.sample()
    assert ACTIVITY_SETTING not in settings


def test_no_sampler_without_gpus_or_without_nvidia_smi(tmp_path):
    fake_nvidia_smi(tmp_path, "echo 100")
    assert GpuActivity.for_session({}, {"FACTORYHUB_GPUS": "0", "PATH": str(tmp_path)}) is None
    assert GpuActivity.for_session({}, {"FACTORYHUB_GPUS": "1", "PATH": str(tmp_path / "nowhere")}) is None
