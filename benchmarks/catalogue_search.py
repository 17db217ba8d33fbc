#!/usr/bin/env python3
"""Catalogue search and reload at AI-Factory scale, beside a linear scan, in one run.

    .venv/bin/python benchmarks/catalogue_search.py [--entries 10000] [--queries 2000]
        [--seed 2026] [--profile]

Writes --entries generated entry files (seeded: kinds, access levels with groups, themes,
licences, formats, 1-4 distributions, keywords and text drawn Zipf-like from a vocabulary of
5,000 words) into a temporary folder, checks that they all load without a problem, and prints:
  - the loader: a cold load (new CatalogueLoader), a reload with nothing changed and one after
    10 files changed (median of 3 each), beside the baseline's "reload": read every file again;
  - search latency (limit 20) per kind of query in a realistic mix, p50 / p99 / max, for
    SearchIndex.search and for the BASELINE, a linear scan with no index (LinearScan below),
    and how often both find the same number of entries.
--profile adds cProfile top lists for a reload with nothing changed and for the slowest kind.
Files are read from the page cache (they were just written): the figures are CPU, not disk.
"""
from __future__ import annotations

import argparse
import bisect
import cProfile
import datetime as dt
import heapq
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from factoryhub.catalogue.catalogue import CatalogueLoader  # noqa: E402
from factoryhub.catalogue.entries import entry_files, load_entry  # noqa: E402
from factoryhub.catalogue.index import FACETS, SearchIndex, facet_values, words  # noqa: E402

LIMIT, DEEP_OFFSET, CHANGED_FILES, RUNS = 20, 200, 10, 3
THEMES = ["ENVI", "TECH", "HEAL", "ECON", "TRAN", "ENER", "SOCI", "GOVE", "EDUC", "AGRI", "REGI", "JUST",
          "INTR", "OP_DATPRO"]
LICENCES = ["CC-BY-4.0", "CC-BY-SA-4.0", "CC0-1.0", "Apache-2.0", "MIT", "ODbL-1.0", "CC-BY-NC-4.0",
            "LicenseRef-research-only", "LicenseRef-hospital-research-data-agreement", "GPL-3.0-only", "BSD-3-Clause",
            "LicenseRef-copernicus", "CC-BY-NC-SA-4.0", "OpenRAIL-M", "Llama-3.1-community"]
DATA_FORMATS = ["csv", "parquet", "json", "jsonl", "netcdf", "zarr", "hdf5", "tiff", "png", "jpeg", "txt", "tar",
                "zip"]
MODEL_FORMATS = ["safetensors", "huggingface", "pytorch", "onnx"]
GROUPS = ["medical-imaging", "genomics", "finance-risk", "mobility-lab", "energy-grid", "speech-nlp", "earth-obs",
          "public-sector", "robotics", "materials"] + [f"project-{n:04d}" for n in range(30)]
# the common words of the domain take the top ranks; accented ones test normalisation
DOMAIN = """data dataset model models climate satellite images image text speech corpus energy traffic sensor
hourly daily monthly annual europe european national regional city urban rural health hospital patients clinical
genomics variants sequencing protein cells microscopy radiology imaging training evaluation benchmark language
multilingual translation embeddings transformer language-model weights fine-tuned pretrained classification
detection segmentation forecasting regression time series tabular records transactions fraud finance market prices
weather temperature precipitation wind solar grid load consumption household industry manufacturing quality
inspection defects robot robotics trajectories lidar camera video audio recordings transcripts parliament
speeches news articles web crawl documents legal court decisions patents scientific papers abstracts code
repositories software logs network security anomaly sensors vibration machines maintenance agriculture crops soil
yield land cover forest water rivers ocean sea ice snow air pollution emissions carbon mobility vehicles roads
counts stations survey census population demographics education students schools employment labour tourism
hotels retail customers tickets support sentiment reviews social media posts chat dialogue questions answers
knowledge graph entities ontology chemistry molecules materials physics simulation particles astronomy galaxies
spectra cohort biobank pseudonymised anonymised synthetic augmented labelled annotated curated raw processed
aggregated gridded reanalysis observations measurements validation test split release version archive
météo zürich données straße münchen ñandú são kraków île genève""".split()
STOP = "the of and in for with from to on by as at per is are a an or".split()
ONSETS = "b br c ch d dr f fl g gr h k kl l m n p pl pr r s sk st t tr v w z".split()
VOWELS = "a e i o u a e i o ai ea io ou".split()
CODAS = ["", "", "n", "r", "s", "l", "t", "m", "nd", "st", "x"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))]


