"""The desk: the bot's use cases, from an intent and an actor to a ``Reply`` (plain data).

``core.py`` holds the ``Desk`` (entry points, the intent → use case table, shared plumbing);
``lookups.py`` the read-only use cases, ``writes.py`` the writes on one customer and the write
path (fresh re-read, write-ahead trail, write, settle), ``approvals.py`` the wholesale
approvals, ``search.py`` ``find``; ``cards.py`` builds the Cards, ``problems.py`` words the
errors, ``wording.py`` holds the sentences. The names other code imports from ``bot.desk`` are
re-exported here.
"""

from ..store.errors import UnknownGroup
from ..writeahead import failure
from .cards import help_reply
from .core import Desk
from .problems import Missing, Refused, WriteInDoubt, group_problem, store_problem
from .wording import display_name
from .writes import UNDOABLE, WriteOutcome

__all__ = [
    "Desk", "UnknownGroup", "store_problem", "help_reply", "display_name", "UNDOABLE", "Missing", "Refused",
    "WriteInDoubt", "WriteOutcome", "group_problem", "failure",
]
