"""The bot's local state, kept for the modules that import it from here: see ``bot/state/``.

``Database(data_dir)`` is the SQLite file in ``DATA_DIR``; ``Database(url=...)`` PostgreSQL.
"""

from __future__ import annotations

from .state.engine import DB_FILE, Database
from .state.seen import SeenKeys

__all__ = ["DB_FILE", "Database", "SeenKeys"]
