"""Curated catalogue data for the integrity tests: a table file and a folder of tiles on disk, and
an entry naming them with the SHA-256 each has now (as a steward curates it), computed here
independently of the code under test (docs/catalogue.md#integrity)."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import yaml


def sha256_file(path: Path) -> str:
    """The file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sha256_directory(path: Path) -> str:
    """A directory's digest: the SHA-256 of its sha256sum manifest (every file, sorted by path bytes)."""
    lines = sorted((p.relative_to(path).as_posix().encode(), sha256_file(p)) for p in path.rglob("*") if p.is_file())
    return hashlib.sha256(b"".join(f"{digest}  ".encode() + name + b"\n" for name, digest in lines)).hexdigest()


def make_data(root: Path, tiles: int = 3, tile_bytes: int = 50_000) -> tuple[Path, Path]:
    """``root/table.csv`` and ``root/tiles/`` (nested tiles and a hidden index) with random content."""
    (root / "tiles" / "row-1").mkdir(parents=True)
    table = root / "table.csv"
    table.write_bytes(b"station,value\n" + os.urandom(tile_bytes).hex().encode())
    for n in range(tiles):
        (root / "tiles" / "row-1" / f"tile-{n}.bin").write_bytes(os.urandom(tile_bytes))
    (root / "tiles" / ".index").write_text(" ".join(f"tile-{n}" for n in range(tiles)) + "\n")
    return table, root / "tiles"


def write_curated_entry(catalogue: Path, entry_id: str, table: Path, tiles: Path, title: str,
                        keywords: tuple[str, ...] = ("demo",)) -> Path:
    """``catalogue/<entry_id>.yaml``: a registered entry whose two distributions carry their sha256."""
    entry = {"kind": "dataset", "title": title, "description": "A table and a folder of tiles, with checksums.",
             "keywords": list(keywords), "themes": ["TECH"], "publisher": {"name": "Test"},
             "contact_point": {"name": "Data desk", "email": "desk@example.eu"}, "licence": "CC0-1.0",
             "access": "registered", "personal_data": False,
             "provenance": {"sources": [{"name": "Made in this test", "licence": "CC0-1.0",
                                         "collected": "2026-12-01"}],
                            "steps": [], "curated_by": {"name": "Data desk"}},
             "intended_use": "Testing verification.", "limitations": "Random bytes.",
             "distributions": [
                 {"title": "Table", "format": "csv", "location": str(table), "sha256": sha256_file(table)},
                 {"title": "Tiles", "format": "tar", "location": str(tiles), "sha256": sha256_directory(tiles)}]}
    catalogue.mkdir(parents=True, exist_ok=True)
    path = catalogue / f"{entry_id}.yaml"
    path.write_text(yaml.safe_dump(entry, sort_keys=False))
    return path