# --- entries --------------------------------------------------------------------------------

class Corpus:
    """The vocabulary in rank order, and Zipf-like draws from it (weight 1 / rank^1.2)."""

    def __init__(self, rng: random.Random, size: int = 5000):
        self.rng, self.vocab = rng, list(dict.fromkeys(DOMAIN))
        rng.shuffle(self.vocab)
        seen = set(self.vocab)
        while len(self.vocab) < size:
            word = "".join(rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)
                           for _ in range(rng.choice((1, 2, 2, 3, 3, 4))))
            if len(word) >= 3 and word not in seen:
                seen.add(word)
                self.vocab.append(word)
        self.cum, total = [], 0.0
        for rank in range(1, size + 1):
            total += rank ** -1.2
            self.cum.append(total)

    def draw(self, k: int) -> list[str]:
        return self.rng.choices(self.vocab, cum_weights=self.cum, k=k)

    def text(self, low: int, high: int) -> str:
        out, n = [], self.rng.randint(low, high)
        while len(out) < n:
            sentence = [self.rng.choice(STOP) if self.rng.random() < .25 else w
                        for w in self.draw(self.rng.randint(6, 16))]
            if self.rng.random() < .3:
                sentence.insert(self.rng.randrange(len(sentence)), f"{self.rng.randint(2, 99_999):,}")
            out += [sentence[0].capitalize()] + sentence[1:-1] + [sentence[-1] + "."]
        return " ".join(out[:n]).rstrip(".") + "."


def day(rng: random.Random, first: int, last: int) -> dt.date:
    return dt.date(first, 1, 1) + dt.timedelta(days=rng.randrange((dt.date(last, 12, 31) - dt.date(first, 1, 1)).days))


def provenance(corpus: Corpus, issued: dt.date) -> dict:
    """Structured provenance as curators write it: 1-3 sources, 0-5 steps, a curator, sometimes a statement."""
    rng = corpus.rng
    doc = {"sources": [{"name": corpus.text(3, 8).rstrip("."), "licence": rng.choice(LICENCES),
                        "collected": (issued - dt.timedelta(days=rng.randrange(1, 200))).isoformat()}
                       for _ in range(rng.randint(1, 3))],
           "steps": [{"action": corpus.text(4, 12), "tool": rng.choice(["pandas", "xarray", "cdo", "rasterio"]),
                      "version": f"{rng.randint(1, 3)}.{rng.randint(0, 12)}.{rng.randint(0, 9)}"}
                     for _ in range(rng.randint(0, 5))],
           "curated_by": {"name": "FactoryHub data desk"}, "curated_on": issued.isoformat()}
    if rng.random() < .3:
        doc["statement"] = corpus.text(8, 20)
    return doc


