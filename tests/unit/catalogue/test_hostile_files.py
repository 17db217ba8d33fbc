"""Entry files written to hurt: they are refused with a reason, quickly, without taking memory."""
from __future__ import annotations

from pathlib import Path

import pytest

from factoryhub.catalogue.entries import EntryError, load_entry

BOMB = "".join(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9 if prev else ['x'] * 9)}]\n"
               for prev, name in zip(["", "a", "b", "c", "d", "e", "f", "g", "h"], "abcdefghi"))


def test_an_alias_bomb_is_refused_before_it_expands(tmp_path: Path):
    path = tmp_path / "bomb.yaml"
    path.write_text(BOMB)  # 9**9 leaves once expanded
    with pytest.raises(EntryError, match="more than 20000 values .are YAML aliases expanding"):
        load_entry(path)


@pytest.mark.parametrize("text, reason", [
    ("!!python/object/apply:os.system ['true']", "not valid YAML"),  # safe loading: no code
    ("title: x\n\x00", "not valid YAML"),
    ("\ufeff- just\n- a list", "must be a YAML mapping"),
])
def test_unsafe_or_binary_yaml_is_refused(tmp_path: Path, text, reason):
    path = tmp_path / "entry.yaml"
    path.write_text(text)
    with pytest.raises(EntryError, match=reason):
        load_entry(path)
