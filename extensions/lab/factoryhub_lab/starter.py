"""FactoryHub's starter notebooks, copied into the user's home in one click, never over their edits.

The notebooks and their data generators ship inside this distribution (``factoryhub_lab/starter``,
from the repository's notebooks/); a site may point ``FACTORYHUB_STARTER_SOURCE`` at its own copy
(e.g. a course repository checked out on the cluster's filesystem).

A copied notebook that names no kernel gets the session's ``python3`` one: stripped notebooks often
lose their kernelspec, and JupyterLab would then greet a trainee with "Select Kernel".
"""
from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

FOLDER = "factoryhub-starter"
PACKAGED = Path(__file__).with_name("starter")
SKIPPED = {"__pycache__", ".ipynb_checkpoints", "generated", "outputs"}
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


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
            if path.suffix == ".ipynb":
                out.write(with_kernelspec(src.read()))
            else:
                shutil.copyfileobj(src, out)
        result.copied.append(str(relative))
    return result


def with_kernelspec(notebook: bytes) -> bytes:
    """The notebook with ``KERNELSPEC`` when it names no kernel; one that names its kernel (a site's R or
    GPU kernel) and anything that is not a notebook's JSON are left byte for byte as they are."""
    try:
        content = json.loads(notebook)
    except ValueError:
        return notebook
    if not isinstance(content, dict) or not isinstance(content.setdefault("metadata", {}), dict):
        return notebook
    named = content["metadata"].get("kernelspec")
    if isinstance(named, dict) and named.get("name"):
        return notebook
    content["metadata"]["kernelspec"] = dict(KERNELSPEC)
    return (json.dumps(content, sort_keys=True, indent=1, ensure_ascii=False) + "\n").encode()  # nbformat's layout