def entry_document(corpus: Corpus, publishers: list[str]) -> dict:
    rng = corpus.rng
    kind = "model" if rng.random() < .2 else "dataset"
    access = rng.choices(["open", "registered", "restricted"], (50, 30, 20))[0]
    personal = rng.random() < (.6 if access == "restricted" else .05)
    keywords = list(dict.fromkeys(" ".join(corpus.draw(rng.choice((1, 1, 2)))) for _ in range(rng.randint(3, 10))))
    doc = {"kind": kind, "title": corpus.text(3, 10).rstrip(".").replace(". ", " "),
           "description": corpus.text(50, 200), "keywords": keywords,
           "themes": list(dict.fromkeys(rng.choices(THEMES, [2 ** -(i / 3) for i in range(len(THEMES))],
                                                    k=rng.randint(1, 3)))),
           "publisher": {"name": rng.choice(publishers)},
           "contact_point": {"name": "FactoryHub data desk", "email": f"desk{rng.randrange(40)}@ai-factory.example.eu"},
           "licence": rng.choices(LICENCES, [1 / (i + 1) for i in range(len(LICENCES))])[0], "access": access}
    if rng.random() < .5:
        doc["publisher"]["url"] = f"https://{doc['publisher']['name'].split()[0].lower()}.example.org/"
    if access == "restricted":
        doc["groups"] = rng.sample(GROUPS, rng.randint(1, 3))
        doc["terms"] = corpus.text(15, 60)
    doc["personal_data"] = personal
    if personal:
        doc["lawful_basis"] = rng.choice(["consent", "public-task", "legitimate-interests", "contract"])
        doc["retention"] = f"P{rng.randint(1, 10)}Y from issue"
    doc["issued"] = issued = day(rng, 2018, 2025)
    if rng.random() < .6:
        doc["modified"] = issued + dt.timedelta(days=rng.randrange(1, 400))
    if kind == "dataset" and rng.random() < .7:
        start = day(rng, 1990, 2023)
        doc["temporal"] = {"start": start, "end": start + dt.timedelta(days=rng.randrange(30, 9000))}
    if rng.random() < .4:
        doc["spatial"] = [{"name": n.capitalize()} for n in dict.fromkeys(corpus.draw(rng.randint(1, 3)))]
    doc["provenance"] = provenance(corpus, issued)
    for field in ("intended_use", "limitations"):
        doc[field] = corpus.text(15, 60)
    if kind == "model":
        doc["model"] = {"family": rng.choice(["Llama", "Mistral", "BERT", "ViT", "Whisper", "T5"]),
                        "parameters": rng.randint(10**6, 7 * 10**10), "task": rng.choice(["text-generation",
                                                                                         "sentence-embedding",
                                                                                         "image-classification"])}
    formats = MODEL_FORMATS if kind == "model" else DATA_FORMATS
    doc["distributions"] = [{"title": corpus.text(2, 6).rstrip("."), "format": rng.choice(formats),
                             "byte_size": rng.randint(10**3, 10**12),
                             "location": f"/srv/factoryhub/{access}/{'/'.join(corpus.draw(2))}/part-{n}"}
                            for n in range(rng.choices((1, 2, 3, 4), (40, 30, 20, 10))[0])]
    return doc


def write_entries(folder: Path, n: int, corpus: Corpus) -> dict[Path, dict]:
    publishers = [" ".join(w.capitalize() for w in corpus.draw(corpus.rng.randint(1, 3))) + " " +
                  corpus.rng.choice(["University", "Institute", "Agency", "Lab", "Centre", "Office", "Consortium"])
                  for _ in range(200)]
    documents = {}
    for i in range(n):
        doc = entry_document(corpus, publishers)
        slug = "-".join(w for w in words(doc["title"])[:4] if w.isascii())[:60]
        path = folder / f"shelf-{i % 25:02d}" / f"{slug}-{i:05d}.yaml"
        path.parent.mkdir(exist_ok=True)
        path.write_text(yaml.dump(doc, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True, width=100))
        documents[path] = doc
    return documents


# --- the baseline -----------------------------------------------------------------------------

