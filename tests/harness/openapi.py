"""Comparing a service's routes with its openapi.yaml (shared by the services' tests)."""
from __future__ import annotations

import re

from tornado import web

from factoryhub.webservice import ApiNotFound

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
    """(method, path) of every handler method a route list serves below ``prefix``; the API's
    catch-all (a JSON 404 for every path no operation has) serves no operation."""
    found = set()
    for pattern, handler, *_ in routes:
        if handler is ApiNotFound:
            continue
        path = template(pattern).removeprefix(prefix)
        for method in METHODS:
            if getattr(handler, method) is not getattr(web.RequestHandler, method):
                found.add((method, path))
    return found


def catch_all_comes_last(routes: list, api_prefix: str) -> None:
    """The catch-all is the last API route (tornado takes the first match) and matches every
    path below ``api_prefix`` (e.g. /p/api/v1) that no route serves."""
    base = api_prefix.rsplit("/", 1)[0]
    api = [(pattern, handler) for pattern, handler, *_ in routes if pattern.startswith(base)]
    assert api and api[-1][1] is ApiNotFound, "the API's catch-all must come after every API route"
    assert all(handler is not ApiNotFound for _, handler in api[:-1])
    for path in ("/no/such/thing", "/projects/%C3%A9", "/holds/-1/close", ""):
        assert re.fullmatch(api[-1][0], api_prefix + path), path


def documented(spec: dict) -> set[tuple[str, str]]:
    return {(method, path) for path, item in spec["paths"].items() for method in item if method in METHODS}


def body_matches(spec: dict, name: str, model) -> None:
    """A request body schema says what its pydantic validator accepts."""
    schema = spec["components"]["schemas"][name]
    assert set(schema["properties"]) == set(model.model_fields)
    assert set(schema.get("required", [])) == {n for n, f in model.model_fields.items() if f.is_required()}
    assert schema["additionalProperties"] is False and model.model_config["extra"] == "forbid"


def route_contract(routes: list, spec: dict, api_prefix: str = "/p/api/v1") -> None:
    """A service's routes and its openapi.yaml agree: every route documented and every documented
    route served, the catch-all last, and every operation documents the 401 (when it needs a
    token) and the 404 (when its path has a parameter) it can answer."""
    assert served(routes, api_prefix) == documented(spec)
    catch_all_comes_last(routes, api_prefix)
    for path, item in spec["paths"].items():
        for operation in (v for k, v in item.items() if k != "parameters"):
            if operation.get("security", spec["security"]):
                assert "401" in operation["responses"], path
            if "{" in path:
                assert "404" in operation["responses"], path
