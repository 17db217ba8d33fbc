"""Slurm host lists ('gpu[01-03,07],cpu1') as sets of node names, as scontrol prints them."""
from __future__ import annotations

import re

MAX_HOSTS = 10_000  # more than any site's nodes: a list naming more is a mistake, not a cluster
_BRACKET = re.compile(r"\[([^\[\]]*)\]")


def _numbers(ranges: str, item: str) -> list[str]:
    """'01-03,07' -> ['01', '02', '03', '07'] (zero padding kept)."""
    found: list[str] = []
    for part in ranges.split(","):
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()) or int(last or first) < int(first):
            raise ValueError(f"{item!r} is not a Slurm host range")
        if int(last or first) - int(first) + len(found) >= MAX_HOSTS:
            raise ValueError(f"{item[:60]!r} names more than {MAX_HOSTS} nodes")
        found.extend(f"{n:0{len(first)}d}" for n in range(int(first), int(last or first) + 1))
    return found


def _expand(item: str) -> list[str]:
    """One name with any number of bracketed ranges: 'r[1-2]n[1-2]' -> r1n1, r1n2, r2n1, r2n2."""
    match = _BRACKET.search(item)
    if match is None:
        if "[" in item or "]" in item:
            raise ValueError(f"{item!r} is not a Slurm host list")
        return [item]
    heads = [item[:match.start()] + n for n in _numbers(match[1], item)]
    tails = _expand(item[match.end():])
    if len(heads) * len(tails) > MAX_HOSTS:
        raise ValueError(f"{item[:60]!r} names more than {MAX_HOSTS} nodes")
    return [head + tail for head in heads for tail in tails]


def expand_hostlist(text: str) -> frozenset[str]:
    """'gpu[01-03,07],cpu1' -> {'gpu01', 'gpu02', 'gpu03', 'gpu07', 'cpu1'}; '' and '(null)' -> {};
    ValueError for a malformed list or one naming more than MAX_HOSTS nodes (checked before expanding)."""
    hosts: set[str] = set()
    for item in re.split(r",(?![^\[]*\])", text.strip()):
        if item and item != "(null)":
            hosts.update(_expand(item))
            if len(hosts) > MAX_HOSTS:
                raise ValueError(f"names more than {MAX_HOSTS} nodes")
    return frozenset(hosts)
