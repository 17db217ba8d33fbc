"""Who may use and request which entry, what each viewer is shown, and the loader snippets."""
from __future__ import annotations

import ast
import hashlib
import json

import pytest

from factoryhub.catalogue.access import (
    ANONYMOUS,
    LAWFUL_BASIS_TEXT,
    Viewer,
    details,
    may_request,
    may_use,
    summary,
    terms_digest,
    terms_text,
)
from factoryhub.catalogue.snippets import distribution_snippets, entry_snippets

from .builders import entry

SECRET = "/srv/factoryhub/restricted/x-7f3a9c/images"  # a location no other field mentions

VIEWERS = {
    "anonymous": ANONYMOUS,
    "user": Viewer("alice"),
    "member": Viewer("bob", frozenset({"radiology", "medical-imaging"})),
    "other group": Viewer("carol", frozenset({"genomics"})),
    "steward": Viewer("sue", steward=True),
}
# access -> viewer -> (may_use, may_request)
MATRIX = {
    "open": {"anonymous": (True, False), "user": (True, False), "member": (True, False),
             "other group": (True, False), "steward": (True, False)},
    "registered": {"anonymous": (False, False), "user": (True, False), "member": (True, False),
                   "other group": (True, False), "steward": (True, False)},
    "restricted": {"anonymous": (False, False), "user": (False, True), "member": (True, False),
                   "other group": (False, True), "steward": (True, False)},
}
CASES = [(access, viewer, *outcome) for access, row in MATRIX.items() for viewer, outcome in row.items()]


def of(access: str, **changes):
    return entry(f"{access}-entry", access=access,
                 distributions=[{"title": "Images", "format": "png", "location": SECRET},
                                {"title": "Index", "format": "csv", "location": SECRET + "/index.csv"}],
                 **({"groups": ["medical-imaging", "ct"], "terms": "Use only within the approved project."}
                    if access == "restricted" else {}), **changes)


@pytest.mark.parametrize("access, viewer, usable, requestable", CASES, ids=[f"{a}-{v}" for a, v, *_ in CASES])
def test_who_may_use_and_who_may_request(access, viewer, usable, requestable):
    assert may_use(of(access), VIEWERS[viewer]) is usable
    assert may_request(of(access), VIEWERS[viewer]) is requestable


@pytest.mark.parametrize("access, viewer, usable, requestable", CASES, ids=[f"{a}-{v}" for a, v, *_ in CASES])
def test_details_show_locations_exactly_to_who_may_use_the_entry(access, viewer, usable, requestable):
    shown = details(of(access, issued="2024-01-02"), VIEWERS[viewer])
    text = json.dumps(shown, default=str)  # as the API sends it
    assert ("x-7f3a9c" in text) is usable
    assert (shown["usable"], shown["requestable"]) == (usable, requestable)
    assert [d.get("location") for d in shown["distributions"]] == \
        ([SECRET, SECRET + "/index.csv"] if usable else [None, None])
    assert [d["title"] for d in shown["distributions"]] == ["Images", "Index"]  # that they exist is no secret


@pytest.mark.parametrize("access", MATRIX)
def test_a_summary_never_has_locations(access):
    assert "x-7f3a9c" not in json.dumps(summary(of(access)))


def test_terms_name_the_licence_the_lawful_basis_and_the_retention_of_personal_data():
    personal = of("restricted", licence="LicenseRef-hospital-agreement", personal_data=True,
                  lawful_basis="public-task", retention="P5Y after the study ends")
    text = terms_text(personal)
    assert text.startswith("Use only within the approved project.")
    assert "Licence: LicenseRef-hospital-agreement" in text
    assert LAWFUL_BASIS_TEXT["public-task"] in text and "GDPR Art. 6(1)(e)" in text
    assert "P5Y after the study ends" in text
    assert personal.intended_use in text

    plain = terms_text(of("restricted", licence="CC-BY-4.0"))
    assert "Licence: CC-BY-4.0" in plain and "personal data" not in plain


def test_details_carry_the_terms_and_their_digest_for_a_restricted_entry():
    restricted = of("restricted", personal_data=True, lawful_basis="consent", retention="P10Y")
    shown = details(restricted, VIEWERS["user"])
    assert shown["terms"] == terms_text(restricted)
    assert shown["terms_sha256"] == terms_digest(shown["terms"]) == hashlib.sha256(shown["terms"].encode()).hexdigest()
    assert terms_digest(terms_text(of("restricted", retention="P11Y", personal_data=True,
                                      lawful_basis="consent"))) != shown["terms_sha256"]  # other terms, other digest


