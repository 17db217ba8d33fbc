"""Comparing a service's routes with its openapi.yaml (shared by the services' tests)."""
from __future__ import annotations

from tornado import web

METHODS = ("get", "post", "put", "patch", "delete")


def template(pattern: str) -> str:
    """A route regex as an OpenAPI path: (?P<name>...) -> {name}, escapes dropped."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("(?P<", i):
            name = pattern[i + 4:pattern.index(">", i)]
            depth, j = 0, i
            while True:
                depth += {"(": 1, ")": -1}.get(pattern[j], 0) if pattern[j - 1] != "\\" else 0
                j += 1
                if depth == 0:
                    break
            out.append("{" + name + "}")
            i = j
        else:
            out.append(pattern[i])
            i += 1
    return "".join(out).replace("\\", "")


def served(routes: list, prefix: str) -> set[tuple[str, str]]:
    """(method, path) of every handler method a route list serves below ``prefix``."""
    found = set()
    for pattern, handler, *_ in routes:
        path = template(pattern).removeprefix(prefix)
        for method in METHODS:
            if getattr(handler, method) is not getattr(web.RequestHandler, method):
                found.add((method, path))
    return found


def documented(spec: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method in item if method in METHODS}


def body_matches(spec: dict, name: str, model) -> None:
    """A request body schema says what its pydantic validator accepts."""
    schema = spec["components"]["schemas"][name]
    assert set(schema["properties"]) == set(model.model_fields)
    assert set(schema.get("required", [])) == {n for n, f in model.model_fields.items() if f.is_required()}
    assert schema["additionalProperties"] is False and model.model_config["extra"] == "forbid"
