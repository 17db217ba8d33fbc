#!/usr/bin/env python3
"""The starter notebooks' CPU path at the CI scale, against their targets, in one run.

    .venv/bin/python benchmarks/notebooks.py [--runs 2] [--with-wrong-solutions]

Targets (issue 7): each notebook < 2 min, all of them together < 5 min, on the CPU path in CI.
Runs 01-03 through tests/harness/notebooks.py exactly as the notebooks tier does (a fresh copy of
notebooks/, no catalogue data, so the sample data is generated), and beside them the BASELINE: an
empty notebook through the same runner — the cost of a kernel that does nothing, which every
notebook pays. 04 needs the Slurm cluster; run it with the slurm tier
(tests/slurm/test_scaling_notebook.py), which prints its time with -s.

Prints, per notebook, the median and worst wall time over --runs, the time above the baseline,
and the total against the 5-minute target.
"""
from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.harness.notebooks import run  # noqa: E402

NOTEBOOKS = ["01-cupy-basics", "02-rapids-data-preparation", "03-fine-tuning"]
EACH_TARGET_S, ALL_TARGET_S = 120.0, 300.0


def baseline_notebook(folder: Path) -> Path:
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    path = folder / "baseline.ipynb"
    nbformat.write(new_notebook(cells=[new_code_cell("pass")]), path)
    return path


def timed(path: Path, wrong: dict, env: dict) -> float:
    started = time.perf_counter()
    result = run(path, wrong, env=env)
    if result.error:
        raise SystemExit(f"{path.name} failed: {result.error[-2000:]}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--with-wrong-solutions", action="store_true",
                        help="also run every wrong solution and check again, as the tests do")
    args = parser.parse_args()
    print(f"# notebooks CPU path, scale ci, {args.runs} runs, {os.cpu_count()} CPUs, "
          f"wrong-solution trials {'on' if args.with_wrong_solutions else 'off'}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="factoryhub-nb-bench-") as tmp:
        tmp = Path(tmp)
        env = {"FACTORYHUB_NOTEBOOK_SCALE": "ci", "FACTORYHUB_NOTEBOOK_OUTPUT": str(tmp / "outputs"),
               "FACTORYHUB_DATASETS": str(tmp / "none"), "FACTORYHUB_MODELS": str(tmp / "none"),
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        timed(baseline_notebook(tmp), {}, env)  # warm-up: the first kernel start pays for cold imports
        base = statistics.median(timed(baseline_notebook(tmp), {}, env) for _ in range(args.runs))
        for stem in NOTEBOOKS:
            times = []
            for i in range(args.runs):
                copy = tmp / f"run-{stem}-{i}"
                shutil.copytree(REPO / "notebooks", copy, ignore=shutil.ignore_patterns("generated", "outputs"))
                wrong = (importlib.import_module(f"tests.notebooks.wrong_{stem.replace('-', '_')}").WRONG
                         if args.with_wrong_solutions else {})
                times.append(timed(copy / f"{stem}.ipynb", wrong, env))
            rows.append((stem, statistics.median(times), max(times)))
    print(f"{'notebook':32} {'median s':>9} {'worst s':>8} {'above baseline':>15} {'target':>8}")
    print(f"{'BASELINE (empty notebook)':32} {base:9.1f} {base:8.1f} {0:15.1f} {'':>8}")
    for stem, median, worst in rows:
        verdict = "met" if worst < EACH_TARGET_S else "NOT MET"
        print(f"{stem:32} {median:9.1f} {worst:8.1f} {median - base:15.1f} {'<120 ' + verdict:>8}")
    total = sum(m for _, m, _ in rows)
    verdict = "<300 " + ("met" if total < ALL_TARGET_S else "NOT MET")
    print(f"{'all three together':32} {total:9.1f} {'':>8} {'':>15} {verdict:>8}")


if __name__ == "__main__":
    main()
