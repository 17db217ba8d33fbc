"""The loader snippets' VERIFY flag: the generated standard-library check, executed on real files,
hashes as integrity.digest_path does and stops before the loader when the data changed."""
from __future__ import annotations

import os

import pytest

from factoryhub.catalogue.integrity import digest_path
from factoryhub.catalogue.snippets import VERIFY_CODE, VERIFY_FLAG, distribution_snippets

from .builders import entry


def snippets_for(location, sha256: str | None, fmt: str = "csv") -> dict[str, str]:
    dist = {"title": "Table", "format": fmt, "location": str(location), **({"sha256": sha256} if sha256 else {})}
    e = entry("verify-entry", distributions=[dist])
    return distribution_snippets(e, e.distributions[0])


def verify_function():
    """verify_sha256 as the generated code defines it (nothing of factoryhub in its namespace)."""
    namespace: dict = {}
    exec(compile(VERIFY_CODE, "<snippet>", "exec"), namespace)  # noqa: S102 (our own generated code)
    return namespace["verify_sha256"]


def run_up_to_the_loader(code: str, verify: bool | None = None) -> dict:
    """Run a snippet with its loader call replaced by a marker, optionally with the flag flipped."""
    head, _, _ = code.partition("import pandas as pd")
    if verify is not None:
        head = head.replace("VERIFY = True", f"VERIFY = {verify}", 1)
    namespace: dict = {}
    exec(compile(head + "loaded = True\n", "<snippet>", "exec"), namespace)  # noqa: S102
    return namespace


@pytest.fixture
def nested(tmp_path):
    root = tmp_path / "tables"
    for rel, content in {"a.csv": b"a,b\n1,2\n", "part/b.csv": b"x" * 2_500_000, "part/deeper/c": b"c",
                         ".hidden": b"h", "é/日本.csv": b"u", "a-b": b"-"}.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    os.symlink(root / "a.csv", root / "link.csv")
    os.symlink(root / "part", root / "linked-part")
    return root


def test_the_check_computes_integritys_digest_of_a_nested_tree_and_of_a_file(nested):
    verify = verify_function()
    verify(str(nested), digest_path(nested).sha256)
    verify(str(nested / "part" / "b.csv"), digest_path(nested / "part" / "b.csv").sha256)


def test_the_check_names_the_path_when_one_byte_changed(nested):
    verify, curated = verify_function(), digest_path(nested).sha256
    data = bytearray((nested / "part" / "b.csv").read_bytes())
    data[2_000_000] ^= 0x20
    (nested / "part" / "b.csv").write_bytes(bytes(data))
    with pytest.raises(RuntimeError, match=f"{nested} is not as curated.*{curated}"):
        verify(str(nested), curated)


def test_a_curated_distribution_gets_the_flag_first_and_the_check_before_the_loader(tmp_path):
    table = tmp_path / "table.csv"
    table.write_bytes(b"a,b\n1,2\n")
    sha256 = digest_path(table).sha256
    snippets = snippets_for(table, sha256)
    assert set(snippets) == {"pandas", "cudf", "dask"}
    for code in snippets.values():
        assert code.startswith(VERIFY_FLAG + "\n")
        assert f"if VERIFY:\n    verify_sha256({str(table)!r}, {sha256!r})\n" in code
        assert code.index("verify_sha256(") < code.index("read_csv(")
        compile(code, "<snippet>", "exec")
    assert "factoryhub" not in snippets["pandas"]
    assert run_up_to_the_loader(snippets["pandas"])["loaded"]


def test_changed_data_stops_the_snippet_before_the_loader_unless_verify_is_false(tmp_path):
    table = tmp_path / "table.csv"
    table.write_bytes(b"a,b\n1,2\n")
    code = snippets_for(table, digest_path(table).sha256)["pandas"]
    table.write_bytes(b"a,b\n1,3\n")
    with pytest.raises(RuntimeError, match="table.csv is not as curated"):
        run_up_to_the_loader(code)
    assert run_up_to_the_loader(code, verify=False)["loaded"]


def test_missing_data_is_named_by_the_check(tmp_path):
    code = snippets_for(tmp_path / "gone.csv", "0" * 64)["pandas"]
    with pytest.raises(FileNotFoundError, match="gone.csv"):
        run_up_to_the_loader(code)


def test_without_a_checksum_the_snippet_is_the_loader_alone(tmp_path):
    snippets = snippets_for(tmp_path / "table.csv", None)
    assert snippets["pandas"] == f"import pandas as pd\n\ndf = pd.read_csv({str(tmp_path / 'table.csv')!r})\n"
    assert all("VERIFY" not in code for code in snippets.values())
