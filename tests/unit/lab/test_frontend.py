"""The JupyterLab frontend's own unit tests (jest), run as part of the unit tier."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

LAB = Path(__file__).resolve().parents[3] / "extensions" / "lab"


def test_frontend_unit_tests_pass():
    jlpm = shutil.which("jlpm") or str(Path(sys.executable).with_name("jlpm"))
    env = {**os.environ, "CI": "true", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    if not (LAB / "node_modules").is_dir():
        subprocess.run([jlpm, "install", "--immutable"], cwd=LAB, env=env, check=True, capture_output=True, timeout=600)
    run = subprocess.run([jlpm, "test", "--ci"], cwd=LAB, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " failed" not in run.stderr.split("Tests:")[-1].splitlines()[0]