# --- snippets ------------------------------------------------------------------------------------

ODD_PATH = "/srv/data/o'brien's \"quoted\" {path} {0} back\\slash/ümlaut\nline/file"
DATA_LIBRARIES = {
    "csv": {"pandas", "cudf", "dask"}, "parquet": {"pandas", "cudf", "dask"}, "json": {"pandas", "cudf"},
    "jsonl": {"pandas", "cudf", "dask"}, "netcdf": {"xarray", "dask"}, "zarr": {"xarray"},
    "hdf5": {"pandas", "h5py"}, "tiff": {"rasterio"},
}


def literal_strings(code: str) -> list[str]:
    """The string literals of ``code``, which must be valid Python."""
    compile(code, "<snippet>", "exec")
    return [node.value for node in ast.walk(ast.parse(code))
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def one_distribution(kind: str, fmt: str, location: str):
    e = entry("snippet-entry", kind=kind, distributions=[{"title": "D", "format": fmt, "location": location}])
    return e, e.distributions[0]


@pytest.mark.parametrize("fmt", DATA_LIBRARIES)
@pytest.mark.parametrize("location", ["/srv/factoryhub/datasets/plain/file", ODD_PATH], ids=["plain", "odd"])
def test_data_snippets_open_the_path_as_a_python_literal(fmt, location):
    snippets = distribution_snippets(*one_distribution("dataset", fmt, location))
    assert set(snippets) == DATA_LIBRARIES[fmt]
    for library, code in snippets.items():
        assert location in literal_strings(code), (library, code)
        assert location not in code.replace(repr(location), "")  # never pasted raw


@pytest.mark.parametrize("location", ["/srv/factoryhub/models/all-MiniLM-L6-v2", ODD_PATH], ids=["plain", "odd"])
def test_a_huggingface_model_gets_sentence_transformers_and_transformers_snippets_that_stay_offline(location):
    snippets = distribution_snippets(*one_distribution("model", "huggingface", location))
    assert set(snippets) == {"sentence-transformers", "transformers"}
    assert "SentenceTransformer(" in snippets["sentence-transformers"]
    assert "AutoTokenizer.from_pretrained(" in snippets["transformers"]
    assert "AutoModel.from_pretrained(" in snippets["transformers"]
    for code in snippets.values():
        assert location in literal_strings(code)
        tree = ast.parse(code)
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and n.args]
        assert calls and all(any(k.arg == "local_files_only" and k.value.value is True for k in c.keywords)
                             for c in calls)


@pytest.mark.parametrize("fmt, library", [("safetensors", "safetensors"), ("pytorch", "torch"),
                                          ("onnx", "onnxruntime")])
def test_model_weight_files_get_their_loader(fmt, library):
    snippets = distribution_snippets(*one_distribution("model", fmt, ODD_PATH))
    assert set(snippets) == {library}
    assert ODD_PATH in literal_strings(snippets[library])


def test_a_model_entrys_data_file_gets_the_data_snippets():
    snippets = distribution_snippets(*one_distribution("model", "csv", "/srv/models/eval.csv"))
    assert set(snippets) == DATA_LIBRARIES["csv"]


@pytest.mark.parametrize("kind, fmt", [("dataset", "tar"), ("dataset", "zip"), ("dataset", "png"),
                                       ("model", "tar"), ("dataset", "huggingface")])
def test_formats_without_a_loader_get_no_snippet(kind, fmt):
    assert distribution_snippets(*one_distribution(kind, fmt, "/srv/archive.tar")) == {}


def test_entry_snippets_list_every_distribution_in_order():
    e = entry("mixed", distributions=[{"title": "Archive", "format": "tar", "location": "/srv/a.tar"},
                                      {"title": "Table", "format": "parquet", "location": "/srv/t.parquet"}])
    listed = entry_snippets(e)
    assert [(s["distribution"], s["format"]) for s in listed] == [("Archive", "tar"), ("Table", "parquet")]
    assert listed[0]["snippets"] == {} and set(listed[1]["snippets"]) == DATA_LIBRARIES["parquet"]
