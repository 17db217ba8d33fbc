"""Full-text search with facets over the catalogue, in memory.

Entries are numbered 0..n-1; every word and every facet value keeps the set of entries it
occurs in as one Python integer used as a bitset. A query is then a handful of ``&`` and
``|`` on integers, and a facet count is ``(result & value).bit_count()``: constant work per
word and facet value whatever the catalogue's size, and no work per matching entry.

Queries: words are matched case- and accent-insensitively after Unicode normalisation; every
word must occur (AND) in the title, keywords, description or publisher; the last word also
matches as a prefix (search as you type; prefixes of up to three letters have their own
bitsets, longer ones expand to the few words they start).

Ranking is by tiers, computed with the same bitsets: entries with every word in the title
first, then those with every word in the title or keywords, then the rest; each tier in title
order. (Scoring each hit by term weights cost per hit and per prefix completion: 180 ms for a
one-letter prefix at 10,000 entries; the tiers cost the same for every query.)
"""
from __future__ import annotations

import bisect
import re
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .entries import Entry

FACETS = ("kind", "access", "theme", "licence", "format")
MAX_QUERY_CHARS = 500
MAX_QUERY_WORDS = 20
SHORT_PREFIX = 3  # prefixes up to this length are precomputed bitsets: exact, whatever the vocabulary
_WORD = re.compile(r"\w+")


class QueryError(ValueError):
    """A query this index refuses (names the parameter and the reason)."""

    def __init__(self, field: str, reason: str):
        super().__init__(f"{field}: {reason}")
        self.field, self.reason = field, reason




def _marks_pattern() -> re.Pattern:
    """A character class of the Basic Multilingual Plane's combining marks (accents), as ranges."""
    ranges, start, previous = [], None, None
    for code in range(0x10000):
        if unicodedata.combining(chr(code)):
            if start is None:
                start = code
            previous = code
        elif start is not None:
            ranges.append(f"\\u{start:04x}-\\u{previous:04x}" if previous > start else f"\\u{start:04x}")
            start = None
    return re.compile("[" + "".join(ranges) + "]")


_MARKS = _marks_pattern()  # removed in one C pass by re.sub


def words(text: str) -> list[str]:
    """Normalised words: NFKD, accents dropped, case-folded (so 'Météo' finds 'meteo')."""
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return _WORD.findall(text.casefold())


def facet_values(entry: Entry) -> dict[str, tuple[str, ...]]:
    """The values ``entry`` counts under in each search facet (kind, access, theme, licence, format)."""
    return {"kind": (entry.kind,), "access": (entry.access,), "theme": entry.themes,
            "licence": (entry.licence,), "format": entry.formats}


@dataclass(frozen=True)
class Results:
    """One page of search hits: the total, the page's entry positions best first, and the facet counts."""
    total: int
    ids: list[int]  # positions of the page's entries, best first
    facets: dict[str, dict[str, int]]


def _bits(mask: int):
    """Positions of the set bits, lowest first."""
    text = bin(mask)[:1:-1]
    return (m.start() for m in re.finditer("1", text))


