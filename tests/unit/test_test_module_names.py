"""pytest imports test modules of folders without __init__.py by their file name alone: two with
one name (tests/hub/test_x.py, tests/unit/test_x.py) stop the whole run at collection."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def test_test_modules_outside_packages_have_unique_names():
    loose = [p for p in TESTS.rglob("test_*.py") if not (p.parent / "__init__.py").exists()]
    repeated = {name: n for name, n in Counter(p.name for p in loose).items() if n > 1}
    assert not repeated, f"rename one of each: {repeated}"
