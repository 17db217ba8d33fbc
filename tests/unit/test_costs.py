"""One cost formula (factoryhub.costs) and every place that computes or words a session's cost.

tests/fixtures/cost-cases.json is the shared table: the Python function, the quota ledger, the
spawner's request and the spawn form's JavaScript (run here under node, the exact text the form
carries) must all give its figures. The lab extension is checked against the same table in
tests/unit/lab/test_session.py (Python) and src/__tests__/cost.spec.ts (formatHours, jest).
"""
from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from factoryhub.costs import session_cost_gpu_hours, session_cost_gpu_seconds, to_gpu_seconds
from factoryhub.quota import ledger
from factoryhub.site import parse_site
from factoryhub.spawners.options import COST_FUNCTION, COST_SCRIPT, SessionRequest, render_form

REPO = Path(__file__).resolve().parents[2]
CASES = json.loads((REPO / "tests" / "fixtures" / "cost-cases.json").read_text())["cases"]
IDS = [f"{c['gpus']}x{c['hours']:.4g}hx{c['price']:g}" for c in CASES]
PROFILE = parse_site(yaml.safe_load((REPO / "site.example.yaml").read_text()), "site.example.yaml").profiles[0]


def run_form_cost(cases: list[tuple[int, float, float]]) -> list[dict]:
    """factoryhubCost (the spawn form's function, verbatim) on each (gpus, hours, price), under node."""
    node = shutil.which("node")
    assert node, "node is needed to run the spawn form's cost function (it builds the lab extension too)"
    program = COST_FUNCTION + """
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
process.stdout.write(JSON.stringify(cases.map(([g, h, p]) => factoryhubCost(g, h, p))));
"""
    run = subprocess.run([node, "-e", program], input=json.dumps(cases), capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_the_table_has_the_edge_cases():
    keys = {(c["gpus"], c["hours"], c["price"]) for c in CASES}
    assert any(g == 0 for g, _, _ in keys) and any(p == 0 for _, _, p in keys) and any(p == 2.5 for _, _, p in keys)
    assert {0.25, 1 / 3} <= {h for _, h, _ in keys}
    assert max(c["gpu_seconds"] for c in CASES) > 2**32


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_factoryhub_costs_gives_the_tables_figures(case):
    gpus, hours, price = case["gpus"], case["hours"], case["price"]
    assert session_cost_gpu_hours(gpus, hours, price) == case["gpu_hours"]
    assert to_gpu_seconds(case["gpu_hours"]) == case["gpu_seconds"]
    assert session_cost_gpu_seconds(gpus, hours, price) == case["gpu_seconds"]
    assert case["gpu_seconds"] >= case["gpu_hours"] * 3600 - 1e-6  # the hold never undercharges


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_ledger_and_the_request_ask_factoryhub_costs(case):
    gpus, hours, price = case["gpus"], case["hours"], case["price"]
    assert ledger.session_cost(gpus, hours, price) == case["gpu_seconds"]
    assert ledger.to_seconds(case["gpu_hours"]) == case["gpu_seconds"]
    request = SessionRequest(profile=PROFILE.model_copy(update={"gpus": gpus, "price": price}), walltime_hours=hours)
    assert request.cost_gpu_hours == case["gpu_hours"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_quota_service_words_a_hold_as_the_table_does(case):
    assert ledger.fmt_hours(case["gpu_seconds"]) == case["form_text"]


def test_the_spawn_forms_script_computes_the_tables_figures_under_node():
    assert COST_SCRIPT.count(COST_FUNCTION) == 1  # the function tested here is the one the form runs
    results = run_form_cost([(c["gpus"], c["hours"], c["price"]) for c in CASES])
    for case, got in zip(CASES, results, strict=True):
        expected = {"gpuHours": case["gpu_hours"], "gpuSeconds": case["gpu_seconds"], "text": case["form_text"]}
        assert got == expected, case


def test_the_forms_estimate_is_the_hold_as_the_quota_service_words_it_for_any_request():
    """Beyond the table: 3000 seeded requests (walltimes in the form's quarter-hour steps and any
    float, prices with up to four decimals and any float) read the same in the form and the ledger."""
    rng = random.Random(14)
    cases = []
    for _ in range(3000):
        hours = rng.choice([rng.randint(1, 2880) / 4, rng.uniform(0.01, 720)])
        price = rng.choice([rng.randint(0, 50000) / 10000, rng.uniform(0, 10)])
        cases.append((rng.randint(0, 2048), hours, price))
    for (gpus, hours, price), got in zip(cases, run_form_cost(cases), strict=True):
        seconds = session_cost_gpu_seconds(gpus, hours, price)
        assert (got["gpuHours"], got["gpuSeconds"]) == (session_cost_gpu_hours(gpus, hours, price), seconds)
        assert got["text"] == ledger.fmt_hours(seconds), (gpus, hours, price)


def test_the_form_hands_its_script_the_exact_price_and_walltimes():
    odd = PROFILE.model_copy(update={"price": 4.0199, "default_walltime_hours": 1 / 3, "max_walltime_hours": 2.0})
    html = render_form([odd], {}, odd.id)
    assert 'data-price="4.0199"' in html
    assert 'data-default-walltime="0.3333333333333333"' in html and 'data-max-walltime="2"' in html


@pytest.mark.parametrize("seconds, text", [(0, "0.00"), (17, "0.00"), (18, "0.01"), (450, "0.13"), (1350, "0.38"),
                                           (-450, "-0.13"), (-17, "0.00"), (3_600_000_000, "1,000,000.00")])
def test_hours_are_worded_exactly_halves_away_from_zero(seconds, text):
    assert ledger.fmt_hours(seconds) == text