def _bitset(positions: list[int], size: int) -> int:
    """The integer whose set bits are ``positions`` (built in one go: OR-ing bit by bit into
    a growing integer copies it every time)."""
    bitmap = bytearray((size + 7) // 8)
    for i in positions:
        bitmap[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(bitmap, "little")


class _Words:
    """Word -> bitset of the entries it occurs in (in one field, or in any), with prefix lookup."""

    def __init__(self, short_prefixes: bool):
        self.masks: dict[str, int] = {}
        self.short_prefixes = short_prefixes
        self._positions: defaultdict[str, list[int]] = defaultdict(list)
        self._prefixes: dict[str, int] = {}
        self._vocabulary: list[str] = []

    def add(self, found: set[str], position: int) -> None:
        positions = self._positions
        for word in found:
            positions[word].append(position)

    def freeze(self, size: int) -> None:
        self.masks = {word: _bitset(positions, size) for word, positions in self._positions.items()}
        self._vocabulary = sorted(self.masks)
        if self.short_prefixes:
            grouped: dict[str, list[int]] = {}
            for word, positions in self._positions.items():
                for n in range(1, min(SHORT_PREFIX, len(word) - 1) + 1):
                    grouped.setdefault(word[:n], []).extend(positions)
            self._prefixes = {prefix: _bitset(positions, size) for prefix, positions in grouped.items()}
        self._positions = defaultdict(list)

    def exact(self, word: str) -> int:
        return self.masks.get(word, 0)

    def prefix(self, word: str) -> int:
        """Entries with a word starting with ``word``."""
        if self.short_prefixes and len(word) <= SHORT_PREFIX:
            return self._prefixes.get(word, 0) | self.masks.get(word, 0)
        start = bisect.bisect_left(self._vocabulary, word)
        end = bisect.bisect_left(self._vocabulary, word + "\U0010ffff")
        union = 0
        for term in self._vocabulary[start:end]:
            union |= self.masks[term]
        return union


class SearchIndex:
    """The in-memory full-text and facet index over a catalogue snapshot's entries."""
    def __init__(self, entries: Sequence[Entry], previous: SearchIndex | None = None):
        """``previous``: an index of an earlier snapshot; the words of entries it holds (the same
        objects: the loader keeps unchanged files' entries) are not normalised again."""
        self.entries = list(entries)
        known = previous._words_by_entry if previous is not None else {}
        self._words_by_entry: dict[int, tuple[Entry, set[str], set[str], set[str]]] = {}
        self.all = (1 << len(self.entries)) - 1
        self._anywhere, self._title, self._keywords = _Words(True), _Words(False), _Words(False)
        self._facets: dict[str, dict[str, int]] = {facet: {} for facet in FACETS}
        self._groups: dict[str, int] = {}
        for i, entry in enumerate(self.entries):
            bit = 1 << i
            cached = known.get(id(entry))
            if cached is None or cached[0] is not entry:
                title, keywords = set(words(entry.title)), set(words(" ".join(entry.keywords)))
                cached = (entry, title, keywords, title | keywords | set(words(f"{entry.publisher.name} "
                                                                                 f"{entry.description}")))
            self._words_by_entry[id(entry)] = cached
            _, title, keywords, anywhere = cached
            self._title.add(title, i)
            self._keywords.add(keywords, i)
            self._anywhere.add(anywhere, i)
            for group in entry.groups:
                self._groups[group] = self._groups.get(group, 0) | bit
            for facet, values in facet_values(entry).items():
                table = self._facets[facet]
                for value in values:
                    table[value] = table.get(value, 0) | bit
        for table in (self._anywhere, self._title, self._keywords):
            table.freeze(len(self.entries))
        self._title_keys = [" ".join(words(e.title)) for e in self.entries]
        self._by_title = sorted(range(len(self.entries)), key=lambda i: (self._title_keys[i], i))

    # --- query ------------------------------------------------------------------------
    def _match(self, query: str) -> tuple[int, list[int]]:
        """(entries with every word, ranking tiers as bitsets best first)."""
        if len(query) > MAX_QUERY_CHARS:
            raise QueryError("q", f"is {len(query)} characters long; at most {MAX_QUERY_CHARS} are searched")
        terms = words(query)
        if len(terms) > MAX_QUERY_WORDS:
            raise QueryError("q", f"has {len(terms)} words; at most {MAX_QUERY_WORDS} are searched")
        found = in_title = in_head = self.all
        for n, word in enumerate(terms):
            look = _Words.prefix if n == len(terms) - 1 else _Words.exact  # search as you type
            found &= look(self._anywhere, word)
            if not found:
                return 0, []
            title = look(self._title, word)
            in_title &= title
            in_head &= title | look(self._keywords, word)
        in_title &= found
        in_head &= found
        return found, [in_title, in_head & ~in_title, found & ~in_head]

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

    def _page(self, tiers: list[int], offset: int, limit: int) -> list[int]:
        """Positions ``offset`` to ``offset + limit`` of the tiers, each tier in title order."""
        page: list[int] = []
        for tier in tiers:
            size = tier.bit_count()
            if offset >= size:
                offset -= size
                continue
            if tier == self.all:
                ordered = self._by_title
            else:
                members = set(_bits(tier))
                ordered = [i for i in self._by_title if i in members]
            page += ordered[offset:offset + limit - len(page)]
            offset = 0
            if len(page) >= limit:
                break
        return page

    def search(self, query: str = "", filters: Mapping[str, Sequence[str]] | None = None,
               within: int | None = None, limit: int = 20, offset: int = 0) -> Results:
        """Entries matching every word of ``query`` and, per facet, one of the wanted values;
        ``within`` (a bitset, e.g. ``usable_by``) limits the search to those entries."""
        found, tiers = self._match(query) if query.strip() else (self.all, [self.all])
        keep = self._filter(filters or {}) & (self.all if within is None else within)
        filtered = found & keep
        facets = {facet: {value: count for value, bits in sorted(table.items())
                          if (count := (filtered & bits).bit_count())}
                  for facet, table in self._facets.items()}
        page = self._page([tier & keep for tier in tiers], offset, limit) if filtered else []
        return Results(filtered.bit_count(), page, facets)

    def usable_by(self, groups: frozenset[str], everything: bool = False) -> int:
        """Bitset of the entries a hub user in ``groups`` may use (all of them for a steward)."""
        if everything:
            return self.all
        mask = self._facets["access"].get("open", 0) | self._facets["access"].get("registered", 0)
        for group in groups:
            mask |= self._groups.get(group, 0)
        return mask
