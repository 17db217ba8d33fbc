"""The documentation checklist each AI-Act outcome requires, read from checklist.yaml.

``items`` holds every item once; ``categories`` lists the items of each risk category and
``flags`` the items an answer adds on top (a chatbot's disclosure, a model's systemic-risk
duties). The data is checked when read: every category present, every reference an item.
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, model_validator

from .assessment import CATEGORIES, KEY, ChecklistItem, Value

CHECKLIST_FILE = Path(__file__).with_name("checklist.yaml")


class DataError(ValueError):
    """The questionnaire's or the checklist's data is inconsistent: a packaging bug, named precisely."""


class ItemText(Value):
    """An item as the data file writes it (its id is the key)."""

    title: str = Field(min_length=1, max_length=200)
    article: str = Field(min_length=1, max_length=200)
    detail: str = Field(min_length=1, max_length=2000)


class FlagGroup(Value):
    """The items one obligation flag adds, and how the record names the flag."""

    label: str = Field(min_length=1, max_length=200)
    items: tuple[str, ...] = Field(min_length=1)


class Checklist(Value):
    """Every checklist item, and which of them each category and each flag requires."""

    items: dict[str, ItemText]
    categories: dict[str, tuple[str, ...]]
    flags: dict[str, FlagGroup]

    @model_validator(mode="after")
    def _consistent(self) -> Checklist:
        problems = [f"items: {key!r} is not a valid id" for key in [*self.items, *self.flags]
                    if not _is_key(key)]
        if set(self.categories) != set(CATEGORIES):
            problems.append(f"categories: must be exactly {', '.join(CATEGORIES)}; has {', '.join(self.categories)}")
        for where, ids in [*((f"categories.{c}", ids) for c, ids in self.categories.items()),
                           *((f"flags.{f}.items", g.items) for f, g in self.flags.items())]:
            problems += [f"{where}: {item!r} is not in items" for item in ids if item not in self.items]
            if not ids and where.startswith("categories"):
                problems.append(f"{where}: lists no item")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def item(self, item_id: str) -> ChecklistItem:
        """The item ``item_id`` with its id."""
        return ChecklistItem(id=item_id, **self.items[item_id].model_dump())

    def items_for(self, category: str, flags: tuple[str, ...]) -> tuple[ChecklistItem, ...]:
        """The category's items, then each flag's, in order, each item once."""
        ids = [*self.categories[category], *(item for flag in flags for item in self.flags[flag].items)]
        return tuple(self.item(item_id) for item_id in dict.fromkeys(ids))

    def flag_label(self, flag: str) -> str:
        """How a record names an obligation flag, e.g. 'Interacts directly with people (Art. 50(1))'."""
        return self.flags[flag].label


def _is_key(value: str) -> bool:
    return re.fullmatch(KEY, value) is not None


def parse_checklist(text: str, source: str = "checklist.yaml") -> Checklist:
    """A checklist from its YAML text; :class:`DataError` naming the file and every problem."""
    try:
        return Checklist.model_validate(yaml.safe_load(text))
    except (ValidationError, yaml.YAMLError) as err:
        raise DataError(f"{source}: {err}") from None


@functools.cache
def packaged_checklist() -> Checklist:
    """The checklist shipped with FactoryHub (read once)."""
    return parse_checklist(CHECKLIST_FILE.read_text(encoding="utf-8"), str(CHECKLIST_FILE))
