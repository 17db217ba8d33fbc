"""SearchIndex: word matching, ranking, facets, paging, the usable-by restriction and refused queries."""
from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from factoryhub.catalogue.index import MAX_QUERY_CHARS, MAX_QUERY_WORDS, QueryError, SearchIndex, words

from .builders import entry


def csv(location="/srv/t.csv"):
    return [{"title": "Table", "format": "csv", "location": location}]


def found(index: SearchIndex, query: str = "", **kwargs) -> list[str]:
    """The ids of every hit, best first."""
    results = index.search(query, limit=1000, **kwargs)
    assert results.total == len(results.ids)
    return [index.entries[i].id for i in results.ids]


@pytest.fixture(scope="module")
def mixed() -> SearchIndex:
    """Datasets and models across themes, formats and access levels."""
    return SearchIndex([
        entry("era5", title="ERA5 temperature reanalysis", themes=["ENVI"], keywords=["climate"],
              distributions=[{"title": "Cube", "format": "netcdf", "location": "/srv/era5.nc"}]),
        entry("energy", title="Hourly energy load", themes=["ENER", "ECON"], access="registered"),
        entry("xray", title="Chest X-ray cohort", themes=["HEAL"], access="restricted", groups=["medical-imaging"],
              distributions=[{"title": "Images", "format": "png", "location": "/srv/x"}, *csv()]),
        entry("genomes", title="Variant calls cohort", themes=["HEAL"], access="restricted", groups=["genomics"]),
        entry("minilm", kind="model", title="MiniLM sentence embeddings", themes=["TECH"],
              distributions=[{"title": "Weights", "format": "huggingface", "location": "/srv/minilm"}]),
        entry("llm", kind="model", title="Multilingual language model", themes=["TECH", "EDUC"], access="registered",
              licence="Apache-2.0", distributions=[{"title": "W", "format": "safetensors", "location": "/srv/llm"}]),
    ])


# --- words ---------------------------------------------------------------------------------------


def test_words_are_case_and_accent_insensitive_whatever_the_unicode_form():
    assert words("Météo-France, STRASSE Straße") == ["meteo", "france", "strasse", "strasse"]
    assert words("Me\u0301te\u0301o") == words("Météo") == words("METEO")  # decomposed and composed alike
    assert words("ﬁle №5") == ["file", "no5"]  # compatibility forms


@pytest.mark.parametrize("query, text", [("Météo", "meteo stations"), ("meteo", "Météo stations"),
                                         ("MÉTÉO", "météo stations"), ("ZURICH", "Zürich traffic"),
                                         ("strasse", "Straßenverkehr Straße")])
def test_words_match_case_and_accent_insensitively(query, text):
    index = SearchIndex([entry("hit", title=text), entry("miss", title="Rainfall gauges")])
    assert found(index, query) == ["hit"]


def test_every_query_word_must_match_somewhere_in_the_entry():
    index = SearchIndex([
        entry("both", title="Sensor readings"),
        entry("split", title="Sensor table", description="Daily readings from the plant."),
        entry("publisher", title="Sensor data", publisher={"name": "Readings office"}),
        entry("keyword", title="Sensor data set", keywords=["readings"]),
        entry("one", title="Sensor calibration"),
        entry("other", title="Meter readings")])
    assert sorted(found(index, "sensor readings")) == ["both", "keyword", "publisher", "split"]
    assert found(index, "sensor readings nonexistent") == []


def test_the_last_word_matches_as_a_prefix_and_the_others_whole():
    index = SearchIndex([entry("sensor", title="Sensor readings"), entry("sense", title="Common sense rules"),
                         entry("census", title="Census tables")])
    assert sorted(found(index, "sens")) == ["sense", "sensor"]
    assert found(index, "readings sens") == ["sensor"]
    assert found(index, "sens readings") == []  # "sens" is not a word of any entry
    assert found(index, "census") == ["census"]  # an exact word is its own prefix


def test_title_matches_rank_above_keyword_and_description_only_matches():
    index = SearchIndex([
        entry("in-description", title="Road counts",
              description="Loop detector counts of traffic at traffic lights."),
        entry("in-keywords", title="Munich loops", keywords=["traffic"]),
        entry("in-title", title="Traffic counts"),
        entry("in-publisher", title="Counts", publisher={"name": "Traffic office"}),
    ])
    ranked = found(index, "traffic")
    assert ranked[:2] == ["in-title", "in-keywords"]
    assert set(ranked[2:]) == {"in-description", "in-publisher"}
    assert found(index, "traf")[:2] == ["in-title", "in-keywords"]  # as a prefix too


def test_equal_scores_are_ordered_by_title():
    titles = ["beta data", "Alpha data", "gamma data"]
    index = SearchIndex([entry(f"e{n}", title=title) for n, title in enumerate(titles)])
    assert found(index, "data") == ["e1", "e0", "e2"]


