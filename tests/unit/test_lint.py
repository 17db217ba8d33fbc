"""Lint as part of the unit tier: ruff over the Python (pyproject.toml [tool.ruff]) and eslint over
the lab extension's TypeScript (extensions/lab/eslint.config.mjs)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LAB = ROOT / "extensions" / "lab"


def test_ruff_is_clean():
    ruff = Path(sys.executable).with_name("ruff")
    assert ruff.exists(), f"{ruff} is missing: pip install -e '.[test]' installs ruff"
    run = subprocess.run([str(ruff), "check", "--no-cache", "--output-format", "concise", "."], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"ruff check . found problems (fix them, or `ruff check --fix` for the safe ones):\n" \
                                f"{run.stdout[-6000:]}{run.stderr[-2000:]}"


def test_eslint_is_clean():
    env = {**os.environ, "CI": "true", "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    eslint = LAB / "node_modules" / ".bin" / "eslint"
    if not eslint.exists():
        jlpm = shutil.which("jlpm") or str(Path(sys.executable).with_name("jlpm"))
        subprocess.run([jlpm, "install", "--immutable"], cwd=LAB, env=env, check=True, capture_output=True, timeout=600)
    run = subprocess.run([str(eslint), "--max-warnings", "0", "src"], cwd=LAB, env=env, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, \
        f"eslint found problems in extensions/lab/src:\n{run.stdout[-6000:]}{run.stderr[-2000:]}"
