"""How a typed group name is read: an ID (``5`` or ``#5``), a word meaning "no group", or a name
matched by prefix, substring or likeness.

Pure functions over ``CustomerGroup`` lists, used by ``CustomerService.resolve_group`` and
``search_groups`` (``service.py``), which fetch the groups and raise the typed errors.
"""

from __future__ import annotations

import difflib

from .models import RETAIL, CustomerGroup

RETAIL_WORDS = ("retail", "none", "no group", RETAIL.name.lower())
"""What a user may type to mean "no group" (``CustomerGroupID`` 0)."""
CANDIDATES = 10


def parse_group_id(text: str) -> int | None:
    """A group id as typed (``5`` or ``#5``): plain ASCII digits only — ``²`` is a digit to
    ``str.isdigit`` but not to ``int``."""
    digits = text.lstrip("#")
    if digits.isascii() and digits.isdigit() and len(digits) <= 18:
        return int(digits)
    return None


def names_of(group: CustomerGroup) -> list[str]:
    names = [group.name.strip().lower()]
    return names + list(RETAIL_WORDS) if group.id == RETAIL.id else names


def nearest_groups(needle: str, groups: list[CustomerGroup]) -> list[CustomerGroup]:
    """Up to ``CANDIDATES`` groups, the names most like ``needle`` first."""
    def likeness(group: CustomerGroup) -> float:
        return difflib.SequenceMatcher(None, needle, group.name.strip().lower()).ratio()
    return sorted(groups, key=likeness, reverse=True)[:CANDIDATES]