# --- facets and filters --------------------------------------------------------------------------


def test_facets_count_the_filtered_results(mixed):
    everything = mixed.search()
    assert everything.facets == {
        "kind": {"dataset": 4, "model": 2},
        "access": {"open": 2, "registered": 2, "restricted": 2},
        "theme": {"ECON": 1, "EDUC": 1, "ENER": 1, "ENVI": 1, "HEAL": 2, "TECH": 2},
        "licence": {"Apache-2.0": 1, "CC0-1.0": 5},
        "format": {"csv": 3, "huggingface": 1, "netcdf": 1, "png": 1, "safetensors": 1},
    }
    models = mixed.search(filters={"kind": ["model"]})
    assert models.total == 2
    assert models.facets["kind"] == {"model": 2}  # values with no result are left out
    assert models.facets["theme"] == {"EDUC": 1, "TECH": 2}
    assert models.facets["format"] == {"huggingface": 1, "safetensors": 1}
    cohorts = mixed.search("cohort")
    assert cohorts.facets["access"] == {"restricted": 2} and cohorts.facets["theme"] == {"HEAL": 2}


def test_values_of_one_facet_are_alternatives_and_different_facets_all_apply(mixed):
    assert sorted(found(mixed, filters={"theme": ["HEAL", "ENER"]})) == ["energy", "genomes", "xray"]
    assert sorted(found(mixed, filters={"theme": ["HEAL", "ENER"], "access": ["registered"]})) == ["energy"]
    assert sorted(found(mixed, filters={"theme": ["TECH"], "kind": ["model"], "licence": ["Apache-2.0"]})) == ["llm"]
    assert found(mixed, filters={"theme": ["HEAL"], "kind": ["model"]}) == []
    assert found(mixed, filters={"theme": ["SPACE"]}) == []  # a value nobody has
    assert sorted(found(mixed, "cohort", filters={"format": ["png"]})) == ["xray"]


def test_an_unknown_facet_is_refused_naming_it(mixed):
    with pytest.raises(QueryError) as refused:
        mixed.search(filters={"colour": ["red"]})
    assert refused.value.field == "colour"
    assert "kind, access, theme, licence, format" in refused.value.reason


# --- no query, paging ----------------------------------------------------------------------------


def test_an_empty_query_returns_everything_sorted_by_title(mixed):
    expected = ["xray", "era5", "energy", "minilm", "llm", "genomes"]  # by title, case-insensitively
    assert found(mixed) == expected
    assert found(mixed, "   ") == expected
    assert found(mixed, filters={"kind": ["dataset"]}) == ["xray", "era5", "energy", "genomes"]
    fruit = SearchIndex([entry("b", title="banana"), entry("a", title="Apple"), entry("c", title="cherry")])
    assert found(fruit) == ["a", "b", "c"]  # not "A" < "b" < "c" by accident: upper case sorts first in ASCII


def test_an_empty_catalogue_finds_nothing():
    results = SearchIndex([]).search("anything")
    assert (results.total, results.ids) == (0, [])
    assert SearchIndex([]).search().total == 0


@pytest.fixture(scope="module")
def many() -> SearchIndex:
    """25 entries matching "plant", with a spread of scores and many ties."""
    return SearchIndex([entry(f"e{n:02}", title=f"Plant {n % 7} log" if n % 3 else f"Log {n % 5}",
                              description="Readings of the plant." * (1 + n % 2),
                              keywords=["plant"] if n % 4 else ["x"])
                        for n in range(25)])


@pytest.mark.parametrize("query, filters", [("", {}), ("plant", {}), ("", {"format": ["csv"]}), ("pla", {})])
def test_pages_are_stable_and_together_give_every_hit_once(many, query, filters):
    everything = many.search(query, filters, limit=100).ids
    assert len(everything) == 25
    pages = [many.search(query, filters, limit=10, offset=offset) for offset in (0, 10, 20)]
    assert [p.total for p in pages] == [25, 25, 25]
    assert [len(p.ids) for p in pages] == [10, 10, 5]
    assert [i for p in pages for i in p.ids] == everything
    assert many.search(query, filters, limit=10, offset=10).ids == pages[1].ids  # same page twice, same order
    beyond = many.search(query, filters, limit=10, offset=40)
    assert (beyond.total, beyond.ids) == (25, [])


# --- who may use what ----------------------------------------------------------------------------