class LinearScan:
    """BASELINE: no index. Each entry's searchable fields are normalised once per snapshot
    (with the index's own words(), so both see the same words); a query then tests every query
    word with `in` against every entry's text (whole words, the last one as a prefix, as the
    index matches), checks facets and groups entry by entry, counts facets by iterating the
    hits, and ranks by the fields a word occurs in (title 4, keywords 3, publisher and
    description 1)."""

    WEIGHTS = (("title", 4), ("keywords", 3), ("publisher", 1), ("description", 1))

    def __init__(self, entries):
        self.rows = []
        for e in entries:
            fields = {"title": e.title, "keywords": " ".join(e.keywords), "publisher": e.publisher.name,
                      "description": e.description}
            fields = {name: f" {' '.join(words(text))} " for name, text in fields.items()}
            self.rows.append(("".join(fields.values()), fields, facet_values(e), e.access, frozenset(e.groups),
                              e.title.casefold()))

    def search(self, query: str, filters: dict, groups: frozenset | None, limit: int, offset: int):
        terms = words(query)
        needles = [f" {w} " for w in terms[:-1]] + [f" {w}" for w in terms[-1:]]
        hits = []
        for i, (text, _, facets, access, entry_groups, _) in enumerate(self.rows):
            if not all(n in text for n in needles):
                continue
            if groups is not None and access == "restricted" and not entry_groups & groups:
                continue
            if filters and not all(any(v in facets[f] for v in wanted) for f, wanted in filters.items()):
                continue
            hits.append(i)
        counts = {facet: Counter() for facet in FACETS}
        for i in hits:
            for facet, values in self.rows[i][2].items():
                counts[facet].update(values)
        ranked = ((-sum(w for name, w in self.WEIGHTS for n in needles if n in self.rows[i][1][name]),
                   self.rows[i][5], i) for i in hits)
        page = [i for *_, i in heapq.nsmallest(offset + limit, ranked)][offset:]
        return len(hits), page, counts


# --- queries ----------------------------------------------------------------------------------

def document_frequency(entries) -> Counter:
    """In how many entries each indexed word occurs (the words the index sees)."""
    df = Counter()
    for e in entries:
        df.update(set(words(" ".join((e.title, " ".join(e.keywords), e.publisher.name, e.description)))))
    return df


