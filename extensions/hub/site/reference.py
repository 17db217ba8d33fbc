"""Render the site description's reference (docs/site.md) from the model itself.

The model's field descriptions are the single source; a test keeps docs/site.md equal
to this output, so the documentation cannot drift from what the loader accepts.
"""
from __future__ import annotations

import inspect
import typing
from types import UnionType

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .model import PATTERN_HELP, Site

HEADER = """\
# Site description reference (`site.yaml`)

Generated from `extensions/hub/site/model.py` by `factoryhub site-reference`; do not edit
by hand. Unknown keys are errors. Check a file with `factoryhub check-site site.yaml`.
`site.example.yaml` describes the local test cluster.
"""


def _models_in(annotation) -> list[type[BaseModel]]:
    args = typing.get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in args for m in _models_in(a)]


def _type_name(annotation) -> str:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _type_name(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return " \\| ".join(repr(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, UnionType):
        return " \\| ".join(_type_name(a) for a in typing.get_args(annotation))
    if origin is list:
        return f"list of {_type_name(typing.get_args(annotation)[0])}"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def _default(field) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
    else:
        value = field.default
    if value is PydanticUndefined or isinstance(value, BaseModel):
        return "(section defaults)"
    return f"`{value}`"


def _constraints(field) -> str:
    parts = []
    for meta in field.metadata:
        for name in ("ge", "gt", "le", "lt", "min_length", "max_length"):
            if getattr(meta, name, None) is not None:
                parts.append(f"{name} {getattr(meta, name)}")
        pattern = getattr(meta, "pattern", None)
        if pattern:
            parts.append(PATTERN_HELP.get(pattern, f"pattern {pattern}"))
    return "; ".join(parts)


def _docstring(model: type[BaseModel]) -> str:
    """A model's whole docstring, each paragraph on one line (never just its first line)."""
    paragraphs = inspect.cleandoc(model.__doc__ or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


def _cell(text: str) -> str:
    """Text for one table cell, whole: line breaks become spaces, pipes are escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def render(model: type[BaseModel] = Site) -> str:
    """The Markdown reference of every site option (docs/site.md), generated from ``model``'s fields."""
    sections, seen, queue = [HEADER], set(), [("(top level)", model)]
    while queue:
        path, current = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        doc = _docstring(current)
        lines = [f"\n## `{path}` — {current.__name__}\n", f"{doc}\n" if doc else "",
                 "| key | type | default | constraints | meaning |", "|---|---|---|---|---|"]
        for name, field in current.model_fields.items():
            lines.append(f"| `{name}` | {_type_name(field.annotation)} | {_default(field)} | "
                         f"{_constraints(field)} | {_cell(field.description or '')} |")
            for sub in _models_in(field.annotation):
                prefix = "" if path == "(top level)" else f"{path}."
                queue.append((f"{prefix}{name}", sub))
        sections.append("\n".join(line for line in lines if line != ""))
    return "\n".join(sections) + "\n"
