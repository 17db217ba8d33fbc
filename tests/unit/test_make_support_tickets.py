"""notebooks/data/make_support_tickets.py: the support tickets' counts, fields, determinism and splits."""
from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "notebooks" / "data" / "make_support_tickets.py"
SHIPPED = REPO / "notebooks" / "data" / "support_tickets.jsonl"
_spec = importlib.util.spec_from_file_location("make_support_tickets", SCRIPT)
make_support_tickets = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_support_tickets)

LABELS = {"negative", "neutral", "positive"}
PER_LABEL = {"train": 600, "validation": 100, "test": 100}


@pytest.fixture(scope="module")
def records() -> list[dict]:
    return make_support_tickets.generate()


def template_pattern(template: str) -> re.Pattern:
    """A template as a regular expression: [a|b] alternatives, {slot} anything."""
    parts = re.split(r"(\[[^\]]+\]|\{\w+\})", template)
    pattern = "".join(
        "(?:" + "|".join(re.escape(a) for a in part[1:-1].split("|")) + ")" if part.startswith("[")
        else ".+?" if part.startswith("{") else re.escape(part)
        for part in parts)
    return re.compile(pattern, re.IGNORECASE)


def test_counts_per_split_and_label(records):
    assert len(records) == 2400
    counts = Counter((r["split"], r["label"]) for r in records)
    assert counts == {(split, label): n for split, n in PER_LABEL.items() for label in LABELS}


def test_fields_and_ids(records):
    for r in records:
        assert list(r) == ["id", "text", "label", "split"]
        assert r["label"] in LABELS and r["split"] in PER_LABEL
        assert isinstance(r["text"], str) and 10 <= len(r["text"]) <= 200 and "\n" not in r["text"]
    ids = [r["id"] for r in records]
    assert ids == [f"tkt-{i:05d}" for i in range(1, 2401)]
    assert [r["split"] for r in records] == ["train"] * 1800 + ["validation"] * 300 + ["test"] * 300


def test_every_slot_and_alternative_is_filled(records):
    for r in records:
        assert not re.search(r"[{}\[\]|]", r["text"]), r["text"]
        assert "  " not in r["text"] and r["text"] == r["text"].strip(), r["text"]
        assert "the the " not in r["text"].lower() and "the new the" not in r["text"].lower(), r["text"]


def test_no_text_occurs_twice_in_or_across_splits(records):
    texts = [r["text"].lower() for r in records]
    assert len(set(texts)) == len(texts)


def test_unseen_templates_only_in_validation_and_test(records):
    unseen = {label: [template_pattern(t) for t in templates]
              for label, templates in make_support_tickets.UNSEEN_TEMPLATES.items()}
    hits = Counter()
    for r in records:
        if any(p.search(r["text"]) for p in unseen[r["label"]]):
            hits[(r["split"], r["label"])] += 1
    assert not any(split == "train" for split, _ in hits), hits
    for split in ("validation", "test"):
        for label in LABELS:
            assert hits[(split, label)] == make_support_tickets.UNSEEN_PER_SPLIT, (split, label, hits)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    first, second, other = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl"
    assert make_support_tickets.main(["--out", str(first), "--seed", "11"]) == 0
    make_support_tickets.main(["--out", str(second), "--seed", "11"])
    make_support_tickets.main(["--out", str(other), "--seed", "12"])
    assert first.read_bytes() == second.read_bytes()
    assert first.read_bytes() != other.read_bytes()
    rows = [json.loads(line) for line in first.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 2400 and rows[0]["id"] == "tkt-00001"


def test_the_shipped_copy_is_what_the_default_seed_generates(tmp_path):
    out = tmp_path / "tickets.jsonl"
    make_support_tickets.main(["--out", str(out)])
    assert SHIPPED.read_bytes() == out.read_bytes(), (
        "notebooks/data/support_tickets.jsonl is stale: regenerate it with "
        "`python notebooks/data/make_support_tickets.py --out notebooks/data/support_tickets.jsonl` "
        "and update byte_size in extensions/catalogue/example/support-tickets-sentiment.yaml")


def test_the_catalogue_entry_states_the_shipped_files_size():
    yaml = pytest.importorskip("yaml")
    entry = yaml.safe_load((REPO / "extensions/catalogue/example/support-tickets-sentiment.yaml").read_text())
    assert entry["distributions"][0]["byte_size"] == SHIPPED.stat().st_size
    assert {step["tool"] for step in entry["provenance"]["steps"]} == {"notebooks/data/make_support_tickets.py"}
