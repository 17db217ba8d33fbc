"""factoryhub.catalogue.integrity on real files: digests as sha256sum computes them, the rules of a
directory's manifest, resuming from a journal, cancelling, and the states of a check."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading

import pytest

from factoryhub.catalogue import integrity
from factoryhub.catalogue.integrity import Cancelled, check_distribution, digest_path, manifest_changes


def tree(root, files: dict[str, bytes]):
    """``root`` holding ``files`` (relative path -> content)."""
    root.mkdir(parents=True, exist_ok=True)
    for rel, content in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    return root


def sha256sum_manifest(root) -> str:
    """The directory's digest as a steward computes it by hand (the docs' command line)."""
    listing = subprocess.run("find . -xtype f -printf '%P\\0' | LC_ALL=C sort -z | xargs -0 -r sha256sum",
                             shell=True, cwd=root, check=True, capture_output=True).stdout
    return hashlib.sha256(listing).hexdigest()


NESTED = {"a.csv": b"a,b\n1,2\n", "b/c.txt": b"x" * 3_000_000, "b/d/e.bin": bytes(range(256)) * 10,
          ".hidden": b"secret", "a-b": b"sorted before a/ by its bytes", "b/empty": b""}


@pytest.fixture
def nested(tmp_path):
    return tree(tmp_path / "nested", NESTED)


def test_a_file_digest_is_its_sha256(tmp_path):
    data = tmp_path / "data.bin"
    data.write_bytes(os.urandom(5_000_000))  # several buffers
    digest = digest_path(data)
    expected = subprocess.run(["sha256sum", str(data)], check=True, capture_output=True, text=True).stdout.split()[0]
    assert (digest.sha256, digest.kind, digest.files, digest.bytes, digest.manifest) == (
        expected, "file", 1, 5_000_000, None)


def test_a_directory_digest_is_the_sha256_of_its_sha256sum_manifest(nested):
    digest = digest_path(nested)
    assert digest.sha256 == sha256sum_manifest(nested)
    assert (digest.kind, digest.files, digest.bytes) == ("directory", len(NESTED), sum(map(len, NESTED.values())))
    assert [rel for rel, _ in digest.manifest] == [".hidden", "a-b", "a.csv", "b/c.txt", "b/d/e.bin", "b/empty"]
    assert dict(digest.manifest)["b/c.txt"] == hashlib.sha256(NESTED["b/c.txt"]).hexdigest()


def test_one_worker_and_four_give_the_same_digest(nested):
    assert digest_path(nested, workers=1) == digest_path(nested, workers=4)


def test_an_empty_directory_has_the_empty_manifest(tmp_path):
    digest = digest_path(tree(tmp_path / "empty", {}))
    assert (digest.sha256, digest.files, digest.bytes, digest.manifest) == (hashlib.sha256(b"").hexdigest(), 0, 0, ())


def test_unicode_names_are_hashed_as_their_utf8_bytes(tmp_path):
    root = tree(tmp_path / "unicode", {"é.csv": b"1", "日本/データ.txt": b"2", "z": b"3", "É": b"4"})
    digest = digest_path(root)
    assert digest.sha256 == sha256sum_manifest(root)
    assert [rel for rel, _ in digest.manifest] == ["z", "É", "é.csv", "日本/データ.txt"]  # byte order


def test_links_to_files_count_by_content_links_to_directories_and_special_files_do_not(tmp_path, nested):
    outside = tree(tmp_path / "outside", {"far.txt": b"far away"})
    plain = digest_path(nested)
    os.symlink(outside, nested / "linked-dir")  # not followed
    os.symlink(nested / "b" / "missing", nested / "broken")  # not a regular file
    os.mkfifo(nested / "fifo")  # never opened: reading it would wait forever
    assert digest_path(nested) == plain
    assert plain.sha256 == sha256sum_manifest(nested)
    os.symlink(outside / "far.txt", nested / "far-link")
    linked = digest_path(nested)
    assert dict(linked.manifest)["far-link"] == hashlib.sha256(b"far away").hexdigest()
    assert linked.files == plain.files + 1
    assert linked.sha256 == sha256sum_manifest(nested)  # the docs' command line agrees


def test_the_location_itself_may_be_a_link(tmp_path, nested):
    os.symlink(nested, tmp_path / "alias")
    assert digest_path(tmp_path / "alias") == digest_path(nested)


def test_one_changed_byte_an_added_and_a_removed_file_are_detected(nested):
    before = digest_path(nested)
    content = bytearray(NESTED["b/c.txt"])
    content[1_234_567] ^= 1
    (nested / "b" / "c.txt").write_bytes(bytes(content))
    (nested / "new.txt").write_bytes(b"new")
    (nested / "a.csv").unlink()
    after = digest_path(nested)
    assert after.sha256 != before.sha256
    assert manifest_changes(before.manifest, after.manifest) == {
        "changed": ["b/c.txt"], "added": ["new.txt"], "removed": ["a.csv"]}
    assert manifest_changes(after.manifest, after.manifest) == {"changed": [], "added": [], "removed": []}


class Counting:
    """Wraps integrity.hash_file: counts what is read, and after ``stop_after`` files sets ``cancel`` or raises."""

    def __init__(self, monkeypatch, stop_after: int | None = None, cancel: threading.Event | None = None):
        self.read: list[str] = []
        self.stop_after, self.cancel = stop_after, cancel
        self._real, self._lock = integrity.hash_file, threading.Lock()
        monkeypatch.setattr(integrity, "hash_file", self)

    def __call__(self, path, stopped):
        result = self._real(path, stopped)
        with self._lock:
            self.read.append(os.path.basename(path))
            if self.stop_after is not None and len(self.read) >= self.stop_after:
                if self.cancel is None:
                    raise RuntimeError("the process dies here")
                self.cancel.set()
        return result


def many(tmp_path, count: int = 12):
    return tree(tmp_path / "many", {f"part-{n:02}.bin": os.urandom(10_000 + n) for n in range(count)})


def journaled(journal) -> list[str]:
    lines = journal.read_text().splitlines()
    assert json.loads(lines[0])["format"].startswith("factoryhub-verify-journal")
    return [json.loads(line)["path"] for line in lines[1:]]


def test_a_cancelled_digest_resumes_from_its_journal_and_reads_only_what_it_had_not(tmp_path, monkeypatch):
    root, journal, cancel = many(tmp_path), tmp_path / "verify.journal", threading.Event()
    expected = digest_path(root)
    first = Counting(monkeypatch, stop_after=4, cancel=cancel)
    with pytest.raises(Cancelled):
        digest_path(root, workers=1, journal=journal, cancel=cancel)
    done = journaled(journal)
    assert 4 <= len(done) < 12 and len(first.read) < 12

    monkeypatch.undo()
    again = Counting(monkeypatch)
    assert digest_path(root, workers=3, journal=journal) == expected
    assert sorted(again.read) == sorted(set(os.listdir(root)) - set(done))  # nothing read twice
    assert not journal.exists()  # complete: deleted


def test_after_a_crash_a_file_changed_since_it_was_journaled_is_read_again(tmp_path, monkeypatch):
    root, journal = many(tmp_path), tmp_path / "verify.journal"
    Counting(monkeypatch, stop_after=3)
    with pytest.raises(RuntimeError, match="dies"):
        digest_path(root, workers=1, journal=journal)
    done = journaled(journal)
    assert done
    (root / done[0]).write_bytes(b"changed while the verification was down")
    monkeypatch.undo()
    again = Counting(monkeypatch)
    digest = digest_path(root, workers=2, journal=journal)
    assert done[0] in again.read and not set(done[1:]) & set(again.read)
    assert digest == digest_path(root)  # the changed file's new content, not the journal's


def test_a_journal_of_another_location_is_not_used(tmp_path, monkeypatch):
    root, other, journal = many(tmp_path), tree(tmp_path / "other", {"x": b"x"}), tmp_path / "verify.journal"
    Counting(monkeypatch, stop_after=3)
    with pytest.raises(RuntimeError):
        digest_path(root, workers=1, journal=journal)
    monkeypatch.undo()
    counted = Counting(monkeypatch)
    assert digest_path(other, journal=journal).files == 1
    assert counted.read == ["x"] and not journal.exists()


def test_a_torn_last_journal_line_is_skipped(tmp_path):
    root, journal = many(tmp_path, 3), tmp_path / "verify.journal"
    journal.write_text(json.dumps({"format": "factoryhub-verify-journal/1", "root": str(root)}) + '\n{"path": "par')
    assert digest_path(root, journal=journal) == digest_path(root)


def test_a_set_cancel_stops_before_reading(tmp_path, monkeypatch):
    cancel = threading.Event()
    cancel.set()
    counted = Counting(monkeypatch)
    with pytest.raises(Cancelled):
        digest_path(many(tmp_path), cancel=cancel)
    assert counted.read == []


def test_a_cancel_stops_a_large_file_within_a_block(tmp_path):
    data = tmp_path / "large.bin"
    data.write_bytes(bytes(8 * integrity.BUFFER_BYTES))
    cancel, blocks = threading.Event(), []

    def stopped():
        blocks.append(1)
        if len(blocks) == 2:
            cancel.set()
        return cancel.is_set()

    with pytest.raises(Cancelled, match="large.bin"):
        integrity.hash_file(str(data), stopped)
    assert len(blocks) == 2


def test_check_states_and_their_details(tmp_path, nested):
    good = digest_path(nested).sha256
    check = check_distribution(nested, good)
    assert (check.state, check.expected, check.observed, check.files) == ("verified", good, good, 6)
    assert check.detail == "6 files, 3.0 MB hashed; as curated" and check.manifest == digest_path(nested).manifest

    (nested / "a.csv").write_bytes(b"a,b\n1,3\n")
    check = check_distribution(nested, good)
    assert check.state == "changed" and check.observed != good
    assert check.detail == "6 files, 3.0 MB hashed; SHA-256 differs from the curated one"

    unchecked = check_distribution(nested / "a.csv", None)
    assert (unchecked.state, unchecked.files, unchecked.bytes) == ("unchecked", 1, 8)
    assert unchecked.detail == "1 file, 8 bytes hashed; no curated SHA-256 to compare with"

    assert check_distribution(tmp_path / "empty-dir-not-there", good).state == "missing"
    (tmp_path / "empty").mkdir()
    assert check_distribution(tmp_path / "empty", good).detail.startswith("an empty directory hashed")


def test_a_file_where_a_directory_was_curated_is_just_another_digest(tmp_path, nested):
    curated = digest_path(nested).sha256
    (tmp_path / "flat").write_bytes(b"flat")
    assert check_distribution(tmp_path / "flat", curated).state == "changed"


def test_missing_names_what_is_not_there(tmp_path):
    check = check_distribution(tmp_path / "gone", "0" * 64)
    assert (check.state, check.observed, check.detail) == ("missing", None, f"nothing at {tmp_path / 'gone'}")
    os.symlink(tmp_path / "gone", tmp_path / "link")
    assert check_distribution(tmp_path / "link", "0" * 64).detail == f"a broken link at {tmp_path / 'link'}"


def deny(monkeypatch, target):
    """Reading ``target`` fails as it does for a file the service may not read (tests may run as root)."""
    real_open = os.open

    def guarded(path, flags, *args, **kwargs):
        if os.fspath(path) == str(target):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(integrity.os, "open", guarded)


def test_an_unreadable_file_is_named_with_the_reason(tmp_path, nested, monkeypatch):
    deny(monkeypatch, nested / "b" / "c.txt")
    check = check_distribution(nested, "0" * 64, journal=tmp_path / "j")
    assert (check.state, check.observed) == ("unreadable", None)
    assert check.detail == f"cannot read {nested / 'b' / 'c.txt'}: Permission denied"


def test_a_directory_that_cannot_be_listed_is_named(nested, monkeypatch):
    real_scandir = os.scandir

    def guarded(path):
        if os.fspath(path) == str(nested / "b" / "d"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(integrity.os, "scandir", guarded)
    check = check_distribution(nested, "0" * 64)
    assert (check.state, check.detail) == ("unreadable", f"cannot read {nested / 'b' / 'd'}: Permission denied")


def test_workers_must_be_positive(nested):
    with pytest.raises(ValueError, match="workers"):
        digest_path(nested, workers=0)


def test_human_bytes():
    assert [integrity.human_bytes(n) for n in (0, 999, 1_200_000_000, 5 * 10**15)] == [
        "0 bytes", "999 bytes", "1.2 GB", "5000.0 TB"]
