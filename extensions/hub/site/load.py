"""Read a site description: the file named by the caller, or the embedded default.

Every problem becomes one line ``<file>: <key>: <value> — <what is allowed>`` in a
:class:`SiteError`; nothing here raises a traceback at the user.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import ValidationError

from .checks import cross_check
from .model import PATTERN_HELP, Site

EMBEDDED_DEFAULT = "embedded default"


class SiteError(Exception):
    """The site description is unusable; ``problems`` holds one line per problem."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


@dataclass(frozen=True)
class LoadedSite:
    """A validated site plus where it came from (relative paths resolve against ``root``)."""

    site: Site
    source: str
    root: Path

    @property
    def state_dir(self) -> Path:
        return (self.root / self.site.hub.state_dir).resolve()


def _format_loc(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("local", "oidc", "python", "apptainer"):  # discriminated-union tags
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _describe(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _validation_problems(err: ValidationError) -> list[str]:
    lines = []
    for e in err.errors(include_url=False):
        key = _format_loc(e["loc"])
        if e["type"] == "missing":
            lines.append(f"{key}: is required")
        elif e["type"] == "extra_forbidden":
            lines.append(f"{key}: unknown key (check the spelling; see docs/site.md)")
        else:
            why = PATTERN_HELP.get((e.get("ctx") or {}).get("pattern"), e["msg"].removeprefix("Value error, "))
            lines.append(f"{key}: {_describe(e.get('input'))} is not allowed — {why}")
    return lines


def parse_site(data: object, source: str) -> Site:
    """Validate already-parsed YAML data; raise :class:`SiteError` listing every problem."""
    if not isinstance(data, dict):
        raise SiteError(source, [f"the top level must be a mapping of sections, not {type(data).__name__}"])
    try:
        site = Site.model_validate(data)
    except ValidationError as err:
        raise SiteError(source, _validation_problems(err)) from None
    problems = cross_check(site)
    if problems:
        raise SiteError(source, [f"{key}: {_describe(value)} is not allowed — {why}" if value is not None
                                 else f"{key}: {why}" for key, value, why in problems])
    return site


def find_site_file() -> Path | None:
    """$FACTORYHUB_SITE if set, else ./site.yaml if present, else None (the embedded default)."""
    explicit = os.environ.get("FACTORYHUB_SITE")
    if explicit:
        return Path(explicit)
    here = Path.cwd() / "site.yaml"
    return here if here.exists() else None


def load_site(path: str | Path | None) -> LoadedSite:
    """Load ``path``, or the embedded default (local sessions, loopback, SQLite) when None."""
    if path is None:
        text = files("factoryhub.site").joinpath("default.yaml").read_text()
        return LoadedSite(parse_site(yaml.safe_load(text), EMBEDDED_DEFAULT), EMBEDDED_DEFAULT, Path.cwd())
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as err:
        raise SiteError(str(path), [f"cannot read the file: {err.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SiteError(str(path), [f"{where}not valid YAML ({getattr(err, 'problem', err)})"]) from None
    return LoadedSite(parse_site(data, str(path)), str(path), path.parent.resolve())