@pytest.mark.parametrize("groups, steward, expected", [
    (frozenset(), False, ["energy", "era5", "llm", "minilm"]),
    (frozenset({"medical-imaging"}), False, ["energy", "era5", "llm", "minilm", "xray"]),
    (frozenset({"medical-imaging", "genomics", "unrelated"}), False,
     ["energy", "era5", "genomes", "llm", "minilm", "xray"]),
    (frozenset(), True, ["energy", "era5", "genomes", "llm", "minilm", "xray"]),
])
def test_usable_by_gives_open_registered_and_the_viewers_restricted_entries(mixed, groups, steward, expected):
    mask = mixed.usable_by(groups, everything=steward)
    assert sorted(found(mixed, within=mask)) == expected


def test_within_restricts_results_and_facets(mixed):
    results = mixed.search("cohort", within=mixed.usable_by(frozenset({"genomics"})))
    assert [mixed.entries[i].id for i in results.ids] == ["genomes"]
    assert results.total == 1 and results.facets["access"] == {"restricted": 1}
    assert mixed.search(within=0).total == 0


# --- refused and odd queries ---------------------------------------------------------------------


def test_a_query_at_the_limits_is_searched_and_one_over_is_refused(mixed):
    mixed.search("a" * MAX_QUERY_CHARS)
    mixed.search(" ".join(["cohort"] * MAX_QUERY_WORDS))
    for query, fragment in [("a" * (MAX_QUERY_CHARS + 1), f"at most {MAX_QUERY_CHARS}"),
                            (" ".join(["cohort"] * (MAX_QUERY_WORDS + 1)), f"at most {MAX_QUERY_WORDS}"),
                            ("-".join(["x"] * (MAX_QUERY_WORDS + 1)), "words")]:
        with pytest.raises(QueryError) as refused:
            mixed.search(query)
        assert refused.value.field == "q" and fragment in refused.value.reason


@pytest.mark.parametrize("query", ["<script>alert('x')</script>", "'; DROP TABLE entries; --", "%s %(q)s {0} {q}",
                                   "cohort\x00", "\u202ecohort\u202c", "🙂 cohort", "\u0301\u0301", "\ufdfa",
                                   "a\\b*c?[d]", "((((", "\ud800", "NOT cohort OR", "   \t\n  "])
def test_markup_and_odd_unicode_are_just_text(mixed, query):
    results = mixed.search(query)
    assert 0 <= results.total <= len(mixed.entries)
    hits = {mixed.entries[i].id for i in results.ids}
    if "cohort" in words(query):
        assert hits <= {"xray", "genomes"}


def test_markup_is_matched_as_the_words_inside_it():
    index = SearchIndex([entry("tagged", title="Script library", description="Bold <b>claims</b> here."),
                         entry("plain", title="Library")])
    assert found(index, "<b>claims</b>") == ["tagged"]
    assert found(index, "<script>") == ["tagged"]


# --- properties ----------------------------------------------------------------------------------

VOCABULARY = ["Météo", "meteo", "Straße", "strasse", "traffic", "TRAF", "cohort", "Zürich", "zur", "x",
              "readings", "read", "ÉCOLE", "ecole", "données", "ﬁle", "file", "a", "i"]
CORPUS = SearchIndex([
    entry("e0", title="Météo stations of Zürich", description="Hourly readings from école roofs.",
          keywords=["weather", "données"]),
    entry("e1", title="Traffic loop counts", description="Straße by straße, read out hourly."),
    entry("e2", title="Ecole cohort", description="Pupils' file of readings.", publisher={"name": "Zur Stadt"}),
    entry("e3", title="Strasse traffic météo", description="A mix of everything: x and i.", keywords=["cohort"]),
    entry("e4", title="Unrelated archive", description="Nothing in common with the rest."),
])


def indexed_words(e) -> list[str]:
    return words(" ".join([e.title, " ".join(e.keywords), e.publisher.name, e.description]))


def brute_force(query: str) -> set[str]:
    terms = words(query)
    hits = set()
    for e in CORPUS.entries:
        text = indexed_words(e)
        if all(t in text for t in terms[:-1]) and (not terms or any(w.startswith(terms[-1]) for w in text)):
            hits.add(e.id)
    return hits


queries = st.lists(st.one_of(st.sampled_from(VOCABULARY), st.text(max_size=6)), max_size=5).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(queries)
def test_search_finds_exactly_the_entries_that_contain_every_query_word(query):
    assume(len(query) <= MAX_QUERY_CHARS and len(words(query)) <= MAX_QUERY_WORDS)
    results = CORPUS.search(query, limit=100)
    assert {CORPUS.entries[i].id for i in results.ids} == brute_force(query)
    assert results.total == len(results.ids)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=MAX_QUERY_CHARS))
def test_search_never_raises_for_any_text_within_the_limits(query):
    assume(len(words(query)) <= MAX_QUERY_WORDS)
    results = CORPUS.search(query, limit=5)
    assert len(results.ids) <= 5 and results.total <= len(CORPUS.entries)
