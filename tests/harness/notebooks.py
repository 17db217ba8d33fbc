"""Execute a starter notebook top to bottom and put its exercises' checks to the test.

One kernel per notebook: every cell runs in order; after an exercise's check has passed with the
provided solution, each wrong solution is run in its place and the check run again (it must
fail), then the provided solution is run once more so the cells below see the state they expect.

Standalone on purpose (stdlib + nbformat + nbclient): the Slurm tier copies this file next to a
notebook and runs it as a cluster user with the jobs' Python environment.

    python notebooks.py run NOTEBOOK [--wrong WRONG.json] [--result RESULT.json]
    python notebooks.py strip NOTEBOOK...      # outputs and execution counts out, in place
    python notebooks.py check-stripped NOTEBOOK...
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import nbformat


def _meta(cell, key: str) -> str | None:
    return cell.get("metadata", {}).get("factoryhub", {}).get(key)


@dataclass
class ExerciseOutcome:
    exercise: str
    passed_with_solution: bool = False
    wrong_refused: list[str] = field(default_factory=list)  # the check's error for each wrong solution
    wrong_accepted: list[str] = field(default_factory=list)  # wrong solutions the check let through


@dataclass
class RunResult:
    notebook: str
    seconds: float
    error: str | None  # the first cell that failed (outside the wrong-solution trials)
    exercises: dict[str, ExerciseOutcome]
    outputs: list[str]  # text the cells printed, in order (for assertions on what the notebook reports)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2)

    @classmethod
    def from_json(cls, text: str) -> RunResult:
        raw = json.loads(text)
        raw["exercises"] = {k: ExerciseOutcome(**v) for k, v in raw["exercises"].items()}
        return cls(**raw)


def exercise_cells(nb) -> dict[str, tuple[int, int]]:
    """exercise id -> (index of its solution cell, index of its check cell)."""
    solutions = {_meta(c, "exercise"): i for i, c in enumerate(nb.cells) if _meta(c, "exercise")}
    checks = {_meta(c, "checks"): i for i, c in enumerate(nb.cells) if _meta(c, "checks")}
    if solutions.keys() != checks.keys():
        raise ValueError(f"exercises without a check or checks without an exercise: "
                         f"{sorted(solutions.keys() ^ checks.keys())}")
    return {name: (solutions[name], checks[name]) for name in solutions}


def _text_of(outputs) -> list[str]:
    found = []
    for out in outputs:
        if out.get("output_type") == "stream":
            found.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            found.append(out.get("data", {}).get("text/plain", ""))
    return found


def run(path: Path, wrong: dict[str, list[str]] | None = None, timeout: int = 180,
        env: dict[str, str] | None = None) -> RunResult:
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    wrong = wrong or {}
    nb = nbformat.read(path, as_version=4)
    pairs = exercise_cells(nb)
    unknown = set(wrong) - set(pairs)
    if unknown:
        raise ValueError(f"wrong solutions for exercises {path.name} does not have: {sorted(unknown)}")
    by_check = {check: (name, solution) for name, (solution, check) in pairs.items()}
    outcomes = {name: ExerciseOutcome(name) for name in pairs}
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(path.parent)}})
    started, error, printed = time.monotonic(), None, []
    with client.setup_kernel(env={**os.environ, **(env or {})}, cwd=str(path.parent)):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as exc:
                error = f"cell {index}: {str(exc)[-3000:]}"
                break
            printed.extend(_text_of(cell.outputs))
            if index not in by_check:
                continue
            name, solution_index = by_check[index]
            outcome = outcomes[name]
            outcome.passed_with_solution = True
            solution = nb.cells[solution_index]
            for source in wrong.get(name, []):
                try:
                    client.execute_cell(nbformat.v4.new_code_cell(source), solution_index)
                    client.execute_cell(cell, index)
                    outcome.wrong_accepted.append(source)
                except CellExecutionError as exc:
                    outcome.wrong_refused.append(f"{exc.ename}: {exc.evalue}")
            if wrong.get(name):  # back to the provided solution's state (its outputs were read above)
                client.execute_cell(solution, solution_index)
                client.execute_cell(cell, index)
    return RunResult(notebook=path.name, seconds=round(time.monotonic() - started, 2), error=error,
                     exercises=outcomes, outputs=printed)


def strip(nb) -> bool:
    """Outputs, execution counts and run-time metadata out; True when something changed."""
    changed = False
    for cell in nb.cells:
        if cell.cell_type == "code":
            if cell.get("outputs") or cell.get("execution_count") is not None:
                cell.outputs, cell.execution_count, changed = [], None, True
            for transient in ("execution", "collapsed", "scrolled"):
                if transient in cell.metadata:
                    del cell.metadata[transient]
                    changed = True
    return changed


def unstripped(nb) -> list[str]:
    return [f"cell {i} ({c.get('id', '?')})" for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None
                                          or "execution" in c.metadata)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run_p = sub.add_parser("run")
    run_p.add_argument("notebook", type=Path)
    run_p.add_argument("--wrong", type=Path, help="JSON: exercise id -> list of wrong solutions")
    run_p.add_argument("--result", type=Path, help="write the result here as JSON (default: stdout)")
    run_p.add_argument("--timeout", type=int, default=180, help="seconds per cell")
    for name in ("strip", "check-stripped"):
        sub.add_parser(name).add_argument("notebooks", type=Path, nargs="+")
    args = parser.parse_args(argv)
    if args.command == "run":
        wrong = json.loads(args.wrong.read_text()) if args.wrong else {}
        result = run(args.notebook, wrong, timeout=args.timeout)
        if args.result:
            args.result.write_text(result.to_json())
        else:
            print(result.to_json())
        return 0 if result.error is None else 1
    problems = 0
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if args.command == "strip":
            if strip(nb):
                nbformat.write(nb, path)
                print(f"stripped {path}")
        elif found := unstripped(nb):
            problems += 1
            print(f"{path}: outputs or execution counts in {', '.join(found)}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