def query_mix(corpus: Corpus, entries, df: Counter, n: int) -> list[dict]:
    """About n queries, an equal share per kind; every kind draws from the generated data."""
    rng = corpus.rng
    texts = [words(e.title + " " + " ".join(e.keywords)) for e in entries]
    common = [w for w, _ in df.most_common(300) if w not in STOP][:100]
    rare = [w for _, w in sorted((c, w) for w, c in df.items() if not w.isdigit() and len(w) > 3)[:300]]
    vocabulary = sorted(df)
    seen = {f: sorted({v for e in entries for v in facet_values(e)[f]}) for f in FACETS}

    def facets(k: int) -> dict:  # an entry's own values, sometimes or'ed with another value
        own = facet_values(rng.choice(entries))
        return {f: [own[f][0]] + ([rng.choice(seen[f])] if rng.random() < .3 else [])
                for f in rng.sample(FACETS, k)}

    def phrase(k: int) -> str:
        own = rng.choice(texts)
        return " ".join(rng.sample(own, min(k, len(own)))) if rng.random() < .5 else " ".join(corpus.draw(k))

    def zero_hit() -> str:
        while True:
            word = "".join(rng.choice("qxzjkvw") + rng.choice("aeiouy") for _ in range(rng.randint(3, 5)))
            i = bisect.bisect_left(vocabulary, word)
            if i == len(vocabulary) or not vocabulary[i].startswith(word):
                return word if rng.random() < .6 else f"{rng.choice(common)} {word}"

    share = max(1, -(-n // 9))  # at least n in all
    out: list[dict] = []

    def add(kind: str, q: str = "", filters: dict | None = None, groups: frozenset | None = None, offset: int = 0):
        out.append({"kind": kind, "q": q, "filters": filters or {}, "groups": groups, "offset": offset})

    for _ in range(share):
        add("single common word", rng.choice(common))
        add("single rare word", rng.choice(rare))
        add("two or three words", phrase(rng.choice((2, 2, 3))))
        add("facets only, no words", filters=facets(rng.choice((1, 1, 2))))
        add("words + facets", rng.choice((rng.choice(common), phrase(2))), facets(rng.choice((1, 2))))
        add("usable only (usable_by)", rng.choice(("", rng.choice(common), phrase(2))),
            groups=frozenset(rng.sample(GROUPS, rng.choice((0, 1, 1, 2, 3)))))
        add(f"deep page (offset {DEEP_OFFSET})", rng.choice(("", rng.choice(common[:30]))), offset=DEEP_OFFSET)
        add("zero hits", zero_hit())
    typed = 0
    while typed < share:  # search as you type: every prefix of a word, sometimes after a full word
        word = rng.choice([w for w in corpus.draw(5) if len(w) >= 4] or ["climate"])
        lead = rng.choice(common) + " " if rng.random() < .3 else ""
        for end in range(1, len(word) + 1):
            add("prefix, as typed", lead + word[:end])
            typed += 1
    return out


# --- measuring --------------------------------------------------------------------------------

def median_time(action, runs: int = RUNS, before=None) -> float:
    times = []
    for _ in range(runs):
        if before:
            before()
        t = time.perf_counter()
        action()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def load_figures(folder: Path, documents: dict[Path, dict], corpus: Corpus, n: int) -> tuple[dict, object]:
    box = {}

    def cold():
        box["loader"] = CatalogueLoader(folder)
        box["catalogue"] = box["loader"].load()

    figures = {"cold load (new CatalogueLoader, load())": median_time(cold)}
    catalogue = box["catalogue"]
    if catalogue.problems or catalogue.notices or len(catalogue.entries) != n:
        for problem in (*catalogue.problems, *catalogue.notices)[:10]:
            print(problem.describe(), file=sys.stderr)
        sys.exit(f"generated entries do not all load cleanly: {len(catalogue.entries)} of {n}, "
                 f"{len(catalogue.problems)} problems, {len(catalogue.notices)} notices")
    loader = box["loader"]
    figures["reload, nothing changed"] = median_time(loader.load)

    def change_files():
        for path in corpus.rng.sample(sorted(documents), CHANGED_FILES):
            documents[path]["description"] += " " + corpus.text(5, 20)
            path.write_text(yaml.dump(documents[path], Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True))

    box["changed"] = []
    figures[f"reload after changing {CHANGED_FILES} files"] = median_time(
        lambda: box["changed"].append(loader.load()), before=change_files)
    assert all(len(c.entries) == n and not c.problems for c in box["changed"])
    entries = catalogue.entries
    figures["  of which: SearchIndex(entries), the index build"] = median_time(lambda: SearchIndex(entries))
    baseline = {"read and parse every file again (no cache)": median_time(
        lambda: [load_entry(p) for p in entry_files(folder)]),
        "normalise every entry's text (LinearScan build)": median_time(lambda: LinearScan(entries))}
    return {"CatalogueLoader": figures, "baseline": baseline}, loader


def run_queries(index: SearchIndex, scan: LinearScan, queries: list[dict]) -> dict[str, dict]:
    """Each query on the index (with usable_by, as the API calls it) and then on the baseline."""
    by_kind = {}
    for q in queries:
        t = time.perf_counter()
        within = index.usable_by(q["groups"]) if q["groups"] is not None else None
        found = index.search(q["q"], q["filters"], within, LIMIT, q["offset"])
        took = time.perf_counter() - t
        t = time.perf_counter()
        total, _, _ = scan.search(q["q"], q["filters"], q["groups"], LIMIT, q["offset"])
        took_scan = time.perf_counter() - t
        row = by_kind.setdefault(q["kind"], {"index": [], "scan": [], "hits": [], "same": 0})
        row["index"].append(took)
        row["scan"].append(took_scan)
        row["hits"].append(found.total)
        row["same"] += found.total == total
    return by_kind


class LoadWatch:
    """Samples the 1-minute load average every few seconds: this process counts 1, the rest
    is other work on the machine (printed, because it stretches the figures)."""

    def __init__(self, every: float = 5.0):
        self.samples, self.every, self.done = [os.getloadavg()[0]], every, threading.Event()
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        while not self.done.wait(self.every):
            self.samples.append(os.getloadavg()[0])

    def report(self) -> str:
        self.done.set()
        return (f"1-minute load average during the run: median {statistics.median(self.samples):.2f}, "
                f"max {max(self.samples):.2f} ({os.cpu_count()} CPUs; this benchmark itself is 1)")


def code_version() -> str:
    git = ["git", "-C", str(REPO)]
    commit = subprocess.run(git + ["log", "-1", "--format=%h"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(git + ["status", "--short", "extensions/catalogue"], capture_output=True, text=True).stdout
    return commit + (" + uncommitted changes in extensions/catalogue" if dirty.strip() else "")


def print_tables(figures: dict, by_kind: dict, entry_bytes: float, n: int, vocabulary: int) -> None:
    print(f"\nload and reload, {n} entry files of {entry_bytes / 1024:.1f} KiB on average, {vocabulary} distinct "
          f"words indexed (target reload < 2 s): median of {RUNS}, seconds")
    for who in ("CatalogueLoader", "baseline"):
        for what, seconds in figures[who].items():
            print(f"  {who:<16} {what:<54} {seconds:7.2f} s")
    total = sum(len(r["index"]) for r in by_kind.values())
    print(f"\nsearch latency, {total} queries, limit {LIMIT}: p50 / p99 / max in ms (target p99 < 20 ms); "
          f"hits: mean entries found; same: queries where both found as many entries")
    print(f"  {'kind':<28} {'n':>5} {'hits':>6}   {'SearchIndex.search':>24}   {'baseline: linear scan':>24} "
          f"{'same':>5}")
    overall = {k: [v for r in by_kind.values() for v in r[k]] for k in ("index", "scan", "hits")}
    overall["same"] = sum(r["same"] for r in by_kind.values())
    for kind, r in list(by_kind.items()) + [("all queries", overall)]:
        cells = [" / ".join(f"{v * 1000:6.1f}" for v in (pct(r[k], .5), pct(r[k], .99), max(r[k])))
                 for k in ("index", "scan")]
        print(f"  {kind:<28} {len(r['index']):5d} {statistics.mean(r['hits']):6.0f}   {cells[0]:>24}   "
              f"{cells[1]:>24} {r['same']:5d}")


def profile(title: str, action, lines: int = 14) -> None:
    print(f"\ncProfile, {title} (top {lines} by own time)")
    profiler = cProfile.Profile()
    profiler.runcall(action)
    pstats.Stats(profiler, stream=sys.stdout).strip_dirs().sort_stats("tottime").print_stats(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--profile", action="store_true", help="add cProfile top lists")
    args = parser.parse_args()
    print(f"catalogue search benchmark: {args.entries} entries, {args.queries} queries, seed {args.seed}; "
          f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start; "
          f"code: {code_version()}")
    watch, corpus = LoadWatch(), Corpus(random.Random(args.seed))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        documents = write_entries(Path(tmp), args.entries, corpus)
        print(f"[generated {args.entries} entry files in {time.perf_counter() - t:.0f} s]", file=sys.stderr, flush=True)
        figures, loader = load_figures(Path(tmp), documents, corpus, args.entries)
        catalogue = loader.load()
        df = document_frequency(catalogue.entries)
        queries = query_mix(corpus, list(catalogue.entries), df, args.queries)
        print(f"[loads measured; running {len(queries)} queries]", file=sys.stderr, flush=True)
        by_kind = run_queries(catalogue.index, LinearScan(catalogue.entries), queries)
        print_tables(figures, by_kind, sum(p.stat().st_size for p in documents) / len(documents), args.entries,
                     len(df))
        print(f"\n{watch.report()}")
        if args.profile:
            profile("a reload with nothing changed", loader.load)
            slowest = max(by_kind, key=lambda k: pct(by_kind[k]["index"], .99))
            chosen = [q for q in queries if q["kind"] == slowest]
            profile(f"SearchIndex.search, the {len(chosen)} queries of the slowest kind ({slowest})",
                    lambda: [catalogue.index.search(q["q"], q["filters"], None if q["groups"] is None else
                                                    catalogue.index.usable_by(q["groups"]), LIMIT, q["offset"])
                             for q in chosen])
    return 0


if __name__ == "__main__":
    sys.exit(main())
