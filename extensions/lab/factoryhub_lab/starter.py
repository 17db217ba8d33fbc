"""FactoryHub's starter notebooks, copied into the user's home in one click, never over their edits.

The notebooks and their data generators ship inside this distribution (``factoryhub_lab/starter``,
from the repository's notebooks/); a site may point ``FACTORYHUB_STARTER_SOURCE`` at its own copy
(e.g. a course repository checked out on the cluster's filesystem).
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

FOLDER = "factoryhub-starter"
PACKAGED = Path(__file__).with_name("starter")
SKIPPED = {"__pycache__", ".ipynb_checkpoints", "generated", "outputs"}


@dataclass
class StarterCopy:
    """What one copy did: files it wrote, and files it left alone because the user has them already."""

    copied: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def starter_source(env: dict[str, str]) -> Path:
    """Where the starter notebooks come from: the site's folder, or the packaged copy."""
    return Path(env["FACTORYHUB_STARTER_SOURCE"]) if env.get("FACTORYHUB_STARTER_SOURCE") else PACKAGED


def copy_starter(source: Path, destination: Path) -> StarterCopy:
    """Copy every file below ``source`` to ``destination``; an existing file is never overwritten, and
    a link in the way is never followed (the copy lands only in real folders of the user's)."""
    if not source.is_dir():
        raise FileNotFoundError(f"no starter notebooks at {source}")
    result = StarterCopy()
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if SKIPPED & set(relative.parts) or not path.is_file():
            continue
        target = destination / relative
        if target.exists() or target.is_symlink():
            result.kept.append(str(relative))
            continue
        for folder in [destination, *(destination / p for p in reversed(relative.parents[:-1]))]:
            if folder.is_symlink():
                raise FileExistsError(f"{folder} is a link: not copying into it")
            folder.mkdir(parents=True, exist_ok=True)
        with path.open("rb") as src, open(target, "xb") as out:  # "x": never replace what appeared meanwhile
            shutil.copyfileobj(src, out)
        result.copied.append(str(relative))
    return result
