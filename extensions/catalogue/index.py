"""Full-text search with facets over the catalogue, in memory.

Entries are numbered 0..n-1; every term and every facet value keeps the set of entries it
occurs in as one Python integer used as a bitset. A query is then a handful of ``&`` and
``|`` on integers, and a facet count is ``(result & value).bit_count()``: constant work per
facet value whatever the catalogue's size. Only the entries of the requested page are scored
in detail.

Queries: words are matched case- and accent-insensitively after Unicode normalisation; every
word must occur (AND) in the title, keywords, description or publisher; the last word also
matches as a prefix (search as you type; prefixes of up to three letters have their own
bitsets, longer ones expand to the few words they start). Ranking: per word, the best field it
occurs in (title over keywords over the rest — repeating a word does not count), weighted by
the word's rarity.
"""
from __future__ import annotations

import bisect
import heapq
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .entries import Entry

FACETS = ("kind", "access", "theme", "licence", "format")
MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 20
SHORT_PREFIX = 3  # prefixes up to this length are precomputed bitsets: exact, whatever the vocabulary
RANKED_EXPANSION = 200  # a prefix's words considered for ranking (matching uses all of them)
_WORD = re.compile(r"\w+")
_WEIGHTS = (("title", 4.0), ("keywords", 3.0), ("publisher", 1.0), ("description", 1.0))


class QueryError(ValueError):
    """A query this index refuses (names the parameter and the reason)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason


def words(text: str) -> list[str]:
    """Normalised words: NFKD, accents dropped, case-folded (so 'Météo' finds 'meteo')."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD.findall(plain.casefold())


def facet_values(entry: Entry) -> dict[str, tuple[str, ...]]:
    return {"kind": (entry.kind,), "access": (entry.access,), "theme": entry.themes,
            "licence": (entry.licence,), "format": entry.formats}


@dataclass(frozen=True)
class Results:
    total: int
    ids: list[int]  # positions of the page's entries, best first
    facets: dict[str, dict[str, int]]


def _bits(mask: int):
    """Positions of the set bits, lowest first."""
    text = bin(mask)[:1:-1]
    return (m.start() for m in re.finditer("1", text))


class SearchIndex:
    def __init__(self, entries: Sequence[Entry]):
        self.entries = list(entries)
        self.all = (1 << len(self.entries)) - 1
        self._postings: dict[str, int] = {}
        self._weights: dict[str, dict[int, float]] = {}
        self._facets: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        self._groups: dict[str, int] = {}
        for i, entry in enumerate(self.entries):
            bit = 1 << i
            fields = {"title": entry.title, "keywords": " ".join(entry.keywords),
                      "publisher": entry.publisher.name, "description": entry.description}
            for name, weight in _WEIGHTS:
                for word in words(fields[name]):
                    self._postings[word] = self._postings.get(word, 0) | bit
                    per_entry = self._weights.setdefault(word, {})
                    per_entry[i] = max(per_entry.get(i, 0.0), weight)
            for group in entry.groups:
                self._groups[group] = self._groups.get(group, 0) | bit
            for facet, values in facet_values(entry).items():
                table = self._facets[facet]
                for value in values:
                    table[value] = table.get(value, 0) | bit
        self._vocabulary = sorted(self._postings)
        self._prefixes: dict[str, int] = {}
        for word, mask in self._postings.items():
            for n in range(1, min(SHORT_PREFIX, len(word) - 1) + 1):
                self._prefixes[word[:n]] = self._prefixes.get(word[:n], 0) | mask
        self._title_keys = [" ".join(words(e.title)) for e in self.entries]
        self._by_title = sorted(range(len(self.entries)), key=lambda i: (self._title_keys[i], i))

    # --- query ------------------------------------------------------------------------
    def _expand(self, word: str, most: int | None = None) -> list[str]:
        """The vocabulary's words that start with ``word`` (the first ``most`` of them)."""
        start = bisect.bisect_left(self._vocabulary, word)
        end = bisect.bisect_left(self._vocabulary, word + "\U0010ffff")
        return self._vocabulary[start:end if most is None else min(end, start + most)]

    def _prefix_mask(self, word: str, matches: list[str]) -> int:
        if len(word) <= SHORT_PREFIX:
            return self._prefixes.get(word, 0) | self._postings.get(word, 0)
        union = 0
        for term in matches:
            union |= self._postings[term]
        return union

    def _match(self, query: str) -> tuple[int, list[list[str]]]:
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError("q", f"is {len(query)} characters long; at most {MAX_QUERY_CHARS} are searched")
        terms = words(query)
        if len(terms) > MAX_QUERY_WORDS:
            raise QueryError("q", f"has {len(terms)} words; at most {MAX_QUERY_WORDS} are searched")
        mask, expanded = self.all, []
        for n, word in enumerate(terms):
            if n == len(terms) - 1:  # search as you type
                matches = self._expand(word) if len(word) > SHORT_PREFIX else self._expand(word, RANKED_EXPANSION)
                mask &= self._prefix_mask(word, matches)
            else:
                matches = [word]
                mask &= self._postings.get(word, 0)
            expanded.append(matches[:RANKED_EXPANSION])
            if not mask:
                break
        return mask, expanded

    def _filter(self, filters: Mapping[str, Sequence[str]]) -> int:
        mask = self.all
        for facet, wanted in filters.items():
            if facet not in self._facets:
                raise QueryError(facet, f"is not a facet (facets: {', '.join(FACETS)})")
            union = 0
            for value in wanted:
                union |= self._facets[facet].get(value, 0)
            mask &= union
        return mask

    def _score(self, i: int, expanded: list[list[str]]) -> float:
        n = len(self.entries)
        score = 0.0
        for matches in expanded:
            best = 0.0
            for term in matches:
                per_entry = self._weights.get(term)
                weight = per_entry.get(i) if per_entry else None
                if weight:
                    best = max(best, weight * math.log(1 + n / len(per_entry)))
            score += best
        return score

    def search(self, query: str = "", filters: Mapping[str, Sequence[str]] | None = None,
               within: int | None = None, limit: int = 20, offset: int = 0) -> Results:
        """Entries matching every word of ``query`` and, per facet, one of the wanted values;
        ``within`` (a bitset, e.g. ``usable_by``) limits the search to those entries."""
        found, expanded = self._match(query) if query.strip() else (self.all, [])
        if within is not None:
            found &= within
        filtered = found & self._filter(filters or {})
        facets = {facet: {value: count for value, bits in sorted(table.items())
                          if (count := (filtered & bits).bit_count())}
                  for facet, table in self._facets.items()}
        want = offset + limit
        if expanded:
            scored = heapq.nsmallest(want, ((-self._score(i, expanded), self._title_keys[i], i)
                                            for i in _bits(filtered)))
            page = [i for _, _, i in scored[offset:]]
        elif filtered == self.all:
            page = self._by_title[offset:want]
        else:
            members = set(_bits(filtered))
            page = [i for i in self._by_title if i in members][offset:want]
        return Results(filtered.bit_count(), page, facets)

    def usable_by(self, groups: frozenset[str], everything: bool = False) -> int:
        """Bitset of the entries a hub user in ``groups`` may use (all of them for a steward)."""
        if everything:
            return self.all
        mask = self._facets["access"].get("open", 0) | self._facets["access"].get("registered", 0)
        for group in groups:
            mask |= self._groups.get(group, 0)
        return mask
